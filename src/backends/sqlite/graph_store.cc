#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "khive/storage/record_checks.h"
#include "backends/sqlite/sql_build.h"
#include "backends/sqlite/stores.h"

namespace khive::sqlite {

namespace {
constexpr std::string_view kCap = "graph";
constexpr std::string_view kColumns =
    "id, namespace, source_id, target_id, relation, weight, metadata, created_at, updated_at, deleted_at";
// An edge that normal reads see: not soft-deleted and neither endpoint soft-deleted.
constexpr std::string_view kLive = "deleted_at IS NULL AND endpoint_deleted = 0";

using storage::Direction;

[[noreturn]] void invalid(std::string_view op, std::string msg) {
  throw Error(ErrorCode::InvalidInput, std::string(kCap), std::string(op), std::move(msg));
}

void validate(const Edge& e) {
  if (e.id.isNil()) invalid("upsert_edge", "edge id is the nil UUID; generate one with Uuid::v7()");
  if (e.ns.empty()) invalid("upsert_edge", "edge namespace is empty");
  if (e.relation.empty()) invalid("upsert_edge", "edge relation is empty");
  if (e.sourceId.isNil() || e.targetId.isNil()) invalid("upsert_edge", "edge endpoints must be non-nil UUIDs");
  if (!std::isfinite(e.weight) || e.weight < 0 || e.weight > 1)
    invalid("upsert_edge", fmt::format("edge weight must be within [0, 1], got {}", e.weight));
  if (!e.metadata.is_object()) invalid("upsert_edge", "edge metadata must be a JSON object");
  storage::checkRecordText(e, kCap, "upsert_edge");
}

Edge readEdge(const Stmt& s) {
  Edge e;
  e.id = Uuid::parse(s.getTextView(0));
  e.ns = s.getText(1);
  e.sourceId = Uuid::parse(s.getTextView(2));
  e.targetId = Uuid::parse(s.getTextView(3));
  e.relation = s.getText(4);
  e.weight = s.getDouble(5);
  e.metadata = Json::parse(s.getTextView(6));
  e.createdAt = s.getInt(7);
  e.updatedAt = s.getInt(8);
  e.deletedAt = s.getOptInt(9);
  return e;
}

// One way of following edges. `forward` follows source -> target; otherwise target -> source.
// A walk in direction Out follows every edge forward and symmetric edges backward too (they
// are stored once, smaller UUID first, but mean both ways); In is the mirror; Both follows
// every edge both ways. Self-loops are followed once.
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

// Conditions on edge alias `e` for one hop part.
void appendHopConditions(SqlBuilder& b, const HopPart& part, const HopFilter& f) {
  b.text("e.deleted_at IS NULL AND e.endpoint_deleted = 0 AND e.namespace IN ").inList(f.namespaces);
  if (!part.relations.empty()) b.text(" AND e.relation IN ").inList(part.relations);
  if (f.minWeight) b.text(" AND e.weight >= ").param(*f.minWeight);
  if (part.skipSelfLoops) b.text(" AND e.source_id <> e.target_id");
}

// The column an edge is entered from and the one it leads to, for a hop part.
std::string_view fromCol(const HopPart& p) {
  return p.forward ? "e.source_id" : "e.target_id";
}
std::string_view toCol(const HopPart& p) {
  return p.forward ? "e.target_id" : "e.source_id";
}

void checkWeight(std::optional<double> w, std::string_view op) {
  if (w && (!std::isfinite(*w) || *w < 0 || *w > 1))
    invalid(op, fmt::format("min_weight must be within [0, 1], got {}", *w));
}

void checkDepth(int depth, std::string_view op) {
  if (depth < 1 || depth > storage::kMaxTraversalDepth) {
    invalid(op, fmt::format("max_depth must be 1..{}, got {}", storage::kMaxTraversalDepth, depth));
  }
}

std::string jsonArray(const std::vector<std::string>& ids) {
  return Json(ids).dump();
}

// Rows (anchor, other, edge) for every live edge touching the anchors in `anchors` (a JSON
// array), along the given hop parts. With `fromAnchor` the anchor is where the hop starts
// (a frontier expanding: other = the next node); otherwise the anchor is where it ends
// (other = the node it came from). Ordered by (anchor, other, edge) or, with `byOther`, by
// (other, anchor, edge).
//
// Each anchor's edges come from a correlated scalar subquery rather than a join: a join of
// json_each with edges gets a Bloom filter over the whole edge table once ANALYZE statistics
// exist (measured: a 3-hop walk went from 0.7 ms to 45 ms on 100k edges; neither CROSS JOIN,
// a unary '+' nor INDEXED BY prevents it). Ids are canonical 36-character UUID text, so each
// array element is the other node's id followed by the edge's id, split with substr (cheaper
// than a JSON pair parsed twice).
SqlBuilder hopRowsSql(const std::vector<HopPart>& parts, const HopFilter& f, const std::string& anchors,
                      bool fromAnchor, bool byOther) {
  SqlBuilder b;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto& p = parts[i];
    if (i) b.text(" UNION ALL ");
    b.text("SELECT a.value, substr(j.value, 1, 36), substr(j.value, 37) FROM json_each(").param(anchors);
    b.text(") AS a, json_each((SELECT json_group_array(").text(fromAnchor ? toCol(p) : fromCol(p));
    b.text(" || e.id) FROM edges AS e WHERE ").text(fromAnchor ? fromCol(p) : toCol(p)).text(" = a.value AND ");
    appendHopConditions(b, p, f);
    b.text(")) AS j");
  }
  b.text(byOther ? " ORDER BY 2, 1, 3" : " ORDER BY 1, 2, 3");
  return b;
}

// One step of a breadth-first search: every (from, to, edge) reachable in one hop from the
// frontier, ordered so that the first row for a `to` names its smallest parent and edge.
// At most `limit` rows (0: no limit).
std::vector<std::array<std::string, 3>> expandFrontier(Conn& conn, const std::vector<HopPart>& parts,
                                                       const HopFilter& f, const std::vector<std::string>& frontier,
                                                       std::string_view op, std::int64_t limit = 0) {
  auto b = hopRowsSql(parts, f, jsonArray(frontier), true, true);
  if (limit > 0) b.text(" LIMIT ").param(limit);
  auto stmt = conn.prepare(b.sql, kCap, op);
  stmt.bindAll(b.params);
  std::vector<std::array<std::string, 3>> rows;
  while (stmt.step()) rows.push_back({stmt.getText(0), stmt.getText(1), stmt.getText(2)});
  return rows;
}

bool isLiveNode(Conn& conn, const std::string& id, std::string_view op) {
  auto stmt = conn.prepare(
      "SELECT EXISTS (SELECT 1 FROM entities WHERE id = ?1 AND deleted_at IS NULL) "
      "OR EXISTS (SELECT 1 FROM notes WHERE id = ?1 AND deleted_at IS NULL)",
      kCap, op);
  stmt.bindText(1, id);
  stmt.step();
  return stmt.getInt(0) != 0;
}

void appendEdgeFilter(SqlBuilder& b, const storage::EdgeFilter& f) {
  b.text(" WHERE namespace IN ").inList(f.namespaces);
  if (!f.includeDeleted) b.text(" AND ").text(kLive);
  if (!f.sources.empty()) b.text(" AND source_id IN ").inList(f.sources);
  if (!f.targets.empty()) b.text(" AND target_id IN ").inList(f.targets);
  if (!f.relations.empty()) b.text(" AND relation IN ").inList(f.relations);
  if (f.minWeight) b.text(" AND weight >= ").param(*f.minWeight);
  if (f.maxWeight) b.text(" AND weight <= ").param(*f.maxWeight);
  if (f.createdAfter) b.text(" AND created_at >= ").param(*f.createdAfter);
  if (f.createdBefore) b.text(" AND created_at < ").param(*f.createdBefore);
}

class DeadlineScope {
 public:
  DeadlineScope(Conn& conn, std::chrono::steady_clock::time_point deadline) : conn_(conn) {
    conn_.setDeadline(deadline);
  }
  ~DeadlineScope() { conn_.setDeadline(std::nullopt); }
  DeadlineScope(const DeadlineScope&) = delete;
  DeadlineScope& operator=(const DeadlineScope&) = delete;

