#include <fmt/format.h>

#include <algorithm>

#include "khive/storage/graph_walk.h"
#include "khive/storage/record_codec.h"
#include "khive/storage/record_statements.h"
#include "backends/postgres/sql_build.h"
#include "backends/postgres/stores.h"

namespace khive::postgres {

namespace {
constexpr std::string_view kCap = "graph";
// Written exactly like the partial indexes' predicate so the planner can use them.
constexpr std::string_view kLive = "deleted_at IS NULL AND endpoint_deleted = 0";

// Upsert on the natural key. PostgreSQL takes one ON CONFLICT target (SQLite would take one
// per unique index): a new id colliding with another edge's id is then a primary-key
// violation, which upsertOne reports as Conflict.
constexpr std::string_view kUpsert =
    "INSERT INTO edges (id, namespace, source_id, target_id, relation, weight, metadata, created_at, updated_at, "
    "deleted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
    "ON CONFLICT (namespace, source_id, target_id, relation) DO UPDATE SET weight = excluded.weight, "
    "metadata = excluded.metadata, updated_at = excluded.updated_at, deleted_at = excluded.deleted_at "
    "RETURNING id, created_at";
// The same for the rows of concurrent callers, keyed by the natural key (the id returned is
// the stored edge's, not necessarily the caller's).
const MergedForm kUpsertMerged = MergedForm::of(
    kUpsert, {"uuid", "text", "uuid", "uuid", "text", "float8", "jsonb", "int8", "int8", "int8"}, {1, 2, 3, 4});

using storage::Direction;

Edge readEdge(const Result& r, int i) { return storage::decodeEdge(ResultRow{r, i}); }

// The conditions of one hop part on edge alias `e`.
void appendHopConditions(SqlBuilder& b, const storage::HopPart& part, const storage::HopPlan& plan) {
  b.text("e.deleted_at IS NULL AND e.endpoint_deleted = 0 AND e.namespace = ANY (").texts(plan.namespaces).text(")");
  if (!part.relations.empty()) b.text(" AND e.relation = ANY (").texts(part.relations).text(")");
  if (plan.minWeight) b.text(" AND e.weight >= ").real(*plan.minWeight);
  if (part.skipSelfLoops) b.text(" AND e.source_id <> e.target_id");
}

std::string_view fromCol(const storage::HopPart& p) { return p.forward ? "e.source_id" : "e.target_id"; }
std::string_view toCol(const storage::HopPart& p) { return p.forward ? "e.target_id" : "e.source_id"; }

// Sets statement_timeout for the rest of the transaction: the walk's time budget is enforced
// by the server, which cancels the running statement (SQLSTATE 57014 -> Timeout).
void setTimeBudget(Conn& c, std::chrono::steady_clock::time_point deadline, std::string_view op) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) {
    throw Error(ErrorCode::Timeout, std::string(kCap), std::string(op), "the traversal ran past its time budget");
  }
  c.exec("SELECT set_config('statement_timeout', $1, true)", Params().text(std::to_string(left.count())), kCap, op);
}

// The frontier primitive on one connection inside the caller's transaction: a level is one
// statement (prepared once per connection through its statement cache),
//
//   SELECT f.node, e.target_id, e.id FROM unnest($1::uuid[]) AS f(node)
//     JOIN edges AS e ON e.source_id = f.node WHERE <live, namespace, relation, weight>
//   UNION ALL <the same for the next hop part>
//   LIMIT $n
// Single-threaded, like its connection.
class PgFrontier final : public storage::FrontierSource {
 public:
  PgFrontier(Conn& conn, std::string_view op) : conn_(conn), op_(op) {}

  bool isLiveNode(const Uuid& node) override {
    return conn_
        .exec("SELECT EXISTS (SELECT 1 FROM entities WHERE id = $1 AND deleted_at IS NULL) "
              "OR EXISTS (SELECT 1 FROM notes WHERE id = $1 AND deleted_at IS NULL)",
              Params().uuid(node), kCap, op_)
        .getBool(0, 0);
  }

