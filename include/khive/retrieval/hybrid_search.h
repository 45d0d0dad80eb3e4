#pragma once
// Hybrid search over a storage backend: runs the text, dense-vector and sparse-vector searches
// the query asks for, fuses them (fusion.h), drops subjects that are deleted or superseded,
// and returns the top k with each signal's rank. See docs/architecture.md.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "khive/core/records.h"
#include "khive/retrieval/fusion.h"
#include "khive/storage/backend.h"

namespace khive::retrieval {

enum class Scope { Mixed, Entities, Notes };
enum class SubjectType { Entity, Note };

struct HybridQuery {
  // Text signal: runs when text holds anything but white space.
  std::string text;
  storage::TextMode textMode = storage::TextMode::AnyTerm;
  // Dense signal: runs when vector is non-empty (the caller or an embedding engine made it).
  std::vector<float> vector;
  std::string vectorModel;
  std::string vectorField = "text";
  std::vector<storage::PropertyPredicate> vectorProperties;  // filters inside the vector search
  // Sparse signal: runs when sparse has terms.
  storage::SparseVector sparse;
  std::string sparseModel;

  std::vector<std::string> namespaces;  // required
  std::vector<std::string> kinds;       // empty = any
  Scope scope = Scope::Mixed;
  std::int64_t topK = 10;                // 1..1,000
  // Candidates fetched per signal before fusion; 0 = max(50, 5 * topK). Grown automatically
  // when dropping deleted/superseded/out-of-scope subjects leaves fewer than topK.
  std::int64_t candidates = 0;
  FusionOptions fusion;
  bool includeSuperseded = false;
  bool snippets = false;
};

struct HybridHit {
  Uuid subjectId;
  SubjectType subjectType = SubjectType::Entity;
  std::string ns;
  std::string kind;
  std::string title;   // entity name, note name (or "")
  double score = 0;    // fused, in [0,1]
  int rank = 0;        // 1-based, after dropping dead subjects
  SignalRanks signals; // each signal's rank among its own candidates (before dropping)
  std::optional<std::string> snippet;
};

// Thread-safe when the backend is (every storage backend is): holds only a reference.
class HybridSearch {
 public:
  explicit HybridSearch(storage::Backend& backend) : backend_(backend) {}

  // InvalidInput when no signal can run (no text, vector or sparse input, or the input of a
  // single-signal strategy is missing), for a topK outside 1..1,000 or no namespaces.
  // Errors of the stores (e.g. Unsupported vectors) propagate.
  std::vector<HybridHit> search(const HybridQuery& query);
  std::vector<HybridHit> searchEntities(HybridQuery query);
  std::vector<HybridHit> searchNotes(HybridQuery query);

 private:
  storage::Backend& backend_;
};

// The text document khive indexes for a record: title = name, body = description/content.
storage::TextDocument textDocumentOf(const Entity& entity);
storage::TextDocument textDocumentOf(const Note& note);

}  // namespace khive::retrieval
