#pragma once
// The PostgreSQL implementations of the storage capabilities. Each is thread-safe: it holds
// only a reference to the Database, whose pool hands every call its own connection.

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>

#include "backends/postgres/database.h"
#include "backends/postgres/sql_build.h"
#include "backends/postgres/staged_write.h"
#include "khive/query/postgres_dialect.h"
#include "khive/storage/backend.h"
#include "khive/storage/paging.h"
#include "khive/storage/record_codec.h"
#include "khive/storage/record_statements.h"
#include "khive/storage/sql_record_stores.h"

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

// The primitives of storage's SQL record stores on PostgreSQL (khive/storage/sql_record_stores.h).
struct PgRecords {
  using Database = postgres::Database;
  using Builder = SqlBuilder;
  template <class T>
  static std::optional<T> get(Database& db, std::string_view table, std::string_view capability, const Uuid& id,
                              bool includeDeleted);
  template <class T>
  static storage::Page<T> page(Database& db, std::string_view capability, const Builder& b,
                               const storage::PageRequest& page);
  static std::int64_t count(Database& db, std::string_view capability, std::string_view operation, const Builder& b);
  // One statement each: the triggers (edge counters, incident edges, text, vectors) run in its
  // implicit transaction.
  static bool deleteNode(Database& db, std::string_view table, std::string_view capability, const Uuid& id,
                         storage::DeleteMode mode);
  static void where(Builder& b, const storage::EntityFilter& filter);
  static void where(Builder& b, const storage::NoteFilter& filter, std::string_view operation);
  static void where(Builder& b, const storage::EventFilter& filter);
  static void order(Builder& b, const storage::NoteOrder& order);
};

class PgEntityStore final : public storage::SqlEntityStore<PgRecords> {
 public:
  using SqlEntityStore::SqlEntityStore;
  Entity upsertEntity(const Entity& entity) override;
  storage::BatchWriteSummary upsertEntities(std::span<const Entity> entities) override;
};

class PgNoteStore final : public storage::SqlNoteStore<PgRecords> {
 public:
  using SqlNoteStore::SqlNoteStore;
  Note upsertNote(const Note& note) override;
  storage::BatchWriteSummary upsertNotes(std::span<const Note> notes) override;
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

class PgEventStore final : public storage::SqlEventStore<PgRecords> {
 public:
  using SqlEventStore::SqlEventStore;
  Event appendEvent(const Event& event) override;
  storage::BatchWriteSummary appendEvents(std::span<const Event> events) override;
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

// The statement parameters of a record (entity, note, edge, event): its stored columns in order.
template <class Record>
Params bind(const Record& record) {
  Params p;
  storage::encode(record, p);
  return p;
}

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

template <class T>
std::optional<T> PgRecords::get(Database& db, std::string_view table, std::string_view capability, const Uuid& id,
                                bool includeDeleted) {
  const std::string sql = fmt::format("SELECT {} FROM {} WHERE id = $1{}", storage::columnsOf<T>(), table,
                                      includeDeleted ? "" : " AND deleted_at IS NULL");
  return readOne<T>(db, capability, "get", sql, Params().uuid(id),
                    [](const Result& r, int i) { return storage::decodeRecord<T>(ResultRow{r, i}); });
}

template <class T>
storage::Page<T> PgRecords::page(Database& db, std::string_view capability, const Builder& b,
                                 const storage::PageRequest& page) {
  return readPage<T>(db, capability, "query", b, page,
                     [](const Result& r, int i) { return storage::decodeRecord<T>(ResultRow{r, i}); });
}

inline std::int64_t PgRecords::count(Database& db, std::string_view capability, std::string_view operation,
                                     const Builder& b) {
  return readCount(db, capability, operation, b);
}

// Counts the rows of a retrieval table (storage::retrievalCount) on a reader.
inline std::int64_t countRetrieval(Database& db, std::string_view capability, std::string_view table,
                                   std::span<const std::string> namespaces, std::optional<std::string_view> model,
                                   bool liveOnly) {
  SqlBuilder b;
  b.append(storage::retrievalCount(query::postgresDialect(), capability, table, namespaces, model, liveOnly));
  return readCount(db, capability, "count", b);
}

// Per-row batch accounting (BatchWriteSummary) at one round trip per chunk in the common case.
//   1. `bind` validates each item and makes its statement parameters; an item it rejects is
//      counted failed without reaching the server.
//   2. The rest go in one transaction through pipeline mode, or, from kStagedFrom rows on, by
//      COPY into a staging table and one set-based statement (staged_write.h). If every row
//      succeeds (each changing exactly one row), that transaction commits: done.
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
                                          const std::function<void(Conn&, const T&, Micros)>& one) {
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
          if (k != 1) {
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

// pipelinedBatch for a record type (entity, note, edge, event): each item checked and stamped by
// prepare(item, now, operation) and bound in its stored column order (bind), replayed alone with
// one(conn, item, now).
template <class T, class Prepare, class One>
storage::BatchWriteSummary recordBatch(Database& db, std::string_view capability, std::string_view operation,
                                       std::span<const T> items, std::string_view sql, Prepare prepare, One one) {
  return pipelinedBatch<T>(
      db, capability, operation, items, sql, [&](const T& item, Micros now) { return bind(prepare(item, now, operation)); },
      [&](Conn& c, const T& item, Micros now) { one(c, item, now); });
}

}  // namespace khive::postgres
