#pragma once
// The SQLite implementations of the three retrieval capabilities: FTS5 text search, dense
// vectors (canonical rows in SQLite, FAISS index derived from them) and sparse vectors.

#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <utility>

#include "backends/sqlite/database.h"
#include "khive/storage/text_search.h"
#include "khive/storage/vector_store.h"

namespace khive::sqlite {

class VectorSpaceIndex;

// Thread-safe: holds only a reference to the Database.
class SqliteTextSearch final : public storage::TextSearch {
 public:
  explicit SqliteTextSearch(Database& db) : db_(db) {}
  void upsertDocument(const storage::TextDocument& doc) override;
  storage::BatchWriteSummary upsertDocuments(std::span<const storage::TextDocument> docs) override;
  bool deleteDocument(const Uuid& subjectId) override;
  std::optional<storage::TextDocument> getDocument(const Uuid& subjectId) override;
  std::vector<storage::TextHit> searchText(const storage::TextQuery& query) override;
  std::int64_t countDocuments(std::span<const std::string> namespaces) override;
  std::int64_t countLiveDocuments(std::span<const std::string> namespaces) override;
  storage::TextStats textStats() override;
  void rebuildText() override;

 private:
  Database& db_;
};

// Thread-safe. Writes go to SQLite only; each (model, field) has an in-memory FAISS index
// (VectorSpaceIndex) that catches up from the vector_changes log when a search finds it behind,
// so writes by other processes and by the hard-delete triggers are seen as well.
class SqliteVectorStore final : public storage::VectorStore {
 public:
  explicit SqliteVectorStore(Database& db);
  ~SqliteVectorStore() override;
  storage::VectorCapabilities capabilities() override;
  void insertVector(const storage::VectorRecord& record) override;
  storage::BatchWriteSummary insertVectors(std::span<const storage::VectorRecord> records) override;
  std::int64_t deleteVectors(const Uuid& subjectId) override;
  std::int64_t countVectors(const std::string& model, std::span<const std::string> namespaces) override;
  std::int64_t countLiveVectors(const std::string& model, std::span<const std::string> namespaces) override;
  std::vector<storage::VectorHit> searchVectors(const storage::VectorSearchRequest& request) override;
  std::vector<storage::VectorRecord> vectorsOf(std::span<const Uuid> subjects) override;
  std::vector<storage::VectorIndexInfo> vectorInfo() override;
  void rebuildVectorIndex(const std::string& model) override;
  // Catches up (or loads, or builds) each field's index of the model and saves its file.
  void prepareVectorIndex(const std::string& model) override;
  // The in-memory index of (model, field), or nullptr when none was made yet. For tests and
  // diagnostics (how searches were answered).
  const VectorSpaceIndex* spaceIndex(const std::string& model, const std::string& field);

 private:
  void insertOne(Conn& conn, const storage::VectorRecord& record);
  VectorSpaceIndex& space(const std::string& model, const std::string& field, int dims);

  Database& db_;
  std::mutex mu_;
  // guarded by mu_ (the map; each index has its own lock). Entries are never removed, so a
  // reference stays valid for the store's lifetime.
  std::map<std::pair<std::string, std::string>, std::unique_ptr<VectorSpaceIndex>> spaces_;
};

// Thread-safe: holds only a reference to the Database.
class SqliteSparseStore final : public storage::SparseStore {
 public:
  explicit SqliteSparseStore(Database& db) : db_(db) {}
  void insertSparse(const storage::SparseRecord& record) override;
  storage::BatchWriteSummary insertSparseBatch(std::span<const storage::SparseRecord> records) override;
  std::int64_t deleteSparse(const Uuid& subjectId) override;
  std::int64_t countSparse(const std::string& model, std::span<const std::string> namespaces) override;
  std::vector<storage::VectorHit> searchSparse(const storage::SparseSearchRequest& request) override;

 private:
  void insertOne(Conn& conn, const storage::SparseRecord& record);
  Database& db_;
};

}  // namespace khive::sqlite
