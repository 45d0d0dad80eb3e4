#pragma once
// The SQLite implementations of the storage capabilities. Each is thread-safe: it holds only
// a reference to the Database, which serialises writers and pools readers.

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>

#include "backends/sqlite/database.h"
#include "backends/sqlite/sql_build.h"
#include "khive/query/sqlite_dialect.h"
#include "khive/storage/backend.h"
#include "khive/storage/paging.h"
#include "khive/storage/record_codec.h"
#include "khive/storage/record_statements.h"
#include "khive/storage/sql_record_stores.h"

namespace khive::sqlite {

class SqliteSqlAccess final : public storage::SqlAccess {
 public:
  explicit SqliteSqlAccess(Database& db) : db_(db) {}
  std::unique_ptr<storage::SqlConnection> reader() override;
  std::unique_ptr<storage::SqlConnection> writer() override;
  std::unique_ptr<storage::SqlTransaction> begin(const storage::TxOptions& options) override;

 private:
  Database& db_;
};

// The primitives of storage's SQL record stores on SQLite (khive/storage/sql_record_stores.h).
struct SqliteRecords {
  using Database = sqlite::Database;
  using Builder = SqlBuilder;
  template <class T>
  static std::optional<T> get(Database& db, std::string_view table, std::string_view capability, const Uuid& id,
                              bool includeDeleted);
  template <class T>
  static storage::Page<T> page(Database& db, std::string_view capability, const Builder& b,
                               const storage::PageRequest& page);
  static std::int64_t count(Database& db, std::string_view capability, std::string_view operation, const Builder& b);
  // Soft (deleted_at set, the incident edges' endpoint state refreshed) or hard (triggers remove
  // its incident edges and, with retrieval, its text and vectors, in this transaction).
  static bool deleteNode(Database& db, std::string_view table, std::string_view capability, const Uuid& id,
                         storage::DeleteMode mode);
  static void where(Builder& b, const storage::EntityFilter& filter);
  static void where(Builder& b, const storage::NoteFilter& filter, std::string_view operation);
  static void where(Builder& b, const storage::EventFilter& filter);
  static void order(Builder& b, const storage::NoteOrder& order);
};

class SqliteEntityStore final : public storage::SqlEntityStore<SqliteRecords> {
 public:
  using SqlEntityStore::SqlEntityStore;
  Entity upsertEntity(const Entity& entity) override;
  storage::BatchWriteSummary upsertEntities(std::span<const Entity> entities) override;

 private:
  // Writes one entity; returns its stored created_at.
  Micros upsertOne(Conn& conn, const Entity& entity, Micros now);
};

class SqliteNoteStore final : public storage::SqlNoteStore<SqliteRecords> {
 public:
  using SqlNoteStore::SqlNoteStore;
  Note upsertNote(const Note& note) override;
  storage::BatchWriteSummary upsertNotes(std::span<const Note> notes) override;

 private:
  Note upsertOne(Conn& conn, const Note& note, Micros now);
};

class SqliteGraphStore final : public storage::GraphStore {
 public:
  explicit SqliteGraphStore(Database& db) : db_(db) {}
  Edge upsertEdge(const Edge& edge) override;
  storage::BatchWriteSummary upsertEdges(std::span<const Edge> edges) override;
  std::unique_ptr<storage::EdgeLoad> beginLoad() override;
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
  // `noDeletedNodes`: the caller has checked, inside this transaction, that no entity or note
  // is soft-deleted, so a new edge's endpoint_deleted is 0 without probing its endpoints.
  Edge upsertOne(Conn& conn, const Edge& edge, Micros now, bool noDeletedNodes = false);
  // The statement of a neighbors() query shape (?1 the node, ?2 the limit) and its bound
  // filter values (?3 on), made once per shape: a lookup replaces planning and building SQL.
  struct NeighborShape {
    storage::Direction direction;
    std::vector<std::string> relations, namespaces;
    std::optional<double> minWeight;
    std::string sql;         // the node's edges in no order, at most ?2 rows
    std::string orderedSql;  // the first ?2 in the answer's order
    storage::SqlParams params;
  };
  std::shared_ptr<const NeighborShape> neighborShape(const storage::NeighborQuery& query);

