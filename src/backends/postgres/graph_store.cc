#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "khive/storage/record_checks.h"
#include "backends/postgres/sql_build.h"
#include "backends/postgres/stores.h"

namespace khive::postgres {

namespace {
constexpr std::string_view kCap = "graph";
constexpr std::string_view kColumns =
    "id, namespace, source_id, target_id, relation, weight, metadata, created_at, updated_at, deleted_at";
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

[[noreturn]] void invalid(std::string_view op, std::string msg) {
  throw Error(ErrorCode::InvalidInput, std::string(kCap), std::string(op), std::move(msg));
}

void validate(const Edge& e, std::string_view op) {
  if (e.id.isNil()) invalid(op, "edge id is the nil UUID; generate one with Uuid::v7()");
  if (e.ns.empty()) invalid(op, "edge namespace is empty");
  if (e.relation.empty()) invalid(op, "edge relation is empty");
  if (e.sourceId.isNil() || e.targetId.isNil()) invalid(op, "edge endpoints must be non-nil UUIDs");
  if (!std::isfinite(e.weight) || e.weight < 0 || e.weight > 1)
    invalid(op, fmt::format("edge weight must be within [0, 1], got {}", e.weight));
  if (!e.metadata.is_object()) invalid(op, "edge metadata must be a JSON object");
  storage::checkRecordText(e, kCap, op);
}

Edge readEdge(const Result& r, int i) {
  Edge e;
  e.id = r.getUuid(i, 0);
  e.ns = r.str(i, 1);
  e.sourceId = r.getUuid(i, 2);
  e.targetId = r.getUuid(i, 3);
  e.relation = r.str(i, 4);
  e.weight = r.getDouble(i, 5);
  e.metadata = r.getJson(i, 6);
  e.createdAt = r.getInt(i, 7);
  e.updatedAt = r.getInt(i, 8);
  e.deletedAt = r.optInt(i, 9);
  return e;
}

// One way of following edges, as in the SQLite backend: Out follows every edge forward and
// symmetric edges backward too (stored once, smaller UUID first, but meaning both ways); In
// is the mirror; Both follows every edge both ways. Self-loops are followed once.
struct HopPart {
  bool forward = true;
  std::vector<std::string> relations;  // empty = any
  bool skipSelfLoops = false;
  Direction reported = Direction::Out;
};

std::vector<HopPart> hopParts(const Database& db, Direction dir, const std::vector<std::string>& relations) {
  std::vector<std::string> symmetric;
  if (relations.empty()) {
    symmetric = db.symmetricRelations();
  } else {
    for (const auto& r : relations)
      if (db.isSymmetric(r)) symmetric.push_back(r);
  }
  std::vector<HopPart> parts;
  switch (dir) {
    case Direction::Out:
      parts.push_back({true, relations, false, Direction::Out});
      if (!symmetric.empty()) parts.push_back({false, symmetric, true, Direction::Out});
      break;
    case Direction::In:
      parts.push_back({false, relations, false, Direction::In});
      if (!symmetric.empty()) parts.push_back({true, symmetric, true, Direction::In});
      break;
    case Direction::Both:
      parts.push_back({true, relations, false, Direction::Out});
      parts.push_back({false, relations, true, Direction::In});
      break;
  }
  return parts;
}

struct HopFilter {
  const std::vector<std::string>& namespaces;
  std::optional<double> minWeight;
};

void appendHopConditions(SqlBuilder& b, const HopPart& part, const HopFilter& f) {
  b.text("e.deleted_at IS NULL AND e.endpoint_deleted = 0 AND e.namespace = ANY (").texts(f.namespaces).text(")");
  if (!part.relations.empty()) b.text(" AND e.relation = ANY (").texts(part.relations).text(")");
  if (f.minWeight) b.text(" AND e.weight >= ").real(*f.minWeight);
  if (part.skipSelfLoops) b.text(" AND e.source_id <> e.target_id");
}

std::string_view fromCol(const HopPart& p) { return p.forward ? "e.source_id" : "e.target_id"; }
std::string_view toCol(const HopPart& p) { return p.forward ? "e.target_id" : "e.source_id"; }

void checkWeight(std::optional<double> w, std::string_view op) {
  if (w && (!std::isfinite(*w) || *w < 0 || *w > 1)) invalid(op, fmt::format("min_weight must be within [0, 1], got {}", *w));
}

void checkDepth(int depth, std::string_view op) {
  if (depth < 1 || depth > storage::kMaxTraversalDepth) {
    invalid(op, fmt::format("max_depth must be 1..{}, got {}", storage::kMaxTraversalDepth, depth));
  }
}

// One breadth-first step: every (from, to, edge) one hop from the frontier, ordered so the
// first row for a `to` names its smallest parent and edge.
std::vector<std::array<Uuid, 3>> expandFrontier(Conn& c, const std::vector<HopPart>& parts, const HopFilter& f,
                                                const std::vector<Uuid>& frontier, std::string_view op) {
  SqlBuilder b;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) b.text(" UNION ALL ");
    b.text("SELECT f.node, ").text(toCol(parts[i])).text(", e.id FROM unnest(").uuids(frontier);
    b.text(") AS f(node) JOIN edges AS e ON ").text(fromCol(parts[i])).text(" = f.node WHERE ");
    appendHopConditions(b, parts[i], f);
  }
  b.text(" ORDER BY 2, 1, 3");
  auto r = c.exec(b.sql, b.params, kCap, op);
  std::vector<std::array<Uuid, 3>> rows;
  rows.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) rows.push_back({r.getUuid(i, 0), r.getUuid(i, 1), r.getUuid(i, 2)});
  return rows;
}

