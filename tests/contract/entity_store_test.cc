#include "contract/contract_fixture.h"

namespace khive::testing {
namespace {

using storage::DeleteMode;
using storage::EntityFilter;

class EntityContract : public ContractTest {};

TEST_P(EntityContract, RoundTripsEveryField) {
  Entity e;
  e.id = Uuid::v7();
  e.ns = "ns1";
  e.kind = "document";
  e.entityType = "paper";
  e.name = "LoRA: Low-Rank Adaptation";
  e.description = "Hu et al. 2021 — “quoted”, 日本語";
  e.properties = Json{{"year", 2021}, {"venue", {{"name", "ICLR"}, {"oral", true}}}, {"score", 0.5}};
  e.tags = {"peft", "adapters"};
  e.mergedInto = Uuid::v7();
  e.mergeEventId = Uuid::v7();
  auto stored = db->entities().upsertEntity(e);
  EXPECT_GT(stored.createdAt, 0);
  EXPECT_EQ(stored.createdAt, stored.updatedAt);
  auto got = db->entities().getEntity(e.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, stored);
}

TEST_P(EntityContract, UpsertReplacesAndKeepsCreatedAt) {
  Entity e;
  e.id = Uuid::v7();
  e.ns = "ns1";
  e.kind = "concept";
  e.name = "first";
  e.createdAt = 1000;
  e.updatedAt = 1000;
  db->entities().upsertEntity(e);
  e.name = "second";
  e.createdAt = 5000;
  e.updatedAt = 6000;
  auto stored = db->entities().upsertEntity(e);
  EXPECT_EQ(stored.createdAt, 1000);
  auto got = db->entities().getEntity(e.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->name, "second");
  EXPECT_EQ(got->createdAt, 1000);
  EXPECT_EQ(got->updatedAt, 6000);
}

TEST_P(EntityContract, IdInAnotherNamespaceIsConflictAndChangesNothing) {
  auto e = entity("owned", "ns1");
  Entity moved = e;
  moved.ns = "ns2";
  moved.name = "stolen";
  EXPECT_EQ(codeOf([&] { db->entities().upsertEntity(moved); }), ErrorCode::Conflict);
  auto got = db->entities().getEntity(e.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->ns, "ns1");
  EXPECT_EQ(got->name, "owned");
}

TEST_P(EntityContract, InvalidRecordsAreRejectedAndNothingIsWritten) {
  Entity e;
  e.id = Uuid::v7();
  e.ns = "ns1";
  e.kind = "concept";
  e.name = "";
  EXPECT_EQ(codeOf([&] { db->entities().upsertEntity(e); }), ErrorCode::InvalidInput);
  e.name = "x";
  e.ns = "";
  EXPECT_EQ(codeOf([&] { db->entities().upsertEntity(e); }), ErrorCode::InvalidInput);
  e.ns = "ns1";
  e.properties = Json::array({1, 2});
  EXPECT_EQ(codeOf([&] { db->entities().upsertEntity(e); }), ErrorCode::InvalidInput);
  EXPECT_FALSE(db->entities().getEntityIncludingDeleted(e.id));
  EXPECT_EQ(db->entities().countEntities({.namespaces = {"ns1"}, .includeDeleted = true}), 0);
}

TEST_P(EntityContract, SoftDeleteHidesFromEveryRead) {
  auto a = entity("alpha");
  auto b = entity("beta");
  link(a.id, "extends", b.id);
  EXPECT_TRUE(db->entities().deleteEntity(a.id, DeleteMode::Soft));
  EXPECT_FALSE(db->entities().deleteEntity(a.id, DeleteMode::Soft)) << "already deleted";
  EXPECT_FALSE(db->entities().getEntity(a.id));
  auto raw = db->entities().getEntityIncludingDeleted(a.id);
  ASSERT_TRUE(raw);
  EXPECT_TRUE(raw->deletedAt);
  EntityFilter f{.namespaces = {"ns1"}};
  EXPECT_EQ(db->entities().countEntities(f), 1);
  auto page = db->entities().queryEntities(f);
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].id, b.id);
  f.includeDeleted = true;
  EXPECT_EQ(db->entities().countEntities(f), 2);
  // Its edges are invisible to graph reads while it is deleted...
  storage::NeighborQuery nq{.namespaces = {"ns1"}, .direction = storage::Direction::Both};
  EXPECT_TRUE(db->graph().neighbors(b.id, nq).empty());
  EXPECT_EQ(db->graph().countEdges({.namespaces = {"ns1"}}), 0);
  // ...and come back when it is revived.
  raw->deletedAt.reset();
  db->entities().upsertEntity(*raw);
  EXPECT_EQ(db->graph().neighbors(b.id, nq).size(), 1u);
}