  Database& db_;
  std::mutex shapesMu_;
  std::vector<std::shared_ptr<const NeighborShape>> shapes_;  // guarded by shapesMu_; at most 32
};

// An edge as written: validated, symmetric relations canonical (smaller UUID first),
// timestamps defaulted, every column in its stored form.
struct EdgeRow {
  std::string id, ns, source, target, relation, metadata;
  double weight = 1.0;
  Micros createdAt = 0, updatedAt = 0;
  std::optional<Micros> deletedAt;
};
// What the store writes for an edge besides its own fields: endpoints in canonical order
// (symmetric relations: smaller UUID first) and times defaulted to `now`. Validates the edge
// first (InvalidInput naming what is wrong).
struct EdgeForm {
  Uuid source, target;
  Micros createdAt = 0, updatedAt = 0;
};
EdgeForm storedFormOf(const Database& db, const Edge& edge, Micros now);
EdgeRow edgeRowOf(const Database& db, const Edge& edge, Micros now);
// Binds ?1..?10 as (id, namespace, source, target, relation, weight, metadata, created_at,
// updated_at, deleted_at).
void bindEdgeRow(Stmt& stmt, const EdgeRow& row);
// Upserts one row inside the caller's write transaction. True when the natural key already
// existed: `row` then took the stored edge's id and created_at.
bool writeEdgeRow(Conn& conn, EdgeRow& row, bool noDeletedNodes);
// True when no entity or note is soft-deleted (a new edge's endpoint state is then 0).
bool noSoftDeletedNodes(Conn& conn);
// The SQLite EdgeLoad (edge_load.cc): holds edges in memory, compactly, and writes them in
// clustered-key order in one transaction.
std::unique_ptr<storage::EdgeLoad> makeEdgeLoad(Database& db);

class SqliteEventStore final : public storage::SqlEventStore<SqliteRecords> {
 public:
  using SqlEventStore::SqlEventStore;
  Event appendEvent(const Event& event) override;
  storage::BatchWriteSummary appendEvents(std::span<const Event> events) override;

 private:
  Event appendOne(Conn& conn, const Event& event, Micros now);
};

// Binds ?1, ?2, ... of a statement in order: the parameter sink of storage's record encoders
// (storage::encode, record_codec.h). Single-threaded, like its statement.
class StmtBinder {
 public:
  explicit StmtBinder(Stmt& stmt) : stmt_(stmt) {}
  StmtBinder& text(std::string_view v);
  StmtBinder& integer(std::int64_t v);
  StmtBinder& real(double v);
  StmtBinder& uuid(const Uuid& v);
  StmtBinder& json(const Json& v);
  StmtBinder& optText(const std::optional<std::string>& v);
  StmtBinder& optInteger(const std::optional<std::int64_t>& v);
  StmtBinder& optReal(const std::optional<double>& v);
  StmtBinder& optUuid(const std::optional<Uuid>& v);

