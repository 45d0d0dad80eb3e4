#pragma once
// The PostgreSQL implementations of the storage capabilities. Each is thread-safe: it holds
// only a reference to the Database, whose pool hands every call its own connection.

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>

#include "backends/postgres/database.h"
#include "backends/postgres/sql_build.h"
#include "backends/postgres/staged_write.h"
#include "khive/storage/backend.h"
#include "khive/storage/paging.h"

namespace khive::postgres {

class PgSqlAccess final : public storage::SqlAccess {
 public:
  explicit PgSqlAccess(Database& db) : db_(db) {}
  std::unique_ptr<storage::SqlConnection> reader() override;
  std::unique_ptr<storage::SqlConnection> writer() override;
  std::unique_ptr<storage::SqlTransaction> begin(const storage::TxOptions& options) override;

 private:
  Database& db_;
};

class PgEntityStore final : public storage::EntityStore {
 public:
  explicit PgEntityStore(Database& db) : db_(db) {}
  Entity upsertEntity(const Entity& entity) override;
  storage::BatchWriteSummary upsertEntities(std::span<const Entity> entities) override;
  std::optional<Entity> getEntity(const Uuid& id) override;
  std::optional<Entity> getEntityIncludingDeleted(const Uuid& id) override;
  bool deleteEntity(const Uuid& id, storage::DeleteMode mode) override;
  storage::Page<Entity> queryEntities(const storage::EntityFilter& filter, const storage::PageRequest& page) override;
  std::int64_t countEntities(const storage::EntityFilter& filter) override;

 private:
  std::optional<Entity> getById(const Uuid& id, bool includeDeleted);
  Database& db_;
};

class PgNoteStore final : public storage::NoteStore {
 public:
  explicit PgNoteStore(Database& db) : db_(db) {}
  Note upsertNote(const Note& note) override;
  storage::BatchWriteSummary upsertNotes(std::span<const Note> notes) override;
  std::optional<Note> getNote(const Uuid& id) override;
  std::optional<Note> getNoteIncludingDeleted(const Uuid& id) override;
  bool deleteNote(const Uuid& id, storage::DeleteMode mode) override;
  storage::Page<Note> queryNotes(const storage::NoteFilter& filter, const storage::PageRequest& page,
                                 const storage::NoteOrder& order) override;
  std::int64_t countNotes(const storage::NoteFilter& filter) override;

 private:
  std::optional<Note> getById(const Uuid& id, bool includeDeleted);
  Database& db_;
};

class PgGraphStore final : public storage::GraphStore {
 public:
  explicit PgGraphStore(Database& db) : db_(db) {}
  Edge upsertEdge(const Edge& edge) override;
  storage::BatchWriteSummary upsertEdges(std::span<const Edge> edges) override;
  std::optional<Edge> getEdge(const Uuid& id) override;
  std::vector<Edge> getEdges(std::span<const Uuid> ids) override;
  bool deleteEdge(const Uuid& id, storage::DeleteMode mode) override;
  storage::Page<Edge> queryEdges(const storage::EdgeFilter& filter, const storage::PageRequest& page) override;
  std::int64_t countEdges(const storage::EdgeFilter& filter) override;
  std::vector<storage::Neighbor> neighbors(const Uuid& node, const storage::NeighborQuery& query) override;
  std::vector<storage::TraversalTree> traverse(const storage::TraverseRequest& request) override;
  std::optional<storage::GraphPath> shortestPath(const Uuid& from, const Uuid& to,
                                                 const storage::PathQuery& query) override;

 private:
  Database& db_;
};

class PgEventStore final : public storage::EventStore {
 public:
  explicit PgEventStore(Database& db) : db_(db) {}
  Event appendEvent(const Event& event) override;
  storage::BatchWriteSummary appendEvents(std::span<const Event> events) override;
  std::optional<Event> getEvent(const Uuid& id) override;
  storage::Page<Event> queryEvents(const storage::EventFilter& filter, const storage::PageRequest& page) override;
  std::int64_t countEvents(const storage::EventFilter& filter) override;

 private:
  Database& db_;
};

class PgTextSearch final : public storage::TextSearch {
 public:
  explicit PgTextSearch(Database& db) : db_(db) {}
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

class PgVectorStore final : public storage::VectorStore {
 public:
  explicit PgVectorStore(Database& db) : db_(db) {}
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

 private:
  int modelDims(Conn& conn, const std::string& model, int dims, std::string_view op);
  Database& db_;
};

class PgSparseStore final : public storage::SparseStore {
 public:
  explicit PgSparseStore(Database& db) : db_(db) {}
  void insertSparse(const storage::SparseRecord& record) override;
  storage::BatchWriteSummary insertSparseBatch(std::span<const storage::SparseRecord> records) override;
  std::int64_t deleteSparse(const Uuid& subjectId) override;
  std::int64_t countSparse(const std::string& model, std::span<const std::string> namespaces) override;
  std::vector<storage::VectorHit> searchSparse(const storage::SparseSearchRequest& request) override;