 private:
  Conn& conn_;
};
}  // namespace

EdgeForm storedFormOf(const Database& db, const Edge& in, Micros now) {
  validate(in);
  const bool swap = db.isSymmetric(in.relation) && in.targetId < in.sourceId;
  return {.source = swap ? in.targetId : in.sourceId,
          .target = swap ? in.sourceId : in.targetId,
          .createdAt = in.createdAt == 0 ? now : in.createdAt,
          .updatedAt = in.updatedAt == 0 ? now : in.updatedAt};
}

EdgeRow edgeRowOf(const Database& db, const Edge& in, Micros now) {
  const EdgeForm f = storedFormOf(db, in, now);
  EdgeRow r;
  r.id = in.id.str();
  r.ns = in.ns;
  r.source = f.source.str();
  r.target = f.target.str();
  r.relation = in.relation;
  r.weight = in.weight;
  r.metadata = in.metadata.dump();
  r.createdAt = f.createdAt;
  r.updatedAt = f.updatedAt;
  r.deletedAt = in.deletedAt;
  return r;
}

void bindEdgeRow(Stmt& stmt, const EdgeRow& r) {
  stmt.bindText(1, r.id)
      .bindText(2, r.ns)
      .bindText(3, r.source)
      .bindText(4, r.target)
      .bindText(5, r.relation)
      .bindDouble(6, r.weight)
      .bindText(7, r.metadata)
      .bindInt(8, r.createdAt)
      .bindInt(9, r.updatedAt)
      .bindOptInt(10, r.deletedAt);
}

