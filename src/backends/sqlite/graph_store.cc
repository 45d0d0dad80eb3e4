#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <tuple>

#include "khive/storage/graph_walk.h"
#include "khive/storage/record_codec.h"
#include "khive/storage/record_statements.h"
#include "backends/sqlite/sql_build.h"
#include "backends/sqlite/stores.h"

namespace khive::sqlite {

namespace {
constexpr std::string_view kCap = "graph";
// An edge that normal reads see: not soft-deleted and neither endpoint soft-deleted.
constexpr std::string_view kLive = "deleted_at IS NULL AND endpoint_deleted = 0";

using storage::Direction;

// The conditions of one hop part on edge alias `e`, each value a parameter numbered after
// those already in `params`.
void appendHopConditions(std::string& sql, storage::SqlParams& params, const storage::HopPart& part,
                         const storage::HopPlan& plan) {
  auto param = [&](const auto& v) {
    params.emplace_back(v);
    sql += fmt::format("?{}", params.size());
  };
  auto inList = [&](const std::vector<std::string>& values) {
    sql += '(';
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (i) sql += ", ";
      param(values[i]);
    }
    sql += ')';
  };
  sql += "e.deleted_at IS NULL AND e.endpoint_deleted = 0 AND e.namespace IN ";
  inList(plan.namespaces);
  if (!part.relations.empty()) {
    sql += " AND e.relation IN ";
    inList(part.relations);
  }
  if (plan.minWeight) {
    sql += " AND e.weight >= ";
    param(*plan.minWeight);
  }
  if (part.skipSelfLoops) sql += " AND e.source_id <> e.target_id";
}

// The column an edge is entered from and the one it leads to, for a hop part.
std::string_view fromCol(const storage::HopPart& p) {
  return p.forward ? "e.source_id" : "e.target_id";
}
std::string_view toCol(const storage::HopPart& p) {
  return p.forward ? "e.target_id" : "e.source_id";
}

// A stored id: canonical 36-character lowercase UUID text, as khive writes it (anything else
// goes through Uuid::parse, which reports it).
Uuid storedId(std::string_view text) {
  static constexpr auto kHex = [] {
    std::array<std::int8_t, 256> t{};
    t.fill(-1);
    for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = static_cast<std::int8_t>(c - '0');
    for (int c = 'a'; c <= 'f'; ++c) t[static_cast<std::size_t>(c)] = static_cast<std::int8_t>(c - 'a' + 10);
    return t;
  }();
  if (text.size() != 36) return Uuid::parse(text);
  Uuid::Bytes b{};
  std::size_t at = 0;
  int bad = 0;
  for (std::size_t i = 0; i < 16; ++i) {
    if (at == 8 || at == 13 || at == 18 || at == 23) {
      bad |= text[at] != '-';
      ++at;
    }
    const int hi = kHex[static_cast<unsigned char>(text[at])], lo = kHex[static_cast<unsigned char>(text[at + 1])];
    bad |= (hi | lo) < 0;
    b[i] = static_cast<std::uint8_t>((hi << 4) | (lo & 0x0F));
    at += 2;
  }
  return bad ? Uuid::parse(text) : Uuid(b);
}

std::string jsonArray(const std::vector<std::string>& ids) {
  return Json(ids).dump();
}

// The frontier primitive on one reader connection. A level is one statement, prepared once
// per plan shape and then taken from the connection's statement cache: ?1 is the frontier
// (a JSON array of ids), ?2 the row limit (-1: none), the hop conditions follow.
//
// Each frontier node's edges come from a correlated scalar subquery rather than a join: a
// join of json_each with edges gets a Bloom filter over the whole edge table once ANALYZE
// statistics exist (a 3-hop walk then reads every edge); neither CROSS JOIN, a unary '+' nor
// INDEXED BY prevents it. Ids are canonical 36-character UUID text, so each array element is
// the other node's id followed by the edge's id, split in two (cheaper than a JSON pair parsed
// twice); the frontier node comes back as its index in the frontier (json_each's key):
//
//   SELECT a.key, j.value FROM json_each(?1) AS a,
//     json_each((SELECT json_group_array(e.target_id || e.id) FROM edges AS e
//                WHERE e.source_id = a.value AND <live, namespace, relation, weight>)) AS j
//   UNION ALL <the same for the next hop part>
//   LIMIT ?2
// Single-threaded, like its connection.
class SqliteFrontier final : public storage::FrontierSource {
 public:
  SqliteFrontier(Conn& conn, std::string_view op) : conn_(conn), op_(op) {}

