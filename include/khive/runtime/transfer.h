#pragma once
// Bulk transfer: JSONL import/export and the WordNet importer.
//
// JSONL: one record per line, {"type": "entity"|"note"|"edge"|"event", ...fields of codec.h}.
// Records are validated like the verbs (vocabulary, endpoint rules, ranges) and written in
// batches. A record without "namespace" goes to the write namespace. Every line's namespace,
// events included, must be one the importer may write for "import" (ImportSink::admit), and
// an edge's endpoints must be in the read scope or on earlier lines.
//
// Every line is checked like the verbs' input ([limits] of khive.toml included; a line longer
// than max_import_line_bytes is read through without being held) and its id must not be one of
// a record of another type, stored or on an earlier line (Error(Conflict) naming the line).
//
// Failure semantics (tested): a malformed or invalid line stops the import with
// Error(InvalidInput) naming the line (Conflict for an id of another record type, PermissionDenied
// for a namespace the importer may not write); every record on the lines before it is committed
// (the pending batch is flushed first), nothing from that line on is written. A batch that
// fails to write (e.g. an id stored in another namespace) stops the import too: the batches
// before it and the edges of the lines before it are committed, no edge from its lines on
// is, and of the batch itself what the store committed row by row stays. Re-running
// the same file is idempotent: entities, notes and edges are upserts (edges on their natural
// key), events already present are skipped. Records without an "id" get a new one on every
// run, so only files with ids (what `export` writes) re-run without duplicates.
//
// Vectors: an entity or note line may carry its stored vectors, "vectors": [{"engine", "dims",
// "values"}] (runtime/transfer_vectors.h); export writes them unless withVectors is off, and
// import stores them (no reindex needed) after checking that the engine is configured and has
// that dimension (else Error(InvalidInput) naming the line).
//
// The importers and the exporter reach the runtime only through ImportSink and ExportSource
// (khive/runtime/import_sink.h). Not thread-safe with respect to one Runtime's import (use one
// at a time).

#include <cstdint>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <string>

#include "khive/runtime/import_sink.h"
#include "khive/runtime/runtime.h"

namespace khive::runtime {

struct TransferProgress {
  std::int64_t lines = 0;
  std::int64_t records = 0;
  std::int64_t bytes = 0;  // input bytes consumed so far (import)
  std::string stage;       // what runs now when it is not reading input, e.g. "writing edges"
};

struct TransferSummary {
  std::int64_t lines = 0;
  std::int64_t entities = 0, notes = 0, edges = 0, events = 0;
  std::int64_t skippedEvents = 0;  // already present
  std::int64_t textDocuments = 0;
  std::int64_t vectors = 0;  // stored vectors exported or imported
  double seconds = 0;
  std::int64_t records() const { return entities + notes + edges + events; }
};

struct TransferOptions {
  std::size_t batchSize = 40000;
  // Called after every committed batch (and once at the end).
  std::function<void(const TransferProgress&)> progress;
  // Import checks that no line reuses the id of a record of another type. The ids of a table
  // with at most this many rows are read into memory when the import starts; a larger table
  // is asked once per chunk of lines for the chunk's ids.
  std::int64_t idPreloadRows = 100'000;
  // Export: each entity and note line carries its stored vectors.
  bool withVectors = true;
};

TransferSummary importJsonl(const ImportSink& sink, std::istream& in, const TransferOptions& options = {});
inline TransferSummary importJsonl(Runtime& rt, std::istream& in, const TransferOptions& options = {}) {
  return importJsonl(rt.importSink(), in, options);
}
// Writes every entity, note, edge (deleted ones included, so a round trip is exact) and event
// of the read scope, in that order.
TransferSummary exportJsonl(const ExportSource& source, std::ostream& out, const TransferOptions& options = {});
inline TransferSummary exportJsonl(Runtime& rt, std::ostream& out, const TransferOptions& options = {}) {
  return exportJsonl(rt.exportSource(), out, options);
}

// Imports WordNet 3.0 from `dir` (Debian wordnet-base: /usr/share/wordnet) into the write
// namespace: one `concept` per synset (name = first lemma, description = gloss, properties
// wordnet_id "02084071-n", lemmas, lexname, pos), `instance_of` edges to hypernyms (@) and
// instance hypernyms (@i), `part_of` edges from parts, members and substances to their wholes
// (holonym pointers #p #m #s and the inverse meronym pointers %p %m %s), and a text document
// per synset (title = name, body = gloss and lemmas) when the backend has text search.
// Entity ids are derived from the wordnet_id, so a re-run is idempotent.
// Error(NotFound) with the install hint when the data files are missing.
TransferSummary importWordnet(const ImportSink& sink, const std::filesystem::path& dir,
                              const TransferOptions& options = {});
inline TransferSummary importWordnet(Runtime& rt, const std::filesystem::path& dir, const TransferOptions& options = {}) {
  return importWordnet(rt.importSink(), dir, options);
}

// The id importWordnet gives a synset ("02084071-n").
Uuid wordnetEntityId(std::string_view wordnetId);

}  // namespace khive::runtime