bool writeEdgeRow(Conn& conn, EdgeRow& r, bool noDeletedNodes) {
  // Upsert on the natural key: an existing edge keeps its id and created_at and takes the new
  // weight, metadata and deleted_at (normally NULL: a revival). A new edge -- the common case
  // in bulk loads -- is one INSERT OR IGNORE; only when it inserts nothing does a probe of the
  // clustered key choose between UPDATE and a Conflict (the id names another edge). Neither
  // statement runs through a statement journal, unlike INSERT ... ON CONFLICT DO UPDATE. The
  // endpoint-state probes read the partial indexes of soft-deleted nodes (empty when nothing
  // is soft-deleted).
  // OR IGNORE also skips a row that breaks a CHECK or NOT NULL constraint; when the probe
  // then finds no edge, the plain INSERT runs again to report what was wrong.
  static constexpr std::string_view kInsert =
      " INTO edges (id, namespace, source_id, target_id, relation, weight, metadata, created_at, "
      "updated_at, deleted_at, endpoint_deleted) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ";
  static constexpr std::string_view kEndpointState =
      "(SELECT count(*) FROM entities INDEXED BY entities_deleted WHERE id = ?3 AND deleted_at IS NOT NULL)"
      " + (SELECT count(*) FROM notes INDEXED BY notes_deleted WHERE id = ?3 AND deleted_at IS NOT NULL)"
      " + (SELECT count(*) FROM entities INDEXED BY entities_deleted WHERE id = ?4 AND deleted_at IS NOT NULL)"
      " + (SELECT count(*) FROM notes INDEXED BY notes_deleted WHERE id = ?4 AND deleted_at IS NOT NULL))";
  auto insert = [&](bool orIgnore) {
    static const std::string kInsertOrIgnore = "INSERT OR IGNORE" + std::string(kInsert) + std::string(kEndpointState);
    static const std::string kInsertOrIgnoreLive = "INSERT OR IGNORE" + std::string(kInsert) + "0)";
    static const std::string kPlainInsert = "INSERT" + std::string(kInsert) + std::string(kEndpointState);
    auto stmt = conn.prepare(!orIgnore        ? kPlainInsert
                             : noDeletedNodes ? kInsertOrIgnoreLive
                                              : kInsertOrIgnore,
                             kCap, "upsert_edge");
    bindEdgeRow(stmt, r);
    return stmt.run();
  };
  if (insert(true) == 1) return false;
  auto probe = conn.prepare(
      "SELECT id, created_at FROM edges WHERE source_id = ? AND target_id = ? AND relation = ? AND namespace = ?", kCap,
      "upsert_edge");
  probe.bindText(1, r.source).bindText(2, r.target).bindText(3, r.relation).bindText(4, r.ns);
  if (!probe.step()) {
    try {
      insert(false);
    } catch (const Error& err) {
      if (err.code() != ErrorCode::AlreadyExists) throw;
      throw Error(ErrorCode::Conflict, std::string(kCap), "upsert_edge",
                  fmt::format("edge id {} already names an edge with another (namespace, source, target, "
                              "relation); an edge's endpoints and relation cannot change",
                              r.id));
    }
    return false;
  }
  r.id = probe.getText(0);
  r.createdAt = probe.getInt(1);
  // By the natural key (the clustered key), not by id: an EdgeLoad may have set edges_id aside.
  // Numbered as bindEdgeRow binds them (?1 id ... ?10 deleted_at; id and created_at unused).
  auto update = conn.prepare(
      "UPDATE edges SET weight = ?6, metadata = ?7, updated_at = ?9, deleted_at = ?10 WHERE source_id = ?3 AND "
      "target_id = ?4 AND relation = ?5 AND namespace = ?2",
      kCap, "upsert_edge");
  bindEdgeRow(update, r);
  update.run();
  return true;
}

