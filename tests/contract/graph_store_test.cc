#include <algorithm>
#include <map>
#include <set>

#include "contract/contract_fixture.h"

namespace khive::testing {
namespace {

using storage::DeleteMode;
using storage::Direction;
using storage::NeighborQuery;
using storage::TraverseRequest;

class GraphContract : public ContractTest {
 protected:
  std::vector<Entity> chain(int n, const std::string& relation = "precedes") {
    std::vector<Entity> out;
    for (int i = 0; i < n; ++i) out.push_back(entity("c" + std::to_string(i)));
    for (int i = 0; i + 1 < n; ++i) link(out[i].id, relation, out[i + 1].id);
    return out;
  }
  std::vector<Uuid> ids(const std::vector<storage::Neighbor>& ns) {
    std::vector<Uuid> out;
    for (auto& n : ns) out.push_back(n.nodeId);
    return out;
  }
};

TEST_P(GraphContract, UpsertGetAndDefaults) {
  auto a = entity("a");
  auto b = entity("b");
  Edge e;
  e.id = Uuid::v7();
  e.ns = "ns1";
  e.sourceId = a.id;
  e.targetId = b.id;
  e.relation = "depends_on";
  e.metadata = Json{{"why", "build"}};
  auto stored = db->graph().upsertEdge(e);
  EXPECT_EQ(stored.weight, 1.0);
  auto got = db->graph().getEdge(e.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, stored);
  auto many = db->graph().getEdges(std::vector<Uuid>{Uuid::v7(), e.id});
  ASSERT_EQ(many.size(), 1u);
  EXPECT_EQ(many[0].id, e.id);
}

TEST_P(GraphContract, RelinkRevivesSoftDeletedEdgeKeepingIdAndCreatedAt) {
  auto a = entity("a");
  auto b = entity("b");
  auto first = link(a.id, "extends", b.id, 0.5);
  EXPECT_TRUE(db->graph().deleteEdge(first.id, DeleteMode::Soft));
  EXPECT_FALSE(db->graph().getEdge(first.id));
  EXPECT_FALSE(db->graph().deleteEdge(first.id, DeleteMode::Soft));
  auto again = link(a.id, "extends", b.id, 0.8);  // a new id, the same natural key
  EXPECT_EQ(again.id, first.id);
  EXPECT_EQ(again.createdAt, first.createdAt);
  auto got = db->graph().getEdge(first.id);
  ASSERT_TRUE(got);
  EXPECT_FALSE(got->deletedAt);
  EXPECT_DOUBLE_EQ(got->weight, 0.8);
  EXPECT_EQ(db->graph().countEdges({.namespaces = {"ns1"}, .includeDeleted = true}), 1);
}

TEST_P(GraphContract, SymmetricRelationsAreCanonicalAndMatchBothWays) {
  auto x = entity("x");
  auto y = entity("y");
  const auto& lo = x.id < y.id ? x : y;
  const auto& hi = x.id < y.id ? y : x;
  auto e = link(hi.id, "competes_with", lo.id);
  EXPECT_EQ(e.sourceId, lo.id);
  EXPECT_EQ(e.targetId, hi.id);
  auto again = link(lo.id, "competes_with", hi.id, 0.3);
  EXPECT_EQ(again.id, e.id) << "the reverse direction is the same edge";
  NeighborQuery out{.namespaces = {"ns1"}, .direction = Direction::Out};
  EXPECT_EQ(ids(db->graph().neighbors(lo.id, out)), std::vector<Uuid>{hi.id});
  EXPECT_EQ(ids(db->graph().neighbors(hi.id, out)), std::vector<Uuid>{lo.id});
  NeighborQuery in{.namespaces = {"ns1"}, .direction = Direction::In};
  EXPECT_EQ(ids(db->graph().neighbors(hi.id, in)), std::vector<Uuid>{lo.id});
  // A directed relation between the same pair is a separate edge, one way only.
  link(hi.id, "extends", lo.id);
  EXPECT_EQ(db->graph().neighbors(lo.id, {.namespaces = {"ns1"}, .relations = {"extends"}}).size(), 0u);
}

TEST_P(GraphContract, RejectsBadEdges) {
  auto a = entity("a");
  auto b = entity("b");
  Edge e;
  e.id = Uuid::v7();
  e.ns = "ns1";
  e.sourceId = a.id;
  e.targetId = b.id;
  e.relation = "extends";
  e.weight = 1.5;
  EXPECT_EQ(codeOf([&] { db->graph().upsertEdge(e); }), ErrorCode::InvalidInput);
  e.weight = std::nan("");
  EXPECT_EQ(codeOf([&] { db->graph().upsertEdge(e); }), ErrorCode::InvalidInput);
  e.weight = 0.5;
  e.relation = "";
  EXPECT_EQ(codeOf([&] { db->graph().upsertEdge(e); }), ErrorCode::InvalidInput);
  e.relation = "extends";
  db->graph().upsertEdge(e);
  Edge other = e;
  other.targetId = a.id;  // same id, another natural key
  EXPECT_EQ(codeOf([&] { db->graph().upsertEdge(other); }), ErrorCode::Conflict);
  EXPECT_EQ(db->graph().countEdges({.namespaces = {"ns1"}, .includeDeleted = true}), 1);
}

TEST_P(GraphContract, QueryEdgesFiltersAndSorts) {
  auto a = entity("a");
  auto b = entity("b");
  auto c = entity("c");
  link(a.id, "extends", b.id, 0.2);
  link(a.id, "depends_on", c.id, 0.9);
  link(b.id, "depends_on", c.id, 0.5);
  link(b.id, "depends_on", a.id, 0.5, "ns2");
  auto q = [&](storage::EdgeFilter f) { return db->graph().queryEdges(f).items; };
  EXPECT_EQ(q({.namespaces = {"ns1"}, .sources = {a.id}}).size(), 2u);
  EXPECT_EQ(q({.namespaces = {"ns1"}, .targets = {c.id}}).size(), 2u);
  EXPECT_EQ(q({.namespaces = {"ns1"}, .relations = {"depends_on"}}).size(), 2u);
  EXPECT_EQ(q({.namespaces = {"ns1", "ns2"}, .relations = {"depends_on"}}).size(), 3u);
  EXPECT_EQ(q({.namespaces = {"ns1"}, .minWeight = 0.4, .maxWeight = 0.6}).size(), 1u);
  auto byWeight = q({.namespaces = {"ns1"}, .sort = storage::EdgeSort::Weight, .order = storage::SortOrder::Desc});
  ASSERT_EQ(byWeight.size(), 3u);
  EXPECT_DOUBLE_EQ(byWeight[0].weight, 0.9);
  EXPECT_DOUBLE_EQ(byWeight[2].weight, 0.2);
  EXPECT_EQ(db->graph().countEdges({.namespaces = {"ns1"}, .createdAfter = byWeight[2].createdAt}), 3);
  EXPECT_EQ(db->graph().countEdges({.namespaces = {"ns1"}, .createdBefore = byWeight[2].createdAt}), 0);
  EXPECT_EQ(codeOf([&] { db->graph().countEdges({}); }), ErrorCode::InvalidInput);
}

TEST_P(GraphContract, NeighborsDirectionsFiltersAndOrder) {
  auto hub = entity("hub");
  auto a = entity("a");
  auto b = entity("b");
  auto c = entity("c");
  auto d = entity("d");
  link(hub.id, "contains", a.id, 0.4);
  link(hub.id, "contains", b.id, 0.9);
  link(hub.id, "depends_on", c.id, 0.4);
  link(d.id, "part_of", hub.id, 0.7);
  link(hub.id, "contains", d.id, 0.1, "ns2");
  auto& g = db->graph();
  auto out = g.neighbors(hub.id, {.namespaces = {"ns1"}});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].nodeId, b.id) << "weight descending first";
  std::vector<Uuid> tied{out[1].nodeId, out[2].nodeId};
  EXPECT_TRUE(std::is_sorted(tied.begin(), tied.end())) << "then node id";
  EXPECT_EQ(out[0].direction, Direction::Out);
  auto in = g.neighbors(hub.id, {.namespaces = {"ns1"}, .direction = Direction::In});
  ASSERT_EQ(in.size(), 1u);
  EXPECT_EQ(in[0].nodeId, d.id);
  EXPECT_EQ(in[0].direction, Direction::In);
  EXPECT_EQ(g.neighbors(hub.id, {.namespaces = {"ns1"}, .direction = Direction::Both}).size(), 4u);
  EXPECT_EQ(g.neighbors(hub.id, {.namespaces = {"ns1", "ns2"}, .direction = Direction::Both}).size(), 5u);
  EXPECT_EQ(g.neighbors(hub.id, {.namespaces = {"ns1"}, .relations = {"contains"}}).size(), 2u);
  EXPECT_EQ(g.neighbors(hub.id, {.namespaces = {"ns1"}, .minWeight = 0.5}).size(), 1u);
  EXPECT_EQ(g.neighbors(hub.id, {.namespaces = {"ns1"}, .limit = 2}).size(), 2u);
  EXPECT_EQ(codeOf([&] { g.neighbors(hub.id, {.namespaces = {"ns1"}, .limit = 0}); }), ErrorCode::InvalidInput);
  EXPECT_EQ(codeOf([&] { g.neighbors(hub.id, {}); }), ErrorCode::InvalidInput);