 private:
  Stmt& stmt_;
  int next_ = 1;
};

// Runs a paged query built with LIMIT page.limit + 1 on a reader and reads its rows with
// `read`; the extra row only tells that another page follows.
template <class T, class F>
storage::Page<T> readPage(Database& db, std::string_view capability, std::string_view operation, const SqlBuilder& b,
                          const storage::PageRequest& page, F&& read) {
  auto lease = db.acquireReader(capability, operation);
  auto stmt = lease.conn().prepare(b.sql, capability, operation);
  stmt.bindAll(b.params);
  return storage::collectPage<T>(page, [&] { return stmt.step(); }, [&] { return read(stmt); });
}

// Looks up one row by id on a reader (`sql` takes the id as its one parameter): read(stmt) of
// its row, or nullopt.
template <class T, class F>
std::optional<T> readById(Database& db, std::string_view capability, const std::string& sql, const Uuid& id, F&& read) {
  auto lease = db.acquireReader(capability, "get");
  auto stmt = lease.conn().prepare(sql, capability, "get");
  stmt.bindText(1, id.str());
  if (!stmt.step()) return std::nullopt;
  return read(stmt);
}

// Runs a single-value query (a count) built with `b` on a reader.
inline std::int64_t readCount(Database& db, std::string_view capability, std::string_view operation,
                              const SqlBuilder& b) {
  auto lease = db.acquireReader(capability, operation);
  auto stmt = lease.conn().prepare(b.sql, capability, operation);
  stmt.bindAll(b.params);
  stmt.step();
  return stmt.getInt(0);
}

template <class T>
std::optional<T> SqliteRecords::get(Database& db, std::string_view table, std::string_view capability, const Uuid& id,
                                    bool includeDeleted) {
  return readById<T>(db, capability,
                     fmt::format("SELECT {} FROM {} WHERE id = ?{}", storage::columnsOf<T>(), table,
                                 includeDeleted ? "" : " AND deleted_at IS NULL"),
                     id, storage::decodeRecord<T, Stmt>);
}

template <class T>
storage::Page<T> SqliteRecords::page(Database& db, std::string_view capability, const Builder& b,
                                     const storage::PageRequest& page) {
  return readPage<T>(db, capability, "query", b, page, storage::decodeRecord<T, Stmt>);
}

inline std::int64_t SqliteRecords::count(Database& db, std::string_view capability, std::string_view operation,
                                         const Builder& b) {
  return readCount(db, capability, operation, b);
}

// Counts the rows of a retrieval table (storage::retrievalCount) on a reader.
inline std::int64_t countRetrieval(Database& db, std::string_view capability, std::string_view table,
                                   std::span<const std::string> namespaces, std::optional<std::string_view> model,
                                   bool liveOnly) {
  SqlBuilder b;
  b.append(storage::retrievalCount(query::sqliteDialect(), capability, table, namespaces, model, liveOnly));
  return readCount(db, capability, "count", b);
}

// Pointers to `items` ordered by key(item). The sort is stable, so two writes to one key keep
// the caller's order (the later wins). A batch written in primary-key order lands on
// neighbouring B-tree pages instead of random ones.
template <class T, class Key>
std::vector<const T*> inKeyOrder(std::span<const T> items, Key key) {
  std::vector<const T*> order;
  order.reserve(items.size());
  for (const T& item : items) order.push_back(&item);
  std::stable_sort(order.begin(), order.end(), [&](const T* a, const T* b) { return key(*a) < key(*b); });
  return order;
}

// Runs `write` for every item inside one transaction, counting per-row successes and
// failures; a failing row does not stop the batch (SQLite rolls back only that statement).
template <class T, class F>
storage::BatchWriteSummary writeBatch(Database& db, std::string_view capability, std::string_view operation,
                                      std::span<const T> items, F&& write) {
  storage::BatchWriteSummary summary;
  summary.attempted = items.size();
  if (items.empty()) return summary;
  WriteTx tx(db, capability, operation);
  const Micros now = db.now();
  for (const auto& item : items) {
    try {
      write(tx.conn(), item, now);
      ++summary.affected;
    } catch (const Error& e) {
      if (!e.retryable()) {
        summary.countFailure(e.what());
      } else {
        throw;  // a lock or time-out failure ends the whole batch; nothing is committed
      }
    }
  }
  tx.commit();
  return summary;
}

// writeBatch over the items in key(item) order (inKeyOrder); write(conn, item, now) writes one.
template <class T, class Key, class F>
storage::BatchWriteSummary writeBatchInOrder(Database& db, std::string_view capability, std::string_view operation,
                                             std::span<const T> items, Key key, F&& write) {
  const auto order = inKeyOrder(items, key);
  return writeBatch(db, capability, operation, std::span<const T* const>(order),
                    [&](Conn& c, const T* item, Micros now) { write(c, *item, now); });
}

// Runs write(conn, now) in a write transaction of its own and commits; returns what it returns.
template <class F>
auto writeOne(Database& db, std::string_view capability, std::string_view operation, F&& write) {
  WriteTx tx(db, capability, operation);
  auto out = write(tx.conn(), db.now());
  tx.commit();
  return out;
}

}  // namespace khive::sqlite
