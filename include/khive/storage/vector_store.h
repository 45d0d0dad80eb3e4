#pragma once
// VectorStore (dense, cosine) and SparseStore (sparse, dot product).

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "khive/core/records.h"
#include "khive/storage/types.h"

namespace khive::storage {

// One embedding of one field of a subject (entity or note) by one model.
struct VectorRecord {
  Uuid subjectId;
  std::string ns;
  std::string kind;              // the subject's kind, for filtering
  std::string model;             // embedding model name; fixes the dimension
  std::string field = "text";    // which field was embedded
  std::vector<float> values;     // finite; dimension fixed per model
  Json properties = Json::object();  // filterable attributes of the subject
};

struct VectorSearchRequest {
  std::vector<float> query;
  std::string model;
  std::string field = "text";
  std::int64_t topK = 10;  // 1..10,000
  std::vector<std::string> namespaces;  // required
  std::vector<std::string> kinds;
  std::vector<PropertyPredicate> properties;
};

struct VectorHit {
  Uuid subjectId;
  std::string ns;
  std::string kind;
  double score = 0;  // cosine similarity mapped to [0,1]: (1 + cos) / 2
  int rank = 0;      // 1-based
};

struct VectorIndexInfo {
  std::string model;
  std::string field;
  int dims = 0;
  std::int64_t count = 0;
  std::string indexKind;  // "flat", "hnsw", "none"
  bool stale = false;
};

struct VectorCapabilities {
  bool supportsFilter = false;
  std::vector<std::string> indexKinds;
  int maxDims = 0;
  std::string metric = "cosine";
};

// Thread-safe. Search applies every filter inside the search: when at least topK stored
// vectors match the filter, exactly topK hits come back, none outside the filter.
class VectorStore {
 public:
  virtual ~VectorStore() = default;
  virtual VectorCapabilities capabilities() = 0;
  // Replaces the subject's vector for (model, field). InvalidInput on a dimension that differs
  // from the model's, an empty vector or a non-finite value.
  virtual void insertVector(const VectorRecord& record) = 0;
  virtual BatchWriteSummary insertVectors(std::span<const VectorRecord> records) = 0;
  // Removes every vector of the subject (all models and fields); returns how many.
  virtual std::int64_t deleteVectors(const Uuid& subjectId) = 0;
  virtual std::int64_t countVectors(const std::string& model, std::span<const std::string> namespaces) = 0;
  // Like countVectors, but only the vectors of live subjects: entities and notes that exist and
  // are not soft-deleted. Soft delete keeps a record's vectors (retrieval drops the subject when
  // it fuses), so countVectors - countLiveVectors is what the store holds for no live record.
  virtual std::int64_t countLiveVectors(const std::string& model, std::span<const std::string> namespaces) = 0;
  virtual std::vector<VectorHit> searchVectors(const VectorSearchRequest& request) = 0;
  // Every stored vector (all models and fields) of these subjects, ordered by subject, model
  // and field. For export; at most 10,000 subjects per call.
  virtual std::vector<VectorRecord> vectorsOf(std::span<const Uuid> subjects) = 0;
  virtual std::vector<VectorIndexInfo> vectorInfo() = 0;
  virtual void rebuildVectorIndex(const std::string& model) = 0;
  // Brings the search index of the model's vectors up to date with the stored vectors and
  // persists it, so the next process's first search need not build it. Does nothing where the
  // index lives in the database server (pgvector keeps its HNSW index itself).
  virtual void prepareVectorIndex(const std::string& /*model*/) {}
};

struct SparseVector {
  std::vector<std::uint32_t> indices;
  std::vector<float> values;
};

struct SparseRecord {
  Uuid subjectId;
  std::string ns;
  std::string kind;
  std::string model;
  SparseVector vector;
};

struct SparseSearchRequest {
  SparseVector query;
  std::string model;
  std::int64_t topK = 10;
  std::vector<std::string> namespaces;  // required
  std::vector<std::string> kinds;
};

// Thread-safe.
class SparseStore {
 public:
  virtual ~SparseStore() = default;
  virtual void insertSparse(const SparseRecord& record) = 0;
  virtual BatchWriteSummary insertSparseBatch(std::span<const SparseRecord> records) = 0;
  virtual std::int64_t deleteSparse(const Uuid& subjectId) = 0;
  virtual std::int64_t countSparse(const std::string& model, std::span<const std::string> namespaces) = 0;
  // Hits scored by dot product, normalised into [0,1] by the best hit.
  virtual std::vector<VectorHit> searchSparse(const SparseSearchRequest& request) = 0;
};

}  // namespace khive::storage
