#pragma once
// The indexing unit of a Runtime: the derived indexes of entities and notes, written beside
// every record a verb writes, and rebuilt by `reindex`.
//
// - Text: a search document per entity and note when the backend has the text capability.
// - Vectors: the embedding engines of [[engines]] (built on first use; a fastText model is
//   loaded then), the vector a write stores with the default engine, and reindex.
//
// Thread-safe: the engines are built under a mutex; the rest is constant after construction
// and writes through the thread-safe backend.

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "khive/retrieval/embedding.h"
#include "khive/runtime/runtime.h"

namespace khive::runtime {

class AuditLog;
class Policy;

class Indexing {
 public:
  // `info` is the backend's (its capabilities and engine name). The backend, the policy and
  // the audit log must outlive the unit.
  Indexing(storage::Backend& backend, const storage::BackendInfo& info, const Policy& policy, const AuditLog& audit,
           std::vector<retrieval::EngineSpec> engines);
  Indexing(const Indexing&) = delete;
  Indexing& operator=(const Indexing&) = delete;

  // True when the backend's text capability is supported (search documents are written).
  bool hasText() const noexcept { return hasText_; }
  // True when the backend's vector capability is supported.
  bool hasVectors() const noexcept { return hasVectors_; }
  // The backend's engine name, for messages ("the ... backend has no vector capability").
  const std::string& backendName() const noexcept { return backendName_; }

  // Embedding engines ([[engines]]). The default is the entry with `default = true`, else the
  // first; nullptr when none is configured. InvalidInput for an unknown name, listing the
  // configured ones.
  const std::vector<retrieval::EngineSpec>& engineSpecs() const noexcept { return specs_; }
  retrieval::EmbeddingEngine* defaultEngine();
  retrieval::EmbeddingEngine& embeddingEngine(std::string_view name);

  // The vector to store for a record whose embedding text is `text`, or nullopt (no engine,
  // embed_on_write off, no vector capability, or a zero vector). Called before the record is
  // written: an engine failure throws with nothing written.
  std::optional<std::vector<float>> vectorForWrite(const std::string& text);
  // Writes a stored record's text document (when the backend has text search) and, when given,
  // its vector under the default engine.
  void index(const Entity& e, std::optional<std::vector<float>> vector = std::nullopt);
  void index(const Note& n, std::optional<std::vector<float>> vector = std::nullopt);

  // What to tell the user when the store holds vectors under `engine`'s name whose dimension
  // is not `dims` (the model behind the name changed), or nullopt when they agree.
  std::optional<std::string> storedDimensionClash(const std::string& engine, int dims);

  // Runtime::reindex.
  ReindexSummary reindex(const ReindexRequest& req);

 private:
  void storeVector(const Uuid& id, const std::string& ns, const std::string& kind, const Json& properties,
                   std::vector<float> values);

  // Constant after construction.
  storage::Backend& backend_;
  const Policy& policy_;
  const AuditLog& audit_;
  const std::vector<retrieval::EngineSpec> specs_;
  bool hasText_ = false;
  bool hasVectors_ = false;
  std::string backendName_;

  std::mutex enginesMu_;
  std::map<std::string, std::unique_ptr<retrieval::EmbeddingEngine>, std::less<>> engines_;  // guarded by enginesMu_
};

}  // namespace khive::runtime