  std::vector<storage::Hop> expand(const storage::HopPlan& plan, std::span<const Uuid> frontier,
                                   std::int64_t limit) override {
    SqlBuilder b;
    b.params.uuidArray(frontier);  // $1
    for (std::size_t i = 0; i < plan.parts.size(); ++i) {
      const auto& p = plan.parts[i];
      if (i) b.text(" UNION ALL ");
      b.text("SELECT f.node, ").text(toCol(p)).text(", e.id FROM unnest($1::uuid[]) AS f(node) JOIN edges AS e ON ");
      b.text(fromCol(p)).text(" = f.node WHERE ");
      appendHopConditions(b, p, plan);
    }
    if (limit > 0) b.text(" LIMIT ").integer(limit);
    auto r = conn_.exec(b.sql, b.params, kCap, op_);
    std::vector<storage::Hop> rows;
    rows.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) rows.push_back({r.getUuid(i, 0), r.getUuid(i, 1), r.getUuid(i, 2)});
    return rows;
  }

  void boundUntil(std::chrono::steady_clock::time_point deadline) override { setTimeBudget(conn_, deadline, op_); }

 private:
  Conn& conn_;
  std::string_view op_;
};

void appendEdgeFilter(SqlBuilder& b, const storage::EdgeFilter& f) {
  b.text(" WHERE namespace = ANY (").texts(f.namespaces).text(")");
  if (!f.includeDeleted) b.text(" AND ").text(kLive);
  if (!f.sources.empty()) b.text(" AND source_id = ANY (").uuids(f.sources).text(")");
  if (!f.targets.empty()) b.text(" AND target_id = ANY (").uuids(f.targets).text(")");
  if (!f.relations.empty()) b.text(" AND relation = ANY (").texts(f.relations).text(")");
  if (f.minWeight) b.text(" AND weight >= ").real(*f.minWeight);
  if (f.maxWeight) b.text(" AND weight <= ").real(*f.maxWeight);
  if (f.createdAfter) b.text(" AND created_at >= ").integer(*f.createdAfter);
  if (f.createdBefore) b.text(" AND created_at < ").integer(*f.createdBefore);
}

Edge prepare(const Database& db, const Edge& in, Micros now, std::string_view op) {
  storage::checkEdge(in, op);
  Edge e = storage::stampedAt(in, now);
  if (db.isSymmetric(e.relation) && e.targetId < e.sourceId) std::swap(e.sourceId, e.targetId);
  return e;
}

Edge upsertOne(const Database& db, StatementTarget c, const Edge& in, Micros now) {
  Edge e = prepare(db, in, now, "upsert_edge");
  try {
    auto r = c.exec(kUpsert, bind(e), kCap, "upsert_edge", &kUpsertMerged);
    e.id = r.getUuid(0, 0);
    e.createdAt = r.getInt(0, 1);
  } catch (const Error& err) {
    if (err.code() == ErrorCode::AlreadyExists) {
      throw Error(ErrorCode::Conflict, std::string(kCap), "upsert_edge",
                  fmt::format("edge id {} already names an edge with another (namespace, source, target, "
                              "relation); an edge's endpoints and relation cannot change",
                              e.id.str()));
    }
    throw;
  }
  return e;
}

}  // namespace

Edge PgGraphStore::upsertEdge(const Edge& edge) {
  const Micros now = db_.now();
  return upsertOne(db_, db_, edge, now);
}

storage::BatchWriteSummary PgGraphStore::upsertEdges(std::span<const Edge> edges) {
  return recordBatch(
      db_, kCap, "upsert_edges", edges, kUpsert,
      [this](const Edge& e, Micros now, std::string_view op) { return prepare(db_, e, now, op); },
      [this](Conn& c, const Edge& e, Micros now) { upsertOne(db_, c, e, now); });
}

std::optional<Edge> PgGraphStore::getEdge(const Uuid& id) {
  return db_.run(
      kCap, "get_edge",
      [&](Conn& c) -> std::optional<Edge> {
        auto r = c.exec(fmt::format("SELECT {} FROM edges WHERE id = $1 AND {}", storage::kEdgeColumns, kLive), Params().uuid(id),
                        kCap, "get_edge");
        if (r.rows() == 0) return std::nullopt;
        return readEdge(r, 0);
      },
      true);
}

std::vector<Edge> PgGraphStore::getEdges(std::span<const Uuid> ids) {
  std::vector<Edge> out;
  if (ids.empty()) return out;
  SqlBuilder b;
  b.text("SELECT e.id, e.namespace, e.source_id, e.target_id, e.relation, e.weight, e.metadata, e.created_at, "
         "e.updated_at, e.deleted_at FROM unnest(")
      .uuids(ids)
      .text(") WITH ORDINALITY AS f(id, ord) JOIN edges AS e ON e.id = f.id WHERE e.deleted_at IS NULL AND "
            "e.endpoint_deleted = 0 ORDER BY f.ord");
  return db_.run(
      kCap, "get_edges",
      [&](Conn& c) {
        auto r = c.exec(b.sql, b.params, kCap, "get_edges");
        for (int i = 0; i < r.rows(); ++i) out.push_back(readEdge(r, i));
        return out;
      },
      true);
}