  auto batch = g.neighborsBatch(std::vector<Uuid>{hub.id, d.id, a.id}, {.namespaces = {"ns1"}});
  EXPECT_EQ(batch.at(hub.id).size(), 3u);
  EXPECT_EQ(batch.at(d.id).size(), 1u);
  EXPECT_TRUE(batch.at(a.id).empty());
}

TEST_P(GraphContract, DeletedEdgesAndNodesAreInvisibleToNeighbors) {
  auto a = entity("a");
  auto b = entity("b");
  auto n = note("about a");
  auto e1 = link(a.id, "extends", b.id);
  link(n.id, "annotates", a.id);
  NeighborQuery both{.namespaces = {"ns1"}, .direction = Direction::Both};
  EXPECT_EQ(db->graph().neighbors(a.id, both).size(), 2u);
  db->graph().deleteEdge(e1.id, DeleteMode::Soft);
  EXPECT_EQ(db->graph().neighbors(a.id, both).size(), 1u);
  db->notes().deleteNote(n.id, DeleteMode::Soft);
  EXPECT_TRUE(db->graph().neighbors(a.id, both).empty());
  EXPECT_TRUE(db->graph().deleteEdge(e1.id, DeleteMode::Hard));
  EXPECT_FALSE(db->graph().deleteEdge(e1.id, DeleteMode::Hard));
}