bool isLiveNode(Conn& c, const Uuid& id, std::string_view op) {
  return c.exec("SELECT EXISTS (SELECT 1 FROM entities WHERE id = $1 AND deleted_at IS NULL) "
                "OR EXISTS (SELECT 1 FROM notes WHERE id = $1 AND deleted_at IS NULL)",
                Params().uuid(id), kCap, op)
      .getBool(0, 0);
}

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
  validate(in, op);
  Edge e = in;
  if (db.isSymmetric(e.relation) && e.targetId < e.sourceId) std::swap(e.sourceId, e.targetId);
  if (e.createdAt == 0) e.createdAt = now;
  if (e.updatedAt == 0) e.updatedAt = now;
  return e;
}

Params bind(const Edge& e) {
  Params p;
  p.uuid(e.id)
      .text(e.ns)
      .uuid(e.sourceId)
      .uuid(e.targetId)
      .text(e.relation)
      .real(e.weight)
      .json(e.metadata)
      .integer(e.createdAt)
      .integer(e.updatedAt)
      .optInteger(e.deletedAt);
  return p;
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

// Sets statement_timeout for the rest of the transaction: the traversal's time budget is
// enforced by the server, which cancels the running statement (SQLSTATE 57014 -> Timeout).
void setTimeBudget(Conn& c, std::chrono::steady_clock::time_point deadline, std::string_view op) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) {
    throw Error(ErrorCode::Timeout, std::string(kCap), std::string(op), "the traversal ran past its time budget");
  }
  c.exec("SELECT set_config('statement_timeout', $1, true)", Params().text(std::to_string(left.count())), kCap, op);
}
}  // namespace

Edge PgGraphStore::upsertEdge(const Edge& edge) {
  const Micros now = db_.now();
  return upsertOne(db_, db_, edge, now);
}

storage::BatchWriteSummary PgGraphStore::upsertEdges(std::span<const Edge> edges) {
  return pipelinedBatch<Edge>(
      db_, kCap, "upsert_edges", edges, kUpsert,
      [this](const Edge& e, Micros now) { return bind(prepare(db_, e, now, "upsert_edges")); },
      [this](Conn& c, const Edge& e, Micros now) { upsertOne(db_, c, e, now); },
      [](std::int64_t n) { return n == 1; });
}