TEST_P(EntityContract, HardDeleteCascadesIncidentEdges) {
  auto a = entity("a");
  auto b = entity("b");
  auto c = entity("c");
  auto ab = link(a.id, "extends", b.id);
  auto ca = link(c.id, "depends_on", a.id);
  auto bc = link(b.id, "precedes", c.id);
  db->graph().deleteEdge(ca.id, DeleteMode::Soft);
  EXPECT_TRUE(db->entities().deleteEntity(a.id, DeleteMode::Hard));
  EXPECT_FALSE(db->entities().getEntityIncludingDeleted(a.id));
  EXPECT_FALSE(db->graph().getEdge(ab.id));
  storage::EdgeFilter all{.namespaces = {"ns1"}, .includeDeleted = true};
  auto left = db->graph().queryEdges(all);
  ASSERT_EQ(left.items.size(), 1u) << "soft-deleted incident edges go too";
  EXPECT_EQ(left.items[0].id, bc.id);
  EXPECT_FALSE(db->entities().deleteEntity(a.id, DeleteMode::Hard));
}

TEST_P(EntityContract, BatchUpsertCountsRowsAndKeepsGoodOnes) {
  std::vector<Entity> batch(3);
  for (int i = 0; i < 3; ++i) {
    batch[i].id = Uuid::v7();
    batch[i].ns = "ns1";
    batch[i].kind = "concept";
    batch[i].name = "n" + std::to_string(i);
  }
  batch[1].name = "";
  auto s = db->entities().upsertEntities(batch);
  EXPECT_EQ(s.attempted, 3u);
  EXPECT_EQ(s.affected, 2u);
  EXPECT_EQ(s.failed, 1u);
  ASSERT_TRUE(s.firstError);
  EXPECT_NE(s.firstError->find("name"), std::string::npos);
  EXPECT_TRUE(db->entities().getEntity(batch[0].id));
  EXPECT_FALSE(db->entities().getEntity(batch[1].id));
  EXPECT_TRUE(db->entities().getEntity(batch[2].id));
  auto empty = db->entities().upsertEntities({});
  EXPECT_EQ(empty.attempted, 0u);
}