TEST_P(GraphContract, BatchLinksToSoftDeletedNodesStayHiddenUntilTheNodeIsRevived) {
  // A batch into a graph with no soft-deleted node, then one that touches a soft-deleted
  // entity and a soft-deleted note: the edges to them are stored but invisible.
  auto a = entity("a");
  auto b = entity("b");
  auto gone = entity("gone");
  auto n = note("gone too");
  auto& g = db->graph();
  EXPECT_EQ(
      g.upsertEdges(std::vector<Edge>{edgeOf(a.id, "extends", b.id), edgeOf(a.id, "depends_on", gone.id)}).affected,
      2u);
  NeighborQuery out{.namespaces = {"ns1"}};
  EXPECT_EQ(g.neighbors(a.id, out).size(), 2u);
  ASSERT_TRUE(db->entities().deleteEntity(gone.id, DeleteMode::Soft));
  ASSERT_TRUE(db->notes().deleteNote(n.id, DeleteMode::Soft));
  EXPECT_EQ(g.upsertEdges(std::vector<Edge>{edgeOf(a.id, "enables", gone.id), edgeOf(n.id, "annotates", a.id),
                                            edgeOf(b.id, "precedes", a.id)})
                .affected,
            3u);
  EXPECT_EQ(ids(g.neighbors(a.id, out)), std::vector<Uuid>{b.id});
  NeighborQuery in{.namespaces = {"ns1"}, .direction = Direction::In};
  EXPECT_EQ(ids(g.neighbors(a.id, in)), std::vector<Uuid>{b.id});
  Entity revived = gone;
  revived.deletedAt.reset();
  db->entities().upsertEntity(revived);
  EXPECT_EQ(g.neighbors(a.id, out).size(), 3u) << "extends b, depends_on and enables the revived entity";
}

// An EdgeLoad gives every edge the semantics of upsertEdges, whether the backend writes each
// batch at once or holds the edges until finish(): natural-key upsert (the later edge wins,
// the first id and created_at stay), revival, symmetric canonicalisation, per-edge failures.
TEST_P(GraphContract, EdgeLoadUpsertsLikeBatches) {
  auto a = entity("a");
  auto b = entity("b");
  auto c = entity("c");
  auto& g = db->graph();
  auto old = link(a.id, "extends", b.id, 0.5);
  ASSERT_TRUE(g.deleteEdge(old.id, DeleteMode::Soft));
  auto other = link(b.id, "enables", c.id);
  const auto& lo = a.id < c.id ? a : c;
  const auto& hi = a.id < c.id ? c : a;
  auto first = edgeOf(a.id, "depends_on", c.id, 0.1);
  auto again = edgeOf(a.id, "depends_on", c.id, 0.9);  // same natural key, later: its weight wins
  auto bad = edgeOf(b.id, "extends", a.id, 2.0);       // weight outside [0, 1]
  auto clash = edgeOf(c.id, "extends", b.id);
  clash.id = other.id;  // names a stored edge with another natural key
  {
    auto load = g.beginLoad();
    load->add(std::vector<Edge>{first, edgeOf(hi.id, "competes_with", lo.id), bad});
    load->add(std::vector<Edge>{edgeOf(a.id, "extends", b.id, 0.7), again, clash});
    auto s = load->finish();
    EXPECT_EQ(s.attempted, 6u);
    EXPECT_EQ(s.affected, 4u);
    EXPECT_EQ(s.failed, 2u);
    ASSERT_TRUE(s.firstError);
  }
  auto revived = g.getEdge(old.id);
  ASSERT_TRUE(revived) << "the soft-deleted edge is revived under its own id";
  EXPECT_EQ(revived->weight, 0.7);
  EXPECT_EQ(revived->createdAt, old.createdAt);
  auto dep = g.getEdge(first.id);
  ASSERT_TRUE(dep);
  EXPECT_EQ(dep->weight, 0.9);
  EXPECT_FALSE(g.getEdge(again.id)) << "the second edge of one natural key keeps the first id";
  auto sym = g.neighbors(lo.id, {.namespaces = {"ns1"}, .relations = {"competes_with"}});
  ASSERT_EQ(sym.size(), 1u);
  EXPECT_EQ(sym[0].nodeId, hi.id);
  EXPECT_EQ(g.getEdge(sym[0].edgeId)->sourceId, lo.id) << "stored with the smaller UUID as source";
  EXPECT_FALSE(g.getEdge(bad.id));
  EXPECT_EQ(g.getEdge(other.id)->targetId, c.id) << "the clashing edge changed nothing";
  EXPECT_EQ(g.countEdges({.namespaces = {"ns1"}}), 4);
}