bool noSoftDeletedNodes(Conn& conn) {
  auto probe = conn.prepare(
      "SELECT EXISTS (SELECT 1 FROM entities INDEXED BY entities_deleted WHERE deleted_at IS NOT NULL) OR "
      "EXISTS (SELECT 1 FROM notes INDEXED BY notes_deleted WHERE deleted_at IS NOT NULL)",
      kCap, "upsert_edges");
  probe.step();
  return probe.getInt(0) == 0;
}

Edge SqliteGraphStore::upsertOne(Conn& conn, const Edge& in, Micros now, bool noDeletedNodes) {
  EdgeRow r = edgeRowOf(db_, in, now);
  const bool existing = writeEdgeRow(conn, r, noDeletedNodes);
  Edge e = in;
  if (db_.isSymmetric(in.relation) && in.targetId < in.sourceId) std::swap(e.sourceId, e.targetId);
  if (existing) e.id = Uuid::parse(r.id);
  e.createdAt = r.createdAt;
  e.updatedAt = r.updatedAt;
  return e;
}

Edge SqliteGraphStore::upsertEdge(const Edge& edge) {
  WriteTx tx(db_, kCap, "upsert_edge");
  Edge out = upsertOne(tx.conn(), edge, db_.now());
  tx.commit();
  return out;
}

std::unique_ptr<storage::EdgeLoad> SqliteGraphStore::beginLoad() {
  return makeEdgeLoad(db_);
}

storage::BatchWriteSummary SqliteGraphStore::upsertEdges(std::span<const Edge> edges) {
  // Written in clustered-key order (source, target first).
  auto order = inKeyOrder(edges, [](const Edge& e) { return std::tie(e.sourceId, e.targetId); });
  // Soft-deleted nodes are rare: when there are none, a new edge's endpoint state needs no
  // probes. The test runs once, in the batch's transaction (before its first row), which no
  // other writer can enter.
  std::optional<bool> noDeletedNodes;
  return writeBatch(db_, kCap, "upsert_edges", std::span<const Edge* const>(order),
                    [this, &noDeletedNodes](Conn& c, const Edge* e, Micros now) {
                      if (!noDeletedNodes) noDeletedNodes = noSoftDeletedNodes(c);
                      upsertOne(c, *e, now, *noDeletedNodes);
                    });
}

