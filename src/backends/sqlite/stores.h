#pragma once
// The SQLite implementations of the storage capabilities. Each is thread-safe: it holds only
// a reference to the Database, which serialises writers and pools readers.

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>

#include "backends/sqlite/database.h"
#include "backends/sqlite/sql_build.h"
#include "khive/storage/backend.h"
#include "khive/storage/paging.h"

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

class SqliteEntityStore final : public storage::EntityStore {
 public:
  explicit SqliteEntityStore(Database& db) : db_(db) {}
  Entity upsertEntity(const Entity& entity) override;
  storage::BatchWriteSummary upsertEntities(std::span<const Entity> entities) override;
  std::optional<Entity> getEntity(const Uuid& id) override;
  std::optional<Entity> getEntityIncludingDeleted(const Uuid& id) override;
  bool deleteEntity(const Uuid& id, storage::DeleteMode mode) override;
  storage::Page<Entity> queryEntities(const storage::EntityFilter& filter, const storage::PageRequest& page) override;
  std::int64_t countEntities(const storage::EntityFilter& filter) override;

 private:
  // Writes one entity; returns its stored created_at.
  Micros upsertOne(Conn& conn, const Entity& entity, Micros now);
  std::optional<Entity> getById(const Uuid& id, bool includeDeleted);
  Database& db_;
};

class SqliteNoteStore final : public storage::NoteStore {
 public:
  explicit SqliteNoteStore(Database& db) : db_(db) {}
  Note upsertNote(const Note& note) override;
  storage::BatchWriteSummary upsertNotes(std::span<const Note> notes) override;
  std::optional<Note> getNote(const Uuid& id) override;
  std::optional<Note> getNoteIncludingDeleted(const Uuid& id) override;
  bool deleteNote(const Uuid& id, storage::DeleteMode mode) override;
  storage::Page<Note> queryNotes(const storage::NoteFilter& filter, const storage::PageRequest& page,
                                 const storage::NoteOrder& order) override;
  std::int64_t countNotes(const storage::NoteFilter& filter) override;

 private:
  Note upsertOne(Conn& conn, const Note& note, Micros now);
  std::optional<Note> getById(const Uuid& id, bool includeDeleted);
  Database& db_;
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
    std::string sql;
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

class SqliteEventStore final : public storage::EventStore {
 public:
  explicit SqliteEventStore(Database& db) : db_(db) {}
  Event appendEvent(const Event& event) override;
  storage::BatchWriteSummary appendEvents(std::span<const Event> events) override;
  std::optional<Event> getEvent(const Uuid& id) override;
  storage::Page<Event> queryEvents(const storage::EventFilter& filter, const storage::PageRequest& page) override;
  std::int64_t countEvents(const storage::EventFilter& filter) override;

 private:
  Event appendOne(Conn& conn, const Event& event, Micros now);
  Database& db_;
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

// Deletes the entity or note `id` of `table` ("entities" or "notes"): soft (deleted_at set, the
// incident edges' endpoint state refreshed) or hard (triggers remove its incident edges and, with
// retrieval, its text and vectors, in this transaction). True when a row changed.
bool deleteNode(Database& db, std::string_view table, std::string_view capability, const Uuid& id,
                storage::DeleteMode mode);

// Runs a single-value query (a count) built with `b` on a reader.
inline std::int64_t readCount(Database& db, std::string_view capability, std::string_view operation,
                              const SqlBuilder& b) {
  auto lease = db.acquireReader(capability, operation);
  auto stmt = lease.conn().prepare(b.sql, capability, operation);
  stmt.bindAll(b.params);
  stmt.step();
  return stmt.getInt(0);
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

}  // namespace khive::sqlite