TEST_P(EntityContract, FiltersPagingAndNamespaces) {
  for (int i = 0; i < 25; ++i) {
    Entity e;
    e.id = Uuid::v7();
    e.ns = i % 5 == 0 ? "ns2" : "ns1";
    e.kind = i % 2 ? "person" : "concept";
    e.entityType = i % 3 ? std::optional<std::string>("paper") : std::nullopt;
    e.name = (i % 4 ? "Lora_" : "Other%") + std::to_string(i);
    e.tags = {i % 2 ? "odd" : "even", "t" + std::to_string(i)};
    db->entities().upsertEntity(e);
  }
  auto count = [&](EntityFilter f) { return db->entities().countEntities(f); };
  EXPECT_EQ(count({.namespaces = {"ns1"}}), 20);
  EXPECT_EQ(count({.namespaces = {"ns2"}}), 5);
  EXPECT_EQ(count({.namespaces = {"ns1", "ns2"}}), 25);
  EXPECT_EQ(count({.namespaces = {"nope"}}), 0);
  EXPECT_EQ(count({.namespaces = {"ns1", "ns2"}, .kinds = {"person"}}), 12);
  EXPECT_EQ(count({.namespaces = {"ns1", "ns2"}, .entityTypes = {"paper"}}), 16);
  // Prefix: ASCII case-insensitive, % and _ literal.
  EXPECT_EQ(count({.namespaces = {"ns1", "ns2"}, .namePrefix = "lora_"}), 18);
  EXPECT_EQ(count({.namespaces = {"ns1", "ns2"}, .namePrefix = "LORA_1"}), 9);
  EXPECT_EQ(count({.namespaces = {"ns1", "ns2"}, .namePrefix = "Other%"}), 7);
  EXPECT_EQ(count({.namespaces = {"ns1", "ns2"}, .namePrefix = "Other_"}), 0);
  EXPECT_EQ(count({.namespaces = {"ns1", "ns2"}, .namePrefix = "L%"}), 0);
  // Only ASCII letters fold: "é" and "É" are different letters to a prefix, as to SQLite's LIKE.
  for (const char* name : {"\u00c9cole x", "\u00e9cole y", "\u00c9COLE z"}) {
    Entity e;
    e.id = Uuid::v7();
    e.ns = "ns3";
    e.kind = "concept";
    e.name = name;
    db->entities().upsertEntity(e);
  }
  EXPECT_EQ(count({.namespaces = {"ns3"}, .namePrefix = "\u00e9C"}), 1);
  EXPECT_EQ(count({.namespaces = {"ns3"}, .namePrefix = "\u00c9c"}), 2);
  EXPECT_EQ(count({.namespaces = {"ns3"}, .namePrefix = "\u00c9cOlE "}), 2);
  EXPECT_EQ(count({.namespaces = {"ns1", "ns2"}, .tagsAny = {"odd"}}), 12);
  EXPECT_EQ(count({.namespaces = {"ns1", "ns2"}, .tagsAny = {"t1", "t2", "zz"}}), 2);

  // Pages are disjoint, ordered and complete.
  std::vector<Uuid> seen;
  storage::PageRequest page{0, 7};
  for (;;) {
    auto p = db->entities().queryEntities({.namespaces = {"ns1", "ns2"}}, page);
    for (auto& e : p.items) seen.push_back(e.id);
    if (!p.nextOffset) break;
    page.offset = *p.nextOffset;
  }
  EXPECT_EQ(seen.size(), 25u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));

  EXPECT_EQ(codeOf([&] { db->entities().countEntities({}); }), ErrorCode::InvalidInput);
  EXPECT_EQ(codeOf([&] { db->entities().queryEntities({.namespaces = {"ns1"}}, {0, 0}); }), ErrorCode::InvalidInput);
  EXPECT_EQ(codeOf([&] { db->entities().queryEntities({.namespaces = {"ns1"}}, {-1, 10}); }), ErrorCode::InvalidInput);
}

TEST_P(EntityContract, ReadsByIdIgnoreNamespace) {
  auto e = entity("elsewhere", "tenant-b");
  EXPECT_TRUE(db->entities().getEntity(e.id));
  EXPECT_FALSE(db->entities().getEntity(Uuid::v7()));
}

TEST_P(EntityContract, HostileTextIsStoredVerbatim) {
  const std::string hostile = std::string("'; DROP TABLE entities; --\"\\%_ \x01 ") + "\xF0\x9F\x98\x80";
  auto e = entity(hostile);
  auto got = db->entities().getEntity(e.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->name, hostile);
  EXPECT_EQ(db->entities().countEntities({.namespaces = {"ns1"}, .namePrefix = "'; DROP"}), 1);
}

KHIVE_INSTANTIATE_CONTRACT(EntityContract);

}  // namespace
}  // namespace khive::testing