  bool isLiveNode(const Uuid& node) override {
    auto stmt = conn_.prepare(
        "SELECT EXISTS (SELECT 1 FROM entities WHERE id = ?1 AND deleted_at IS NULL) "
        "OR EXISTS (SELECT 1 FROM notes WHERE id = ?1 AND deleted_at IS NULL)",
        kCap, op_);
    char id[36];
    node.format(id);
    stmt.bindText(1, std::string_view(id, sizeof id));
    stmt.step();
    return stmt.getInt(0) != 0;
  }

  std::vector<storage::Hop> expand(const storage::HopPlan& plan, std::span<const Uuid> frontier,
                                   std::int64_t limit) override {
    Shape& shape = shapeOf(plan);
    std::string anchors;
    anchors.reserve(frontier.size() * 39 + 2);
    anchors += '[';
    for (const auto& id : frontier) {
      if (anchors.size() > 1) anchors += ',';
      anchors += '"';
      const std::size_t at = anchors.size();
      anchors.resize(at + 36);
      id.format(anchors.data() + at);
      anchors += '"';
    }
    anchors += ']';
    auto stmt = conn_.prepare(shape.sql, kCap, op_);
    stmt.bindText(1, anchors).bindInt(2, limit > 0 ? limit : -1);
    for (std::size_t i = 0; i < shape.params.size(); ++i) stmt.bind(static_cast<int>(i + 3), shape.params[i]);
    std::vector<storage::Hop> rows;
    while (stmt.step()) {
      const auto from = static_cast<std::size_t>(stmt.getInt(0));
      const std::string_view pair = stmt.getTextView(1);
      if (from >= frontier.size() || pair.size() != 72) {
        throw Error(ErrorCode::Driver, std::string(kCap), std::string(op_), "a hop row is not (frontier index, ids)");
      }
      rows.push_back({frontier[from], storedId(pair.substr(0, 36)), storedId(pair.substr(36))});
    }
    return rows;
  }

 private:
  struct Shape {
    const storage::HopPlan* plan = nullptr;
    std::string sql;
    storage::SqlParams params;  // ?3 on
  };

  Shape& shapeOf(const storage::HopPlan& plan) {
    for (auto& s : shapes_)
      if (s.plan == &plan) return s;
    Shape& s = shapes_.emplace_back();
    s.plan = &plan;
    s.params = {std::string(), std::int64_t{0}};  // ?1 and ?2, bound per call
    for (std::size_t i = 0; i < plan.parts.size(); ++i) {
      const auto& p = plan.parts[i];
      if (i) s.sql += " UNION ALL ";
      s.sql += fmt::format("SELECT a.key, j.value FROM json_each(?1) AS a, json_each((SELECT json_group_array({} || e.id) FROM edges AS e WHERE {} = a.value AND ",
                           toCol(p), fromCol(p));
      appendHopConditions(s.sql, s.params, p, plan);
      s.sql += ")) AS j";
    }
    s.sql += " LIMIT ?2";
    s.params.erase(s.params.begin(), s.params.begin() + 2);
    return s;
  }

  Conn& conn_;
  std::string_view op_;
  std::vector<Shape> shapes_;  // one per plan this walk expands (two for a shortest path)
};

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
  storage::checkEdge(in, "upsert_edge");
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
  return writeOne(db_, kCap, "upsert_edge", [&](Conn& c, Micros now) { return upsertOne(c, edge, now); });
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
      lease.conn().prepare(fmt::format("SELECT {} FROM edges WHERE id = ? AND {}", storage::kEdgeColumns, kLive), kCap, "get_edge");
  stmt.bindText(1, id.str());
  if (!stmt.step()) return std::nullopt;
  return storage::decodeEdge(stmt);
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
  while (stmt.step()) out.push_back(storage::decodeEdge(stmt));
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
  auto b = storage::pageStatement<SqlBuilder>(kCap, "query_edges", storage::kEdgeColumns, "edges", filter, page,
                                              appendEdgeFilter, storage::edgeOrderBy(filter));
  return readPage<Edge>(db_, kCap, "query_edges", b, page, storage::decodeEdge<Stmt>);
}

std::int64_t SqliteGraphStore::countEdges(const storage::EdgeFilter& filter) {
  return readCount(db_, kCap, "count_edges",
                   storage::countStatement<SqlBuilder>(kCap, "count_edges", "edges", filter, appendEdgeFilter));
}

