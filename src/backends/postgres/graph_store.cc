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

// The rows of one hop out of the nodes of `frontier` (a uuid[] expression) along `plan`, as
// (node, to, edge): one SELECT per hop part, joined by UNION ALL.
void appendExpansion(SqlBuilder& b, const storage::HopPlan& plan, std::string_view frontier) {
  for (std::size_t i = 0; i < plan.parts.size(); ++i) {
    const auto& p = plan.parts[i];
    if (i) b.text(" UNION ALL ");
    b.text("SELECT f.node, ").text(toCol(p)).text(" AS reached, e.id AS edge FROM unnest(").text(frontier);
    b.text(") AS f(node) JOIN edges AS e ON ").text(fromCol(p)).text(" = f.node WHERE ");
    appendHopConditions(b, p, plan);
  }
}

// A uuid[] as PostgreSQL prints it: {a,b,...}.
std::vector<Uuid> uuidArray(std::string_view text) {
  std::vector<Uuid> out;
  if (text.size() < 2) return out;
  text = text.substr(1, text.size() - 2);
  while (!text.empty()) {
    const auto comma = text.find(',');
    out.push_back(Uuid::parse(text.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

// walkTrees' breadth-first walk from one root as one recursive statement ($1 root, $2 max
// depth, $3 max work; the hop conditions' parameters after them). Each step of the recursion
// is one level: the expansion of the frontier (at most the work left + 1 rows, as expand() is
// asked for), its row count, and the nodes not seen before, each with its smallest (parent,
// edge) in uuid order -- graph_walk.cc's firstReached (DISTINCT ON the reached node). The three
// arrays are aggregated from one input, so they stay aligned; their order is left to
// walkTrees, which sorts each level. The nodes seen so far travel as a uuid[] while they are
// few (a membership test scans it), and from kSeenScanMax nodes on as a jsonb object keyed by
// id, whose key lookup does not grow with the walk. A root that is not live gives no rows.
constexpr int kSeenScanMax = 256;

SqlBuilder walkStatement(const storage::HopPlan& plan, const Uuid& root, int maxDepth, std::int64_t maxWork) {
  SqlBuilder b;
  b.params.uuid(root).integer(maxDepth).integer(maxWork);
  // The seen set after a level: (seen, seenj), exactly one of them not NULL.
  const std::string small =
      fmt::format("w.seenj IS NULL AND cardinality(w.seen) + cardinality(l.reached) <= {}", kSeenScanMax);
  b.text(
      "WITH RECURSIVE walk(depth, frontier, seen, seenj, work, n, reached, parent, edge) AS ("
      "SELECT 0, ARRAY[$1::uuid], ARRAY[$1::uuid], NULL::jsonb, 1::int8, 0::int8, '{}'::uuid[], '{}'::uuid[], "
      "'{}'::uuid[] WHERE EXISTS (SELECT 1 FROM entities WHERE id = $1::uuid AND deleted_at IS NULL) "
      "OR EXISTS (SELECT 1 FROM notes WHERE id = $1::uuid AND deleted_at IS NULL) "
      "UNION ALL SELECT w.depth + 1, l.reached, CASE WHEN ")
      .text(small)
      .text(" THEN w.seen || l.reached END, CASE WHEN ")
      .text(small)
      .text(
          " THEN NULL WHEN w.seenj IS NULL THEN (SELECT jsonb_object_agg(s::text, 0) FROM unnest(w.seen || l.reached) "
          "AS s) ELSE w.seenj || (SELECT coalesce(jsonb_object_agg(s::text, 0), '{}') FROM unnest(l.reached) AS s) "
          "END, w.work + l.n, l.n, l.reached, l.parent, l.edge "
          "FROM walk AS w CROSS JOIN LATERAL (SELECT coalesce(max(r.total), 0) AS n, "
          "coalesce(array_agg(r.reached) FILTER (WHERE r.fresh), '{}') AS reached, "
          "coalesce(array_agg(r.node) FILTER (WHERE r.fresh), '{}') AS parent, "
          "coalesce(array_agg(r.edge) FILTER (WHERE r.fresh), '{}') AS edge "
          "FROM (SELECT DISTINCT ON (x.reached) x.node, x.reached, x.edge, count(*) OVER () AS total, "
          "CASE WHEN w.seenj IS NULL THEN x.reached <> ALL (w.seen) ELSE NOT (w.seenj ? x.reached::text) END AS fresh "
          "FROM (");
  appendExpansion(b, plan, "w.frontier");
  b.text(" LIMIT $3 - w.work + 1) AS x ORDER BY x.reached, x.node, x.edge) AS r) AS l "
         "WHERE w.depth < $2 AND cardinality(w.frontier) > 0 AND w.work <= $3) "
         "SELECT n, reached, parent, edge FROM walk ORDER BY depth");
  return b;
}

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
    appendExpansion(b, plan, "$1::uuid[]");
    if (limit > 0) b.text(" LIMIT ").integer(limit);
    auto r = conn_.exec(b.sql, b.params, kCap, op_);
    std::vector<storage::Hop> rows;
    rows.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) rows.push_back({r.getUuid(i, 0), r.getUuid(i, 1), r.getUuid(i, 2)});
    return rows;
  }

  // Outside a transaction, records the deadline for walkFrom's statement; inside one, sets the
  // transaction's statement_timeout (expand() and isLiveNode() run there).
  void boundUntil(std::chrono::steady_clock::time_point deadline) override {
    deadline_ = deadline;
    if (conn_.txStatus() != PQTRANS_IDLE) setTimeBudget(conn_, deadline, op_);
  }

  // The walk as one statement, sent with its statement_timeout in one round trip when no
  // transaction is open on the connection: the timeout and the walk pipelined in the server's
  // implicit transaction (no BEGIN and COMMIT), so the timeout is local to the walk.
  std::optional<Walk> walkFrom(const storage::HopPlan& plan, const Uuid& root, int maxDepth,
                               std::int64_t maxWork) override {
    const SqlBuilder b = walkStatement(plan, root, maxDepth, maxWork);
    Result r;
    if (conn_.txStatus() == PQTRANS_IDLE && deadline_) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline_ - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        throw Error(ErrorCode::Timeout, std::string(kCap), std::string(op_), "the traversal ran past its time budget");
      }
      const Params timeout = Params().text(std::to_string(left.count()));
      // The generic plan: a custom plan of the walk costs more to plan than to run, and the
      // planner would keep choosing custom plans (the generic one's estimate is higher).
      const Statement statements[] = {{"SELECT set_config('statement_timeout', $1, true), "
                                       "set_config('plan_cache_mode', 'force_generic_plan', true)",
                                       &timeout},
                                      {b.sql, &b.params}};
      r = std::move(conn_.execTransaction(statements, kCap, op_, true).back());
    } else {
      r = conn_.exec(b.sql, b.params, kCap, op_);
    }
    Walk walk;
    walk.rootLive = r.rows() > 0;
    for (int i = 1; i < r.rows(); ++i) {
      auto& level = walk.levels.emplace_back();
      level.rows = r.getInt(i, 0);
      const auto to = uuidArray(r.view(i, 1)), from = uuidArray(r.view(i, 2)), edge = uuidArray(r.view(i, 3));
      for (std::size_t k = 0; k < to.size() && k < from.size() && k < edge.size(); ++k)
        level.reached.push_back({from[k], to[k], edge[k]});
    }
    return walk;
  }

 private:
  Conn& conn_;
  std::string_view op_;
  std::optional<std::chrono::steady_clock::time_point> deadline_;
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
        // Each root's walk is one statement with its own statement_timeout (walkFrom).
        PgFrontier frontier(c, "traverse");
        return storage::walkTrees(frontier, r, plan, deadline);
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
        // No transaction: under READ COMMITTED each statement takes its own snapshot either
        // way, and the reader's session is read-only with the read budget's timeout.
        PgFrontier frontier(c, "shortest_path");
        return storage::searchPath(frontier, from, to, q.maxDepth, forward, backward);
      },
      true);
}

}  // namespace khive::postgres