 private:
  Database& db_;
};

// Runs a page query built with `b` (LIMIT page.limit + 1) on a read-only connection; read(r, i)
// decodes row i of the result.
template <class T, class F>
storage::Page<T> readPage(Database& db, std::string_view capability, std::string_view operation, const SqlBuilder& b,
                          const storage::PageRequest& page, F&& read) {
  return db.run(
      capability, operation,
      [&](Conn& c) {
        auto r = c.exec(b.sql, b.params, capability, operation);
        int i = 0;
        return storage::collectPage<T>(page, [&] { return i < r.rows(); }, [&] { return read(r, i++); });
      },
      true);
}

// Runs a lookup of one row by key on a read-only connection: read(r, 0) of its row, or nullopt.
template <class T, class F>
std::optional<T> readOne(Database& db, std::string_view capability, std::string_view operation, std::string_view sql,
                         const Params& params, F&& read) {
  return db.run(
      capability, operation,
      [&](Conn& c) -> std::optional<T> {
        auto r = c.exec(sql, params, capability, operation);
        if (r.rows() == 0) return std::nullopt;
        return read(r, 0);
      },
      true);
}

// Runs a single-value query (a count) built with `b` on a read-only connection.
inline std::int64_t readCount(Database& db, std::string_view capability, std::string_view operation,
                              const SqlBuilder& b) {
  return db.run(
      capability, operation, [&](Conn& c) { return c.exec(b.sql, b.params, capability, operation).getInt(0, 0); },
      true);
}

// Per-row batch accounting (BatchWriteSummary) at one round trip per chunk in the common case.
//   1. `bind` validates each item and makes its statement parameters; an item it rejects is
//      counted failed without reaching the server.
//   2. The rest go in one transaction through pipeline mode, or, from kStagedFrom rows on, by
//      COPY into a staging table and one set-based statement (staged_write.h; `sql` must then
//      change exactly one row per parameter row when it succeeds). If every row succeeds (and
//      `rowOk` accepts each row's change count), that transaction commits: done.
//   3. If any row fails on the server, that transaction is rolled back and the rows are
//      replayed one by one with `one`, each under a SAVEPOINT, so a failing row is undone
//      alone and counted, and the rest commit together — the same outcome as SQLite's.
// Serialization failures and deadlocks retry the whole transaction (Database::write).
// Batches from this many rows on are written by COPY where the server allows it.
inline constexpr std::size_t kStagedFrom = 64;

template <class T>
storage::BatchWriteSummary pipelinedBatch(Database& db, std::string_view capability, std::string_view operation,
                                          std::span<const T> items, std::string_view sql,
                                          const std::function<Params(const T&, Micros)>& bind,
                                          const std::function<void(Conn&, const T&, Micros)>& one,
                                          const std::function<bool(std::int64_t)>& rowOk) {
  storage::BatchWriteSummary summary;
  summary.attempted = items.size();
  if (items.empty()) return summary;
  const Micros now = db.now();
  std::vector<Params> rows;
  std::vector<const T*> valid;
  for (const auto& item : items) {
    try {
      rows.push_back(bind(item, now));
      valid.push_back(&item);
    } catch (const Error& e) {
      if (e.retryable()) throw;
      summary.countFailure(e.what());
    }
  }
  if (valid.empty()) return summary;
  constexpr std::size_t kChunk = 1000;
  bool replay = false;
  // Big batches go by COPY through a staging table, where the server takes COPY from a client
  // (not PGlite) and every value travels as text.
  const auto staged = rows.size() >= kStagedFrom && !db.sharedSession() ? StagedForm::of(sql) : std::nullopt;
  const bool copy = staged && std::all_of(rows.begin(), rows.end(), [](const Params& p) { return p.allText(); });
  try {
    db.write(capability, operation, [&](Conn& c) {
      if (copy) {
        // Every row must change exactly one row; fewer (an ON CONFLICT arm's WHERE refused
        // one) sends the batch to the replay below, which says which.
        if (stagedWrite(c, *staged, rows, capability, operation) != static_cast<std::int64_t>(rows.size())) {
          throw Error(ErrorCode::InvalidInput, std::string(capability), std::string(operation),
                      "a row of the batch was refused");
        }
        return;
      }
      for (std::size_t off = 0; off < rows.size(); off += kChunk) {
        const auto n = std::min(kChunk, rows.size() - off);
        auto changed = c.execPipeline(sql, std::span<const Params>(rows).subspan(off, n), capability, operation);
        for (auto k : changed) {
          if (!rowOk(k)) {
            throw Error(ErrorCode::InvalidInput, std::string(capability), std::string(operation),
                        "a row of the batch was refused");
          }
        }
      }
    });
  } catch (const Error& e) {
    if (e.retryable()) throw;
    replay = true;
  }
  if (!replay) {
    summary.affected += valid.size();
    return summary;
  }
  const auto before = summary;
  db.write(capability, operation, [&](Conn& c) {
    summary = before;
    for (const T* item : valid) {
      c.execScript("SAVEPOINT khive_row", capability, operation);
      try {
        one(c, *item, now);
        c.execScript("RELEASE SAVEPOINT khive_row", capability, operation);
        ++summary.affected;
      } catch (const Error& e) {
        if (e.retryable()) throw;
        c.execScript("ROLLBACK TO SAVEPOINT khive_row", capability, operation);
        summary.countFailure(e.what());
      }
    }
  });
  return summary;
}

}  // namespace khive::postgres