std::optional<Edge> SqliteGraphStore::getEdge(const Uuid& id) {
  auto lease = db_.acquireReader(kCap, "get_edge");
  auto stmt =
      lease.conn().prepare(fmt::format("SELECT {} FROM edges WHERE id = ? AND {}", kColumns, kLive), kCap, "get_edge");
  stmt.bindText(1, id.str());
  if (!stmt.step()) return std::nullopt;
  return readEdge(stmt);
}

std::vector<Edge> SqliteGraphStore::getEdges(std::span<const Uuid> ids) {
  std::vector<Edge> out;
  if (ids.empty()) return out;
  std::vector<std::string> text;
  for (const auto& id : ids) text.push_back(id.str());
  auto lease = db_.acquireReader(kCap, "get_edges");
  auto stmt = lease.conn().prepare(
      "SELECT e.id, e.namespace, e.source_id, e.target_id, e.relation, e.weight, e.metadata, e.created_at, "
      "e.updated_at, e.deleted_at FROM json_each(?) AS f CROSS JOIN edges AS e ON e.id = f.value "
      "WHERE e.deleted_at IS NULL AND e.endpoint_deleted = 0 ORDER BY f.key",
      kCap, "get_edges");
  stmt.bindText(1, jsonArray(text));
  while (stmt.step()) out.push_back(readEdge(stmt));
  return out;
}

bool SqliteGraphStore::deleteEdge(const Uuid& id, storage::DeleteMode mode) {
  WriteTx tx(db_, kCap, "delete_edge");
  std::int64_t changed = 0;
  if (mode == storage::DeleteMode::Soft) {
    auto now = db_.now();
    changed = tx.conn()
                  .prepare("UPDATE edges SET deleted_at = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL", kCap,
                           "delete_edge")
                  .bindInt(1, now)
                  .bindInt(2, now)
                  .bindText(3, id.str())
                  .run();
  } else {
    changed = tx.conn().prepare("DELETE FROM edges WHERE id = ?", kCap, "delete_edge").bindText(1, id.str()).run();
  }
  tx.commit();
  return changed > 0;
}

storage::Page<Edge> SqliteGraphStore::queryEdges(const storage::EdgeFilter& filter, const storage::PageRequest& page) {
  requireNamespaces(filter.namespaces, kCap, "query_edges");
  checkPage(page, kCap, "query_edges");
  SqlBuilder b;
  b.text("SELECT ").text(kColumns).text(" FROM edges");
  appendEdgeFilter(b, filter);
  const char* dir = filter.order == storage::SortOrder::Asc ? " ASC" : " DESC";
  b.text(filter.sort == storage::EdgeSort::CreatedAt ? " ORDER BY created_at" : " ORDER BY weight");
  b.text(dir).text(", id").text(dir);
  b.text(" LIMIT ").param(page.limit + 1).text(" OFFSET ").param(page.offset);
  return readPage<Edge>(db_, kCap, "query_edges", b, page, readEdge);
}

std::int64_t SqliteGraphStore::countEdges(const storage::EdgeFilter& filter) {
  requireNamespaces(filter.namespaces, kCap, "count_edges");
  SqlBuilder b;
  b.text("SELECT count(*) FROM edges");
  appendEdgeFilter(b, filter);
  return readCount(db_, kCap, "count_edges", b);
}