std::shared_ptr<const SqliteGraphStore::NeighborShape> SqliteGraphStore::neighborShape(
    const storage::NeighborQuery& q) {
  {
    std::lock_guard lock(shapesMu_);
    for (const auto& s : shapes_) {
      if (s->direction == q.direction && s->minWeight == q.minWeight && s->relations == q.relations &&
          s->namespaces == q.namespaces)
        return s;
    }
  }
  auto shape = std::make_shared<NeighborShape>();
  shape->direction = q.direction;
  shape->relations = q.relations;
  shape->namespaces = q.namespaces;
  shape->minWeight = q.minWeight;
  const auto plan = storage::planHops(q.direction, q.relations, db_.symmetricRelations(), q.namespaces, q.minWeight);
  shape->params = {std::string(), std::int64_t{0}};  // ?1 and ?2, bound per call
  for (std::size_t i = 0; i < plan.parts.size(); ++i) {
    const auto& p = plan.parts[i];
    if (i) shape->sql += " UNION ALL ";
    shape->sql += fmt::format("SELECT {} AS node, e.id, e.relation, e.weight, {} FROM edges AS e WHERE {} = ?1 AND ",
                              toCol(p), p.reported == Direction::Out ? 0 : 1, fromCol(p));
    appendHopConditions(shape->sql, shape->params, p, plan);
  }
  shape->orderedSql = shape->sql + " ORDER BY 4 DESC, 1, 3, 2 LIMIT ?2";
  shape->sql += " LIMIT ?2";
  shape->params.erase(shape->params.begin(), shape->params.begin() + 2);
  std::lock_guard lock(shapesMu_);
  if (shapes_.size() >= 32) shapes_.clear();
  shapes_.push_back(shape);
  return shape;
}

std::vector<storage::Neighbor> SqliteGraphStore::neighbors(const Uuid& node, const storage::NeighborQuery& q) {
  storage::checkNeighborQuery(q);
  const auto shape = neighborShape(q);
  char id[36];
  node.format(id);
  auto lease = db_.acquireReader(kCap, "neighbors");
  // A node's edges, up to kUnsorted of them, are read in no order and sorted here: cheaper
  // than the statement's sort, which merges one sorter per hop part. A node with more runs
  // the ordered statement, which reads the same edges but keeps only the first `limit`.
  constexpr std::int64_t kUnsorted = 1024;
  auto read = [&](const std::string& sql, std::int64_t limit) {
    auto stmt = lease.conn().prepare(sql, kCap, "neighbors");
    stmt.bindText(1, std::string_view(id, sizeof id)).bindInt(2, limit);
    for (std::size_t i = 0; i < shape->params.size(); ++i) stmt.bind(static_cast<int>(i + 3), shape->params[i]);
    std::vector<storage::Neighbor> out;
    while (stmt.step()) {
      out.push_back({storedId(stmt.getTextView(0)), storedId(stmt.getTextView(1)), stmt.getText(2), stmt.getDouble(3),
                     stmt.getInt(4) == 0 ? Direction::Out : Direction::In});
    }
    return out;
  };
  auto out = read(shape->sql, kUnsorted);
  if (static_cast<std::int64_t>(out.size()) >= kUnsorted) return read(shape->orderedSql, q.limit);
  // The ordered statement's order: weight descending, then node, relation and edge id (ids
  // are canonical UUID text, which sorts as the bytes do).
  std::sort(out.begin(), out.end(), [](const storage::Neighbor& a, const storage::Neighbor& b) {
    if (a.weight != b.weight) return a.weight > b.weight;
    return std::tie(a.nodeId, a.relation, a.edgeId) < std::tie(b.nodeId, b.relation, b.edgeId);
  });
  if (static_cast<std::int64_t>(out.size()) > q.limit) out.resize(static_cast<std::size_t>(q.limit));
  return out;
}

std::vector<storage::TraversalTree> SqliteGraphStore::traverse(const storage::TraverseRequest& r) {
  storage::checkTraverseRequest(r);
  const auto deadline = std::chrono::steady_clock::now() + r.timeBudget;
  const auto plan = storage::planHops(r.direction, r.relations, db_.symmetricRelations(), r.namespaces, r.minWeight);
  auto lease = db_.acquireReader(kCap, "traverse");
  DeadlineScope scope(lease.conn(), deadline);
  SqliteFrontier frontier(lease.conn(), "traverse");
  return storage::walkTrees(frontier, r, plan, deadline);
}

std::optional<storage::GraphPath> SqliteGraphStore::shortestPath(const Uuid& from, const Uuid& to,
                                                                 const storage::PathQuery& q) {
  storage::checkPathQuery(q);
  const auto& symmetric = db_.symmetricRelations();
  const auto forward = storage::planHops(q.direction, q.relations, symmetric, q.namespaces, q.minWeight);
  const auto backward =
      storage::planHops(storage::mirrored(q.direction), q.relations, symmetric, q.namespaces, q.minWeight);
  auto lease = db_.acquireReader(kCap, "shortest_path");
  SqliteFrontier frontier(lease.conn(), "shortest_path");
  return storage::searchPath(frontier, from, to, q.maxDepth, forward, backward);
}

}  // namespace khive::sqlite