bool PgGraphStore::deleteEdge(const Uuid& id, storage::DeleteMode mode) {
  const Micros now = db_.now();
  return db_.run(kCap, "delete_edge", [&](Conn& c) {
    if (mode == storage::DeleteMode::Soft) {
      return c.exec("UPDATE edges SET deleted_at = $1, updated_at = $1 WHERE id = $2 AND deleted_at IS NULL",
                    Params().integer(now).uuid(id), kCap, "delete_edge")
                 .affected() > 0;
    }
    return c.exec("DELETE FROM edges WHERE id = $1", Params().uuid(id), kCap, "delete_edge").affected() > 0;
  });
}

storage::Page<Edge> PgGraphStore::queryEdges(const storage::EdgeFilter& filter, const storage::PageRequest& page) {
  auto b = storage::pageStatement<SqlBuilder>(kCap, "query_edges", storage::kEdgeColumns, "edges", filter, page,
                                              appendEdgeFilter, storage::edgeOrderBy(filter));
  return readPage<Edge>(db_, kCap, "query_edges", b, page, readEdge);
}

std::int64_t PgGraphStore::countEdges(const storage::EdgeFilter& filter) {
  return readCount(db_, kCap, "count_edges",
                   storage::countStatement<SqlBuilder>(kCap, "count_edges", "edges", filter, appendEdgeFilter));
}

std::vector<storage::Neighbor> PgGraphStore::neighbors(const Uuid& node, const storage::NeighborQuery& q) {
  storage::checkNeighborQuery(q);
  const auto plan = storage::planHops(q.direction, q.relations, db_.symmetricRelations(), q.namespaces, q.minWeight);
  SqlBuilder b;
  for (std::size_t i = 0; i < plan.parts.size(); ++i) {
    const auto& p = plan.parts[i];
    if (i) b.text(" UNION ALL ");
    b.text("SELECT ").text(toCol(p)).text(" AS node, e.id, e.relation COLLATE \"C\" AS relation, e.weight, ");
    b.text(p.reported == Direction::Out ? "0" : "1");
    b.text(" FROM edges AS e WHERE ").text(fromCol(p)).text(" = ").uuid(node).text(" AND ");
    appendHopConditions(b, p, plan);
  }
  b.text(" ORDER BY weight DESC, node, relation, id LIMIT ").integer(q.limit);
  return db_.run(
      kCap, "neighbors",
      [&](Conn& c) {
        auto r = c.exec(b.sql, b.params, kCap, "neighbors");
        std::vector<storage::Neighbor> out;
        for (int i = 0; i < r.rows(); ++i) {
          out.push_back({r.getUuid(i, 0), r.getUuid(i, 1), r.str(i, 2), r.getDouble(i, 3),
                         r.getInt(i, 4) == 0 ? Direction::Out : Direction::In});
        }
        return out;
      },
      true);
}

std::vector<storage::TraversalTree> PgGraphStore::traverse(const storage::TraverseRequest& r) {
  storage::checkTraverseRequest(r);
  const auto deadline = std::chrono::steady_clock::now() + r.timeBudget;
  const auto plan = storage::planHops(r.direction, r.relations, db_.symmetricRelations(), r.namespaces, r.minWeight);
  return db_.run(
      kCap, "traverse",
      [&](Conn& c) {
        // One read-only transaction: one snapshot for every root, and a statement_timeout
        // scoped to it.
        Tx tx(c, kCap, "traverse", false, true);
        PgFrontier frontier(c, "traverse");
        auto trees = storage::walkTrees(frontier, r, plan, deadline);
        tx.commit();
        return trees;
      },
      true);
}

std::optional<storage::GraphPath> PgGraphStore::shortestPath(const Uuid& from, const Uuid& to,
                                                             const storage::PathQuery& q) {
  storage::checkPathQuery(q);
  const auto symmetric = db_.symmetricRelations();
  const auto forward = storage::planHops(q.direction, q.relations, symmetric, q.namespaces, q.minWeight);
  const auto backward =
      storage::planHops(storage::mirrored(q.direction), q.relations, symmetric, q.namespaces, q.minWeight);
  return db_.run(
      kCap, "shortest_path",
      [&](Conn& c) {
        Tx tx(c, kCap, "shortest_path", false, true);
        PgFrontier frontier(c, "shortest_path");
        return storage::searchPath(frontier, from, to, q.maxDepth, forward, backward);
      },
      true);
}

}  // namespace khive::postgres