std::vector<storage::Neighbor> SqliteGraphStore::neighbors(const Uuid& node, const storage::NeighborQuery& q) {
  requireNamespaces(q.namespaces, kCap, "neighbors");
  checkWeight(q.minWeight, "neighbors");
  if (q.limit < 1 || q.limit > storage::kMaxPageLimit)
    invalid("neighbors", fmt::format("limit must be 1..{}, got {}", storage::kMaxPageLimit, q.limit));
  const auto parts = hopParts(db_, q.direction, q.relations);
  const HopFilter filter{q.namespaces, q.minWeight};
  SqlBuilder b;
  const std::string id = node.str();
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) b.text(" UNION ALL ");
    b.text("SELECT ").text(toCol(parts[i])).text(" AS node, e.id, e.relation, e.weight, ");
    b.text(parts[i].reported == Direction::Out ? "0" : "1");
    b.text(" FROM edges AS e WHERE ").text(fromCol(parts[i])).text(" = ").param(id).text(" AND ");
    appendHopConditions(b, parts[i], filter);
  }
  b.text(" ORDER BY 4 DESC, 1, 3, 2 LIMIT ").param(q.limit);
  auto lease = db_.acquireReader(kCap, "neighbors");
  auto stmt = lease.conn().prepare(b.sql, kCap, "neighbors");
  stmt.bindAll(b.params);
  std::vector<storage::Neighbor> out;
  while (stmt.step()) {
    out.push_back({Uuid::parse(stmt.getTextView(0)), Uuid::parse(stmt.getTextView(1)), stmt.getText(2),
                   stmt.getDouble(3), stmt.getInt(4) == 0 ? Direction::Out : Direction::In});
  }
  return out;
}

std::map<Uuid, std::vector<storage::Neighbor>> SqliteGraphStore::neighborsBatch(std::span<const Uuid> nodes,
                                                                                const storage::NeighborQuery& q) {
  std::map<Uuid, std::vector<storage::Neighbor>> out;
  for (const auto& n : nodes) {
    if (!out.contains(n)) out.emplace(n, neighbors(n, q));
  }
  return out;
}

std::vector<storage::TraversalTree> SqliteGraphStore::traverse(const storage::TraverseRequest& r) {
  requireNamespaces(r.namespaces, kCap, "traverse");
  checkDepth(r.maxDepth, "traverse");
  checkWeight(r.minWeight, "traverse");
  if (r.perRootLimit < 1) invalid("traverse", "per_root_limit must be >= 1");
  if (r.maxWork < 1) invalid("traverse", "max_work must be >= 1");
  const auto deadline = std::chrono::steady_clock::now() + r.timeBudget;
  const auto parts = hopParts(db_, r.direction, r.relations);
  const HopFilter filter{r.namespaces, r.minWeight};

  // Breadth-first, one SQL step per level (expandFrontier): each node is expanded once, at
  // its least depth, and the first row for a node at the new level names its smallest parent
  // and edge -- each node's answer is its (least depth, smallest parent, smallest edge). The
  // work budget counts the edge rows the levels produce; a level asks for at most the budget
  // left + 1 rows, so exceeding it is detected without reading further. (A recursive CTE did
  // the same walk with a UNION over every (node, depth, parent, edge) and a final sort: about
  // 1.8x the instructions for a 3-hop walk on the 100k/500k bench graph.)
  auto lease = db_.acquireReader(kCap, "traverse");
  Conn& conn = lease.conn();
  DeadlineScope scope(conn, deadline);
  std::vector<storage::TraversalTree> trees;
  for (const auto& root : r.roots) {
    storage::TraversalTree tree;
    tree.rootId = root;
    const std::string rootId = root.str();
    if (!isLiveNode(conn, rootId, "traverse")) {
      trees.push_back(std::move(tree));
      continue;
    }
    std::vector<storage::TraversalNode> reached(1);  // the root itself, at depth 0
    reached[0].id = root;
    reached[0].depth = 0;
    std::unordered_set<std::string> seen{rootId};
    std::vector<std::string> frontier{rootId};
    std::int64_t work = 1;  // the root's own row
    for (int level = 1; level <= r.maxDepth && !frontier.empty(); ++level) {
      if (std::chrono::steady_clock::now() > deadline) {
        throw Error(ErrorCode::Timeout, std::string(kCap), "traverse",
                    "the operation ran past its time budget and was interrupted");
      }
      auto rows = expandFrontier(conn, parts, filter, frontier, "traverse", r.maxWork - work + 1);
      work += static_cast<std::int64_t>(rows.size());
      if (work > r.maxWork) {
        throw Error(ErrorCode::InvalidInput, std::string(kCap), "traverse",
                    fmt::format("the traversal from {} exceeded its work budget of {} walk rows; lower max_depth, "
                                "filter relations or raise max_work",
                                rootId, r.maxWork));
      }
      std::vector<std::string> next;
      for (auto& [parent, node, edge] : rows) {
        if (!seen.insert(node).second) continue;
        storage::TraversalNode n;
        n.id = Uuid::parse(node);
        n.depth = level;
        n.parentId = Uuid::parse(parent);
        n.viaEdge = Uuid::parse(edge);
        reached.push_back(std::move(n));
        next.push_back(std::move(node));
      }
      frontier = std::move(next);
    }
    if (static_cast<std::int64_t>(reached.size()) > r.perRootLimit) {
      reached.resize(static_cast<std::size_t>(r.perRootLimit));
      tree.truncated = true;
    }
    tree.nodes = std::move(reached);
    trees.push_back(std::move(tree));
  }
  return trees;
}