// A load into a graph with no edges yet (a first import; SQLite writes it with one statement):
// edges of one natural key leave the first one's id and created_at and the last one's weight,
// metadata, updated_at and deleted_at, as upserting them one by one would.
TEST_P(GraphContract, EdgeLoadIntoAnEmptyGraphKeepsTheFirstIdAndTheLastValues) {
  auto a = entity("a");
  auto b = entity("b");
  auto c = entity("c");
  auto& g = db->graph();
  auto first = edgeOf(a.id, "depends_on", c.id, 0.1);
  first.metadata = Json{{"v", 1}};
  first.createdAt = 1'000;
  first.updatedAt = 1'000;
  auto mid = edgeOf(a.id, "depends_on", c.id, 0.5);
  mid.createdAt = 2'000;
  mid.updatedAt = 2'000;
  auto last = edgeOf(a.id, "depends_on", c.id, 0.9);
  last.metadata = Json{{"v", 3}};
  last.createdAt = 3'000;
  last.updatedAt = 3'000;
  const auto& lo = a.id < b.id ? a : b;
  const auto& hi = a.id < b.id ? b : a;
  auto symFirst = edgeOf(hi.id, "competes_with", lo.id, 0.2);  // stored from lo to hi
  auto symLast = edgeOf(lo.id, "competes_with", hi.id, 0.8);
  auto live = edgeOf(b.id, "extends", c.id);
  auto gone = edgeOf(b.id, "extends", c.id);
  gone.deletedAt = 4'000;
  {
    auto load = g.beginLoad();
    load->add(std::vector<Edge>{first, symFirst, live});
    load->add(std::vector<Edge>{mid, symLast, last, gone});
    auto s = load->finish();
    EXPECT_EQ(s.attempted, 7u);
    EXPECT_EQ(s.affected, 7u);
    EXPECT_EQ(s.failed, 0u);
  }
  auto dep = g.getEdge(first.id);
  ASSERT_TRUE(dep);
  EXPECT_EQ(dep->weight, 0.9);
  EXPECT_EQ(dep->metadata, (Json{{"v", 3}}));
  EXPECT_EQ(dep->createdAt, 1'000);
  EXPECT_EQ(dep->updatedAt, 3'000);
  EXPECT_FALSE(g.getEdge(mid.id));
  EXPECT_FALSE(g.getEdge(last.id));
  auto sym = g.getEdge(symFirst.id);
  ASSERT_TRUE(sym);
  EXPECT_EQ(sym->sourceId, lo.id);
  EXPECT_EQ(sym->weight, 0.8);
  EXPECT_FALSE(g.getEdge(symLast.id));
  EXPECT_FALSE(g.getEdge(live.id)) << "the last edge of its key deleted it";
  auto all = g.queryEdges({.namespaces = {"ns1"}, .includeDeleted = true}, {.offset = 0, .limit = 10});
  ASSERT_EQ(all.items.size(), 3u);
  for (const auto& e : all.items) {
    if (e.id == live.id) {
      EXPECT_EQ(e.deletedAt, std::optional<Micros>(4'000));
    }
  }
  EXPECT_EQ(g.countEdges({.namespaces = {"ns1"}}), 2);
}

// A load that holds its edges until finish() takes input positions and can forget its latest
// edges (an importer that ran ahead of a write that then failed); one that writes as it goes
// says it cannot.
TEST_P(GraphContract, HoldingEdgeLoadDropsItsLatestEdges) {
  auto a = entity("a");
  auto b = entity("b");
  auto c = entity("c");
  auto& g = db->graph();
  auto load = g.beginLoad();
  if (!load->holdsUntilFinish()) {
    try {
      load->dropFrom(1);
      ADD_FAILURE() << "dropFrom on a load that writes as it goes";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::Unsupported);
    }
    return;
  }
  auto kept = edgeOf(a.id, "extends", b.id);
  auto bad = edgeOf(b.id, "extends", a.id, 2.0);
  auto dropped1 = edgeOf(b.id, "depends_on", c.id);
  auto dropped2 = edgeOf(a.id, "depends_on", c.id);
  auto dropped3 = edgeOf(c.id, "enables", a.id);
  auto later = edgeOf(b.id, "enables", a.id);
  load->addAt(std::vector<Edge>{kept, bad}, std::vector<std::int64_t>{1, 2});
  load->addAt(std::vector<Edge>{dropped1, dropped2}, std::vector<std::int64_t>{3, 3});
  load->addAt(std::vector<Edge>{dropped3}, std::vector<std::int64_t>{5});
  EXPECT_THROW(load->addAt(std::vector<Edge>{later}, std::vector<std::int64_t>{4}), Error)
      << "positions must not decrease";
  load->dropFrom(3);
  load->addAt(std::vector<Edge>{later}, std::vector<std::int64_t>{3});
  auto s = load->finish();
  EXPECT_EQ(s.attempted, 3u);
  EXPECT_EQ(s.affected, 2u);
  EXPECT_EQ(s.failed, 1u);
  EXPECT_TRUE(g.getEdge(kept.id));
  EXPECT_TRUE(g.getEdge(later.id));
  EXPECT_FALSE(g.getEdge(dropped1.id));
  EXPECT_FALSE(g.getEdge(dropped2.id));
  EXPECT_FALSE(g.getEdge(dropped3.id));
  EXPECT_EQ(g.countEdges({.namespaces = {"ns1"}}), 2);
}

// A holding load with more edges than fit one of its storage blocks (SQLite keeps 32,768 an
// allocation): dropping from a position inside a later block keeps exactly the edges before
// it, and edges added afterwards are written with them.
TEST_P(GraphContract, HoldingEdgeLoadDropsAcrossItsStorage) {
  auto load = db->graph().beginLoad();
  if (!load->holdsUntilFinish()) {
    EXPECT_THROW(load->dropFrom(1), Error) << "a load that writes as it goes cannot drop";
    return;
  }
  std::vector<Entity> nodes;
  for (int i = 0; i < 300; ++i) nodes.push_back(entity("n" + std::to_string(i)));
  std::vector<Edge> edges;
  std::vector<std::int64_t> positions;
  for (int i = 0; i < 300 && edges.size() < 80'000; ++i)
    for (int k = 1; k < 300 && edges.size() < 80'000; ++k)
      for (const char* rel : {"extends", "depends_on"}) {
        edges.push_back(edgeOf(nodes[i].id, rel, nodes[(i + k) % 300].id));
        positions.push_back(static_cast<std::int64_t>(edges.size()));  // 1-based, one line each
      }
  constexpr std::size_t kKept = 70'001, kLater = 75'000;  // kKept lies in the third block
  for (std::size_t at = 0; at < kLater; at += 4096) {
    const std::size_t n = std::min<std::size_t>(4096, kLater - at);
    load->addAt(std::span<const Edge>(edges).subspan(at, n), std::span<const std::int64_t>(positions).subspan(at, n));
  }
  load->dropFrom(positions[kKept]);
  // The dropped lines come back later in the input, as the edges after a failed batch would.
  load->addAt(std::span<const Edge>(edges).subspan(kLater, 1000),
              std::span<const std::int64_t>(positions).subspan(kLater, 1000));
  auto s = load->finish();
  EXPECT_EQ(s.attempted, kKept + 1000);
  EXPECT_EQ(s.affected, kKept + 1000);
  EXPECT_EQ(s.failed, 0u);
  EXPECT_EQ(db->graph().countEdges({.namespaces = {"ns1"}}), static_cast<std::int64_t>(kKept + 1000));
  EXPECT_TRUE(db->graph().getEdge(edges[kKept - 1].id));
  EXPECT_FALSE(db->graph().getEdge(edges[kKept].id));
  EXPECT_FALSE(db->graph().getEdge(edges[kLater - 1].id));
  EXPECT_TRUE(db->graph().getEdge(edges[kLater].id));
}

// Enough edges for a backend to take its bulk path (SQLite rebuilds the edge indexes): every
// index-backed read still answers, and a load dropped before finish() writes nothing it held.
TEST_P(GraphContract, LargeEdgeLoadKeepsEveryReadPath) {
  std::vector<Entity> nodes;
  for (int i = 0; i < 300; ++i) nodes.push_back(entity("n" + std::to_string(i)));
  std::vector<Edge> edges;
  for (int i = 0; i < 300; ++i)
    for (int k = 1; k <= 70; ++k)
      edges.push_back(edgeOf(nodes[i].id, k % 2 ? "extends" : "depends_on", nodes[(i + k) % 300].id));
  auto& g = db->graph();
  {
    auto dropped = g.beginLoad();
    dropped->add(std::span<const Edge>(edges).first(100));
  }
  // A load that writes as it goes (the default) wrote that batch; one that holds its edges
  // (SQLite) wrote none of them. Never a part of the batch.
  const auto afterDrop = g.countEdges({.namespaces = {"ns1"}});
  EXPECT_TRUE(afterDrop == 0 || afterDrop == 100) << afterDrop;
  // One staged edge reuses another's id with a different natural key: it alone fails.
  Edge twin = edgeOf(nodes[5].id, "precedes", nodes[9].id);
  twin.id = edges[100].id;
  auto load = g.beginLoad();
  for (std::size_t at = 0; at < edges.size(); at += 5000)
    load->add(std::span<const Edge>(edges).subspan(at, std::min<std::size_t>(5000, edges.size() - at)));
  load->add(std::vector<Edge>{twin});
  auto s = load->finish();
  EXPECT_EQ(s.attempted, edges.size() + 1);
  EXPECT_EQ(s.affected, edges.size());
  EXPECT_EQ(s.failed, 1u);
  EXPECT_EQ(g.countEdges({.namespaces = {"ns1"}}), static_cast<std::int64_t>(edges.size()));
  EXPECT_EQ(g.neighbors(nodes[0].id, {.namespaces = {"ns1"}, .limit = 1000}).size(), 70u);
  EXPECT_EQ(g.neighbors(nodes[0].id, {.namespaces = {"ns1"}, .direction = Direction::In, .limit = 1000}).size(), 70u);
  auto byId = g.getEdge(edges[12345].id);
  ASSERT_TRUE(byId);
  EXPECT_EQ(byId->sourceId, edges[12345].sourceId);
  // The indexes are unique where they were: a second edge under a stored id is a conflict.
  Edge clash = edgeOf(nodes[1].id, "precedes", nodes[2].id);
  clash.id = edges[7].id;
  EXPECT_THROW(g.upsertEdge(clash), Error);
}

TEST_P(GraphContract, TraverseIsBreadthFirstCycleSafeWithViaEdges) {
  auto c = chain(5);
  link(c[4].id, "precedes", c[0].id);  // a cycle back to the root
  auto trees = db->graph().traverse({.roots = {c[0].id}, .namespaces = {"ns1"}, .maxDepth = 10});
  ASSERT_EQ(trees.size(), 1u);
  const auto& t = trees[0];
  EXPECT_EQ(t.rootId, c[0].id);
  ASSERT_EQ(t.nodes.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(t.nodes[i].id, c[i].id);
    EXPECT_EQ(t.nodes[i].depth, i);
  }
  EXPECT_FALSE(t.nodes[0].viaEdge);
  for (int i = 1; i < 5; ++i) {
    ASSERT_TRUE(t.nodes[i].parentId);
    EXPECT_EQ(*t.nodes[i].parentId, c[i - 1].id);
    auto via = db->graph().getEdge(*t.nodes[i].viaEdge);
    ASSERT_TRUE(via);
    EXPECT_EQ(via->targetId, c[i].id);
  }
  EXPECT_FALSE(t.truncated);
  auto shallow = db->graph().traverse({.roots = {c[0].id}, .namespaces = {"ns1"}, .maxDepth = 2});
  EXPECT_EQ(shallow[0].nodes.size(), 3u);
  auto up =
      db->graph().traverse({.roots = {c[2].id}, .namespaces = {"ns1"}, .maxDepth = 1, .direction = Direction::In});
  ASSERT_EQ(up[0].nodes.size(), 2u);
  EXPECT_EQ(up[0].nodes[1].id, c[1].id);
}

TEST_P(GraphContract, TraverseFiltersRelationsWeightDeletedNodesAndNamespaces) {
  auto r = entity("root");
  auto a = entity("a");
  auto b = entity("b");
  auto gone = entity("gone");
  auto far = entity("far");
  link(r.id, "contains", a.id, 0.9);
  link(r.id, "depends_on", b.id, 0.2);
  link(r.id, "contains", gone.id);
  link(gone.id, "contains", far.id);
  link(a.id, "contains", far.id, 1.0, "ns2");
  db->entities().deleteEntity(gone.id, DeleteMode::Soft);
  auto count = [&](TraverseRequest req) { return db->graph().traverse(req)[0].nodes.size(); };
  EXPECT_EQ(count({.roots = {r.id}, .namespaces = {"ns1"}}), 3u) << "root, a, b; not through the deleted node";
  EXPECT_EQ(count({.roots = {r.id}, .namespaces = {"ns1"}, .relations = {"contains"}}), 2u);
  EXPECT_EQ(count({.roots = {r.id}, .namespaces = {"ns1"}, .minWeight = 0.5}), 2u);
  EXPECT_EQ(count({.roots = {r.id}, .namespaces = {"ns1", "ns2"}}), 4u);
  EXPECT_EQ(count({.roots = {gone.id}, .namespaces = {"ns1"}}), 0u) << "a deleted root has no tree";
}

TEST_P(GraphContract, TraverseRefusesBadDepthAndTripsBudgets) {
  auto c = chain(3);
  auto& g = db->graph();
  EXPECT_EQ(codeOf([&] { g.traverse({.roots = {c[0].id}, .namespaces = {"ns1"}, .maxDepth = 11}); }),
            ErrorCode::InvalidInput);
  EXPECT_EQ(codeOf([&] { g.traverse({.roots = {c[0].id}, .namespaces = {"ns1"}, .maxDepth = 0}); }),
            ErrorCode::InvalidInput);
  EXPECT_EQ(codeOf([&] { g.traverse({.roots = {c[0].id}, .namespaces = {}}); }), ErrorCode::InvalidInput);

  // A dense graph: 60 nodes, every node linked to the next 15.
  std::vector<Entity> nodes;
  for (int i = 0; i < 60; ++i) nodes.push_back(entity("d" + std::to_string(i)));
  std::vector<Edge> edges;
  for (int i = 0; i < 60; ++i) {
    for (int k = 1; k <= 15; ++k) {
      Edge e;
      e.id = Uuid::v7();
      e.ns = "ns1";
      e.sourceId = nodes[i].id;
      e.targetId = nodes[(i + k) % 60].id;
      e.relation = "enables";
      edges.push_back(e);
    }
  }
  EXPECT_EQ(g.upsertEdges(edges).affected, edges.size());
  TraverseRequest big{.roots = {nodes[0].id}, .namespaces = {"ns1"}, .maxDepth = 10};
  EXPECT_EQ(g.traverse(big)[0].nodes.size(), 60u);
  big.maxWork = 50;
  EXPECT_EQ(codeOf([&] { g.traverse(big); }), ErrorCode::InvalidInput) << "work budget";
  big.maxWork = 1'000'000;
  big.perRootLimit = 10;
  auto cut = g.traverse(big);
  EXPECT_EQ(cut[0].nodes.size(), 10u);
  EXPECT_TRUE(cut[0].truncated);
  TraverseRequest slow{
      .namespaces = {"ns1"}, .maxDepth = 10, .direction = Direction::Both, .timeBudget = std::chrono::milliseconds(1)};
  for (int i = 0; i < 60; ++i) slow.roots.push_back(nodes[i].id);
  for (int i = 0; i < 60; ++i) slow.roots.push_back(nodes[i].id);
  EXPECT_EQ(codeOf([&] { g.traverse(slow); }), ErrorCode::Timeout) << "time budget";
}

// The work budget has one definition on every engine: the root counts one and every edge the
// walk follows counts one, including edges into a node already reached. A diamond
// r -> a, r -> b, a -> c, b -> c walked 2 deep costs 1 + 2 + 2 = 5: a budget of 5 passes and
// 4 fails on every backend (an engine counting distinct (node, depth) rows would count 4).
TEST_P(GraphContract, TraversalWorkBudgetCountsEdgesFollowedOnEveryEngine) {
  auto r = entity("r");
  auto a = entity("a");
  auto b = entity("b");
  auto c = entity("c");
  link(r.id, "enables", a.id);
  link(r.id, "enables", b.id);
  link(a.id, "enables", c.id);
  link(b.id, "enables", c.id);
  auto& g = db->graph();
  TraverseRequest req{.roots = {r.id}, .namespaces = {"ns1"}, .maxDepth = 2, .maxWork = 5};
  auto trees = g.traverse(req);
  ASSERT_EQ(trees.size(), 1u);
  EXPECT_EQ(trees[0].nodes.size(), 4u);
  req.maxWork = 4;
  EXPECT_EQ(codeOf([&] { g.traverse(req); }), ErrorCode::InvalidInput) << "5 edge rows exceed a budget of 4";

  // Two relations between the same pair are two edges followed; a symmetric edge walked Out
  // from either end is one.
  auto x = entity("x");
  auto y = entity("y");
  link(x.id, "enables", y.id);
  link(x.id, "depends_on", y.id);
  link(y.id, "competes_with", x.id);
  TraverseRequest two{.roots = {x.id}, .namespaces = {"ns1"}, .maxDepth = 1, .maxWork = 4};
  EXPECT_EQ(g.traverse(two)[0].nodes.size(), 2u) << "x and y, through 1 + 3 edge rows";
  two.maxWork = 3;
  EXPECT_EQ(codeOf([&] { g.traverse(two); }), ErrorCode::InvalidInput);
  TraverseRequest back{.roots = {y.id}, .namespaces = {"ns1"}, .maxDepth = 1, .maxWork = 2};
  EXPECT_EQ(g.traverse(back)[0].nodes.size(), 2u) << "y reaches x through the symmetric edge alone";
  back.maxWork = 1;
  EXPECT_EQ(codeOf([&] { g.traverse(back); }), ErrorCode::InvalidInput);
  back.direction = Direction::Both;
  back.maxWork = 4;
  EXPECT_EQ(g.traverse(back)[0].nodes.size(), 2u) << "both ways: the root and three edges";
  back.maxWork = 3;
  EXPECT_EQ(codeOf([&] { g.traverse(back); }), ErrorCode::InvalidInput);
}

// Within a level every node is reached through its smallest parent, then smallest edge, and
// the nodes of a level are listed in id order, on every engine.
TEST_P(GraphContract, TraversalTieBreaksAreTheSameOnEveryEngine) {
  auto r = entity("r");
  std::vector<Entity> mid;
  for (int i = 0; i < 4; ++i) mid.push_back(entity("m" + std::to_string(i)));
  std::vector<Entity> leaves;
  for (int i = 0; i < 4; ++i) leaves.push_back(entity("l" + std::to_string(i)));
  for (const auto& m : mid) {
    link(r.id, "enables", m.id);
    for (const auto& l : leaves) link(m.id, "enables", l.id);
  }
  auto tree = db->graph().traverse({.roots = {r.id}, .namespaces = {"ns1"}, .maxDepth = 2})[0];
  ASSERT_EQ(tree.nodes.size(), 9u);
  Uuid smallestMid = mid[0].id;
  for (const auto& m : mid) smallestMid = std::min(smallestMid, m.id);
  for (std::size_t i = 1; i < tree.nodes.size(); ++i) {
    const auto& n = tree.nodes[i];
    if (i + 1 < tree.nodes.size() && tree.nodes[i + 1].depth == n.depth) {
      EXPECT_LT(n.id, tree.nodes[i + 1].id) << "id order within a depth";
    }
    if (n.depth == 2) {
      EXPECT_EQ(n.parentId, smallestMid) << "the smallest parent";
      ASSERT_TRUE(n.viaEdge);
      auto via = db->graph().getEdge(*n.viaEdge);
      ASSERT_TRUE(via);
      EXPECT_EQ(via->sourceId, smallestMid);
      EXPECT_EQ(via->targetId, n.id);
    }
  }
}

// A walk that sees hundreds of nodes before its last level (PostgreSQL's walk statement then
// keeps its seen set in another form): every node still appears once, at its least depth,
// under its smallest parent, and edges back into earlier levels reach nothing new.
TEST_P(GraphContract, WideTraversalKeepsEachNodeOnceAtItsLeastDepth) {
  auto root = entity("root");
  auto layer = [&](const std::string& prefix, int n) {
    std::vector<Entity> out;
    for (int i = 0; i < n; ++i) out.push_back(entity(prefix + std::to_string(i)));
    return out;
  };
  const auto l1 = layer("a", 20), l2 = layer("b", 300), l3 = layer("c", 50);
  std::vector<Edge> edges;
  for (const auto& n : l1) edges.push_back(edgeOf(root.id, "enables", n.id));
  for (int i = 0; i < 20; ++i)
    for (int k = 0; k < 30; ++k) edges.push_back(edgeOf(l1[i].id, "enables", l2[(i * 15 + k) % 300].id));
  for (int j = 0; j < 300; ++j) {
    edges.push_back(edgeOf(l2[j].id, "enables", l1[j % 20].id));  // back into level 1
    edges.push_back(edgeOf(l2[j].id, "enables", root.id));        // and to the root
    edges.push_back(edgeOf(l2[j].id, "enables", l3[j % 50].id));
  }
  ASSERT_EQ(db->graph().upsertEdges(edges).affected, edges.size());
  const auto tree = db->graph().traverse({.roots = {root.id}, .namespaces = {"ns1"}, .maxDepth = 3})[0];
  ASSERT_EQ(tree.nodes.size(), 1u + 20u + 300u + 50u);
  std::set<Uuid> seen;
  std::map<int, int> perDepth;
  for (const auto& n : tree.nodes) {
    EXPECT_TRUE(seen.insert(n.id).second) << "each node once";
    ++perDepth[n.depth];
  }
  EXPECT_EQ(perDepth, (std::map<int, int>{{0, 1}, {1, 20}, {2, 300}, {3, 50}}));
  for (const auto& n : tree.nodes) {
    if (n.depth != 3) continue;
    const auto k = std::find_if(l3.begin(), l3.end(), [&](const Entity& e) { return e.id == n.id; }) - l3.begin();
    Uuid smallest = l2[static_cast<std::size_t>(k)].id;
    for (int j = static_cast<int>(k); j < 300; j += 50) smallest = std::min(smallest, l2[static_cast<std::size_t>(j)].id);
    EXPECT_EQ(n.parentId, smallest) << "the smallest parent";
  }
}

TEST_P(GraphContract, ShortestPath) {
  auto c = chain(6);
  auto shortcut = entity("shortcut");
  link(c[1].id, "precedes", shortcut.id);
  link(shortcut.id, "precedes", c[4].id);
  auto& g = db->graph();
  auto p = g.shortestPath(c[0].id, c[5].id, {.namespaces = {"ns1"}});
  ASSERT_TRUE(p);
  EXPECT_EQ(p->nodes, (std::vector<Uuid>{c[0].id, c[1].id, shortcut.id, c[4].id, c[5].id}));
  ASSERT_EQ(p->edges.size(), 4u);
  auto e0 = g.getEdge(p->edges[0]);
  ASSERT_TRUE(e0);
  EXPECT_EQ(e0->sourceId, c[0].id);
  EXPECT_EQ(e0->targetId, c[1].id);
  EXPECT_FALSE(g.shortestPath(c[5].id, c[0].id, {.namespaces = {"ns1"}})) << "edges are directed";
  auto back = g.shortestPath(c[5].id, c[0].id, {.namespaces = {"ns1"}, .direction = Direction::In});
  ASSERT_TRUE(back);
  EXPECT_EQ(back->nodes.size(), 5u);
  EXPECT_FALSE(g.shortestPath(c[0].id, c[5].id, {.namespaces = {"ns1"}, .maxDepth = 3}));
  auto self = g.shortestPath(c[2].id, c[2].id, {.namespaces = {"ns1"}});
  ASSERT_TRUE(self);
  EXPECT_EQ(self->nodes.size(), 1u);
  EXPECT_EQ(codeOf([&] { g.shortestPath(c[0].id, c[5].id, {.namespaces = {"ns1"}, .maxDepth = 11}); }),
            ErrorCode::InvalidInput);
  db->entities().deleteEntity(shortcut.id, DeleteMode::Soft);
  auto longer = g.shortestPath(c[0].id, c[5].id, {.namespaces = {"ns1"}});
  ASSERT_TRUE(longer);
  EXPECT_EQ(longer->nodes.size(), 6u);
}

KHIVE_INSTANTIATE_CONTRACT(GraphContract);

}  // namespace
}  // namespace khive::testing