std::optional<Edge> PgGraphStore::getEdge(const Uuid& id) {
  return db_.run(
      kCap, "get_edge",
      [&](Conn& c) -> std::optional<Edge> {
        auto r = c.exec(fmt::format("SELECT {} FROM edges WHERE id = $1 AND {}", kColumns, kLive), Params().uuid(id),
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
  requireNamespaces(filter.namespaces, kCap, "query_edges");
  checkPage(page, kCap, "query_edges");
  SqlBuilder b;
  b.text("SELECT ").text(kColumns).text(" FROM edges");
  appendEdgeFilter(b, filter);
  const char* dir = filter.order == storage::SortOrder::Asc ? " ASC" : " DESC";
  b.text(filter.sort == storage::EdgeSort::CreatedAt ? " ORDER BY created_at" : " ORDER BY weight");
  b.text(dir).text(", id").text(dir);
  b.text(" LIMIT ").integer(page.limit + 1).text(" OFFSET ").integer(page.offset);
  return db_.run(
      kCap, "query_edges",
      [&](Conn& c) {
        auto r = c.exec(b.sql, b.params, kCap, "query_edges");
        storage::Page<Edge> out;
        for (int i = 0; i < r.rows(); ++i) {
          if (static_cast<std::int64_t>(out.items.size()) == page.limit) {
            out.nextOffset = page.offset + page.limit;
            break;
          }
          out.items.push_back(readEdge(r, i));
        }
        return out;
      },
      true);
}

std::int64_t PgGraphStore::countEdges(const storage::EdgeFilter& filter) {
  requireNamespaces(filter.namespaces, kCap, "count_edges");
  SqlBuilder b;
  b.text("SELECT count(*) FROM edges");
  appendEdgeFilter(b, filter);
  return readCount(db_, kCap, "count_edges", b);
}

std::vector<storage::Neighbor> PgGraphStore::neighbors(const Uuid& node, const storage::NeighborQuery& q) {
  requireNamespaces(q.namespaces, kCap, "neighbors");
  checkWeight(q.minWeight, "neighbors");
  if (q.limit < 1 || q.limit > storage::kMaxPageLimit)
    invalid("neighbors", fmt::format("limit must be 1..{}, got {}", storage::kMaxPageLimit, q.limit));
  const auto parts = hopParts(db_, q.direction, q.relations);
  const HopFilter filter{q.namespaces, q.minWeight};
  SqlBuilder b;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) b.text(" UNION ALL ");
    b.text("SELECT ").text(toCol(parts[i])).text(" AS node, e.id, e.relation COLLATE \"C\" AS relation, e.weight, ");
    b.text(parts[i].reported == Direction::Out ? "0" : "1");
    b.text(" FROM edges AS e WHERE ").text(fromCol(parts[i])).text(" = ").uuid(node).text(" AND ");
    appendHopConditions(b, parts[i], filter);
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

std::map<Uuid, std::vector<storage::Neighbor>> PgGraphStore::neighborsBatch(std::span<const Uuid> nodes,
                                                                           const storage::NeighborQuery& q) {
  std::map<Uuid, std::vector<storage::Neighbor>> out;
  for (const auto& n : nodes) {
    if (!out.contains(n)) out.emplace(n, neighbors(n, q));
  }
  return out;
}

std::vector<storage::TraversalTree> PgGraphStore::traverse(const storage::TraverseRequest& r) {
  requireNamespaces(r.namespaces, kCap, "traverse");
  checkDepth(r.maxDepth, "traverse");
  checkWeight(r.minWeight, "traverse");
  if (r.perRootLimit < 1) invalid("traverse", "per_root_limit must be >= 1");
  if (r.maxWork < 1) invalid("traverse", "max_work must be >= 1");
  const auto deadline = std::chrono::steady_clock::now() + r.timeBudget;
  const auto parts = hopParts(db_, r.direction, r.relations);
  const HopFilter filter{r.namespaces, r.minWeight};

  // The walk: a recursive CTE over (node, depth) pairs. UNION (not UNION ALL) drops a pair
  // already produced, so a cycle a->b->a only re-enters `a` at a greater depth and the depth
  // cap ends it. PostgreSQL allows the recursive reference only once, so the hop parts are a
  // UNION ALL inside one LATERAL subquery; and it rejects LIMIT inside the recursive term, so
  // the work budget caps the rows read *from* the CTE instead (`capped`): the executor stops
  // expanding the walk once work + 1 rows were pulled, which is what makes the budget cheap.
  //
  //   WITH RECURSIVE walk(node, depth) AS (
  //     SELECT $1::uuid, 0
  //     UNION SELECT x.node, w.depth + 1 FROM walk AS w CROSS JOIN LATERAL (
  //         SELECT e.target_id FROM edges e WHERE e.source_id = w.node AND <live, ns, rel, weight>
  //         UNION ALL SELECT e.source_id FROM edges e WHERE e.target_id = w.node AND <symmetric>) AS x(node)
  //       WHERE w.depth < :max),
  //   capped AS (SELECT node, depth FROM walk LIMIT :work + 1)
  //   SELECT node, min(depth), count(*) FROM capped GROUP BY node ORDER BY 2, 1
  auto walkSql = [&](const Uuid& root) {
    SqlBuilder walk;
    walk.text("WITH RECURSIVE walk(node, depth) AS (SELECT ").uuid(root).text("::uuid, 0");
    walk.text(" UNION SELECT x.node, w.depth + 1 FROM walk AS w CROSS JOIN LATERAL (");
    for (std::size_t i = 0; i < parts.size(); ++i) {
      if (i) walk.text(" UNION ALL ");
      walk.text("SELECT ").text(toCol(parts[i])).text(" AS node FROM edges AS e WHERE ").text(fromCol(parts[i]));
      walk.text(" = w.node AND ");
      appendHopConditions(walk, parts[i], filter);
    }
    walk.text(") AS x WHERE w.depth < ").integer(r.maxDepth);
    walk.text("), capped AS (SELECT node, depth FROM walk LIMIT ").integer(r.maxWork + 1);
    walk.text(") SELECT node, min(depth) AS d, count(*) FROM capped GROUP BY node ORDER BY d, node");
    return walk;
  };

  auto viaSql = [&](const std::vector<Uuid>& ids) {
    SqlBuilder b;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      if (i) b.text(" UNION ALL ");
      b.text("SELECT f.node, ").text(fromCol(parts[i])).text(", e.id FROM unnest(").uuids(ids);
      b.text(") AS f(node) JOIN edges AS e ON ").text(toCol(parts[i])).text(" = f.node WHERE ");
      appendHopConditions(b, parts[i], filter);
    }
    b.text(" ORDER BY 1, 2, 3");
    return b;
  };

  std::vector<storage::TraversalTree> trees;
  db_.run(
      kCap, "traverse",
      [&](Conn& c) {
        trees.clear();
        // One read-only transaction: one snapshot for every root, and a statement_timeout
        // scoped to it.
        Tx tx(c, kCap, "traverse", false, true);
        for (const auto& root : r.roots) {
          setTimeBudget(c, deadline, "traverse");
          storage::TraversalTree tree;
          tree.rootId = root;
          if (!isLiveNode(c, root, "traverse")) {
            trees.push_back(std::move(tree));
            continue;
          }
          std::vector<std::pair<Uuid, int>> reached;
          std::int64_t work = 0;
          {
            auto walk = walkSql(root);
            auto res = c.exec(walk.sql, walk.params, kCap, "traverse");
            for (int i = 0; i < res.rows(); ++i) {
              reached.emplace_back(res.getUuid(i, 0), static_cast<int>(res.getInt(i, 1)));
              work += res.getInt(i, 2);
            }
          }
          if (work > r.maxWork) {
            throw Error(ErrorCode::InvalidInput, std::string(kCap), "traverse",
                        fmt::format("the traversal from {} exceeded its work budget of {} walk rows; lower "
                                    "max_depth, filter relations or raise max_work",
                                    root.str(), r.maxWork));
          }
          if (static_cast<std::int64_t>(reached.size()) > r.perRootLimit) {
            reached.resize(static_cast<std::size_t>(r.perRootLimit));
            tree.truncated = true;
          }
          std::unordered_map<Uuid, int> depthOf;
          std::vector<Uuid> nonRoot;
          for (const auto& [id, d] : reached) {
            depthOf.emplace(id, d);
            if (d > 0) nonRoot.push_back(id);
          }
          std::unordered_map<Uuid, std::pair<Uuid, Uuid>> via;  // node -> (parent, edge)
          if (!nonRoot.empty()) {
            auto b = viaSql(nonRoot);
            auto res = c.exec(b.sql, b.params, kCap, "traverse");
            for (int i = 0; i < res.rows(); ++i) {
              Uuid node = res.getUuid(i, 0);
              if (via.contains(node)) continue;
              auto parent = depthOf.find(res.getUuid(i, 1));
              if (parent != depthOf.end() && parent->second == depthOf[node] - 1) {
                via.emplace(node, std::pair{parent->first, res.getUuid(i, 2)});
              }
            }
          }
          for (const auto& [id, d] : reached) {
            storage::TraversalNode n;
            n.id = id;
            n.depth = d;
            if (auto it = via.find(id); it != via.end()) {
              n.parentId = it->second.first;
              n.viaEdge = it->second.second;
            }
            tree.nodes.push_back(std::move(n));
          }
          trees.push_back(std::move(tree));
        }
        tx.commit();
      },
      true);
  return trees;
}

std::optional<storage::GraphPath> PgGraphStore::shortestPath(const Uuid& from, const Uuid& to,
                                                             const storage::PathQuery& q) {
  requireNamespaces(q.namespaces, kCap, "shortest_path");
  checkDepth(q.maxDepth, "shortest_path");
  checkWeight(q.minWeight, "shortest_path");
  const HopFilter filter{q.namespaces, q.minWeight};
  const Direction mirror =
      q.direction == Direction::Out ? Direction::In : (q.direction == Direction::In ? Direction::Out : Direction::Both);
  return db_.run(
      kCap, "shortest_path",
      [&](Conn& c) -> std::optional<storage::GraphPath> {
        Tx tx(c, kCap, "shortest_path", false, true);
        if (!isLiveNode(c, from, "shortest_path") || !isLiveNode(c, to, "shortest_path")) return std::nullopt;
        if (from == to) return storage::GraphPath{{from}, {}};
        // Bidirectional breadth-first search, one SQL step per level, expanding the smaller
        // frontier; the same algorithm (and tie-breaks) as the SQLite backend.
        struct Side {
          std::vector<HopPart> parts;
          std::unordered_map<Uuid, std::pair<Uuid, Uuid>> parent;  // node -> (prev, edge)
          std::unordered_map<Uuid, int> depth;
          std::vector<Uuid> frontier;
          int level = 0;
        };
        Side fwd{hopParts(db_, q.direction, q.relations), {}, {{from, 0}}, {from}, 0};
        Side bwd{hopParts(db_, mirror, q.relations), {}, {{to, 0}}, {to}, 0};
        while (!fwd.frontier.empty() && !bwd.frontier.empty() && fwd.level + bwd.level < q.maxDepth) {
          const bool forward = fwd.frontier.size() <= bwd.frontier.size();
          Side& side = forward ? fwd : bwd;
          Side& other = forward ? bwd : fwd;
          auto rows = expandFrontier(c, side.parts, filter, side.frontier, "shortest_path");
          ++side.level;
          std::vector<Uuid> next;
          for (auto& [prev, node, edge] : rows) {
            if (side.depth.contains(node)) continue;
            side.depth.emplace(node, side.level);
            side.parent.emplace(node, std::pair{prev, edge});
            next.push_back(node);
          }
          side.frontier = std::move(next);
          const Uuid* best = nullptr;
          int bestDepth = 0;
          for (const auto& node : side.frontier) {
            auto it = other.depth.find(node);
            if (it == other.depth.end()) continue;
            if (!best || it->second < bestDepth || (it->second == bestDepth && node < *best)) {
              best = &node;
              bestDepth = it->second;
            }
          }
          if (!best) continue;
          storage::GraphPath path;
          std::vector<std::pair<Uuid, Uuid>> head;  // (node, edge into it) from `from`
          for (Uuid n = *best; n != from;) {
            const auto& [prev, edge] = fwd.parent.at(n);
            head.emplace_back(n, edge);
            n = prev;
          }
          path.nodes.push_back(from);
          for (auto it = head.rbegin(); it != head.rend(); ++it) {
            path.edges.push_back(it->second);
            path.nodes.push_back(it->first);
          }
          for (Uuid n = *best; n != to;) {
            const auto& [nx, edge] = bwd.parent.at(n);
            path.edges.push_back(edge);
            path.nodes.push_back(nx);
            n = nx;
          }
          return path;
        }
        return std::nullopt;
      },
      true);
}

}  // namespace khive::postgres