std::optional<storage::GraphPath> SqliteGraphStore::shortestPath(const Uuid& from, const Uuid& to,
                                                                 const storage::PathQuery& q) {
  requireNamespaces(q.namespaces, kCap, "shortest_path");
  checkDepth(q.maxDepth, "shortest_path");
  checkWeight(q.minWeight, "shortest_path");
  auto lease = db_.acquireReader(kCap, "shortest_path");
  Conn& conn = lease.conn();
  const std::string src = from.str(), dst = to.str();
  if (!isLiveNode(conn, src, "shortest_path") || !isLiveNode(conn, dst, "shortest_path")) return std::nullopt;
  if (from == to) return storage::GraphPath{{from}, {}};

  // Bidirectional breadth-first search, one SQL step per level, expanding the smaller
  // frontier. Forward follows the query's direction; backward follows its mirror.
  const HopFilter filter{q.namespaces, q.minWeight};
  const Direction mirror =
      q.direction == Direction::Out ? Direction::In : (q.direction == Direction::In ? Direction::Out : Direction::Both);
  struct Side {
    std::vector<HopPart> parts;
    std::unordered_map<std::string, std::pair<std::string, std::string>> parent;  // node -> (prev, edge)
    std::unordered_map<std::string, int> depth;
    std::vector<std::string> frontier;
    int level = 0;
  };
  Side fwd{hopParts(db_, q.direction, q.relations), {}, {{src, 0}}, {src}, 0};
  Side bwd{hopParts(db_, mirror, q.relations), {}, {{dst, 0}}, {dst}, 0};

  while (!fwd.frontier.empty() && !bwd.frontier.empty() && fwd.level + bwd.level < q.maxDepth) {
    const bool forward = fwd.frontier.size() <= bwd.frontier.size();
    Side& side = forward ? fwd : bwd;
    Side& other = forward ? bwd : fwd;
    auto rows = expandFrontier(conn, side.parts, filter, side.frontier, "shortest_path");
    ++side.level;
    std::vector<std::string> next;
    for (auto& [prev, node, edge] : rows) {
      if (side.depth.contains(node)) continue;
      side.depth.emplace(node, side.level);
      side.parent.emplace(node, std::pair{prev, edge});
      next.push_back(node);
    }
    side.frontier = std::move(next);
    // A meeting node closes a shortest path; among several, the one nearest the other side's
    // start, then the smallest id, keeps the answer deterministic.
    const std::string* best = nullptr;
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
    std::vector<std::pair<std::string, std::string>> head;  // (node, edge into it) from src
    for (std::string n = *best; n != src;) {
      const auto& [prev, edge] = fwd.parent.at(n);
      head.emplace_back(n, edge);
      n = prev;
    }
    path.nodes.push_back(from);
    for (auto it = head.rbegin(); it != head.rend(); ++it) {
      path.edges.push_back(Uuid::parse(it->second));
      path.nodes.push_back(Uuid::parse(it->first));
    }
    for (std::string n = *best; n != dst;) {
      const auto& [next, edge] = bwd.parent.at(n);
      path.edges.push_back(Uuid::parse(edge));
      path.nodes.push_back(Uuid::parse(next));
      n = next;
    }
    return path;
  }
  return std::nullopt;
}

}  // namespace khive::sqlite
