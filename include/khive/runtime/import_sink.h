#pragma once
// What bulk import and export reach of a Runtime (khive/runtime/transfer.h): the narrow
// interfaces the importers (JSONL, WordNet) and the exporter are written against, so they
// need none of the Runtime's units beyond these. Both are views over the runtime that made
// them (Runtime::importSink(), Runtime::exportSource()) and must not outlive it.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "khive/core/records.h"
#include "khive/retrieval/embedding.h"
#include "khive/runtime/runtime.h"
#include "khive/storage/backend.h"

namespace khive::runtime {

class AuditLog;
class Indexing;
class Policy;

// Where imported records go. Every record an importer writes is admitted first: admit() fills
// in the write namespace for a record without one, validates it like the verbs do
// (vocabulary, endpoint rules, ranges, [limits]) and checks the caller's "import" grant in its
// namespace, throwing Error (InvalidInput, PermissionDenied) otherwise. The importer then
// writes batches to stores() in units of work of its own.
//
// Thread-safe: admit(), substrateOf() and the accessors may run on any thread; the stores are
// the backend's (thread-safe).
class ImportSink {
 public:
  ImportSink(storage::Backend& backend, const Policy& policy, const AuditLog& audit, Indexing& indexing) noexcept
      : backend_(backend), policy_(policy), audit_(audit), indexing_(indexing) {}

  // The namespace of a record that names none.
  const std::string& writeNamespace() const noexcept;
  // The [limits] in force (max_import_line_bytes and the record limits admit() applies).
  const Limits& limits() const noexcept;
  // True when records get a text document (the backend has text search).
  bool hasText() const noexcept;

  // Throws Error(PermissionDenied) unless the caller may import into `ns`.
  void checkGrant(std::string_view ns) const;
  void admit(Entity& e) const;
  void admit(Note& n) const;
  void admit(Event& e) const;
  // `sourceType`, `targetType`: the substrate of each endpoint ("entity", "note"; "" for none).
  void admit(Edge& e, std::string_view sourceType, std::string_view targetType) const;
  // The substrate of a live entity or note of the caller's read scope, or "".
  std::string substrateOf(const Uuid& id) const;

  // Imported vectors: whether the backend stores vectors, the engines configured, and the
  // dimension engine `name` gives (asking the engine; InvalidInput for an unknown name).
  bool hasVectors() const noexcept;
  const std::vector<retrieval::EngineSpec>& engineSpecs() const noexcept;
  int engineDimension(std::string_view name) const;
  // The backend's engine name, for messages.
  const std::string& backendName() const noexcept;

  // The stores the importer writes to.
  storage::Backend& stores() const noexcept { return backend_; }

  // Appends the import's "import" event (kind: the format) in the write namespace. Never
  // throws Error for a failed append of an error-outcome event.
  void recordImport(std::string_view kind, Outcome outcome, Json payload, std::chrono::steady_clock::duration took) const;

 private:
  storage::Backend& backend_;
  const Policy& policy_;
  const AuditLog& audit_;
  Indexing& indexing_;
};

// What export reads: every record of the caller's read scope.
//
// Thread-safe, as the backend is.
class ExportSource {
 public:
  ExportSource(storage::Backend& backend, const Policy& policy, const Indexing& indexing) noexcept
      : backend_(backend), policy_(policy), indexing_(indexing) {}

  // The namespaces whose records are exported.
  const std::vector<std::string>& namespaces() const noexcept;
  // True when the backend stores vectors (export then writes each record's vectors).
  bool hasVectors() const noexcept;
  // The stores the exporter reads.
  storage::Backend& stores() const noexcept { return backend_; }

 private:
  storage::Backend& backend_;
  const Policy& policy_;
  const Indexing& indexing_;
};

}  // namespace khive::runtime
