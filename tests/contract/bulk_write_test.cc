// Batches big enough that PostgreSQL writes them by COPY through a staging table
// (staged_write.h): the same outcome per row as the single-row writes on every engine.
#include <tuple>

#include "contract/contract_fixture.h"

namespace khive::testing {
namespace {

class BulkWriteContract : public ContractTest {
 protected:
  static constexpr int kRows = 100;  // above the backend's COPY threshold

  static Entity draft(const std::string& name, const std::string& ns = "ns1") {
    Entity e;
    std::tie(e.id, e.ns, e.kind, e.name) = std::tuple(Uuid::v7(), ns, "concept", name);
    return e;
  }
};

// Text that COPY's text format escapes: tabs, newlines, carriage returns, backslashes, the
// NULL marker spelled out, and non-ASCII.
const std::string kAwkward = "tab\there\nline\r\\ back\\slash \\N end “quoted” 日本語";

TEST_P(BulkWriteContract, EveryFieldRoundTripsThroughABigBatch) {
  std::vector<Entity> batch;
  for (int i = 0; i < kRows; ++i) {
    Entity e = draft(kAwkward + std::to_string(i));
    e.description = i % 2 ? std::optional<std::string>(kAwkward) : std::nullopt;
    e.entityType = i % 3 ? std::optional<std::string>("paper\t1") : std::nullopt;
    e.properties = Json{{"text", kAwkward}, {"n", i}, {"nested", {{"x", "\\N"}}}};
    e.tags = {"a\tb", "c\\d"};
    batch.push_back(e);
  }
  auto sum = db->entities().upsertEntities(batch);
  EXPECT_EQ(sum.affected, batch.size());
  EXPECT_EQ(sum.failed, 0u);
  for (const auto& e : batch) {
    auto got = db->entities().getEntity(e.id);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->name, e.name);
    EXPECT_EQ(got->description, e.description);
    EXPECT_EQ(got->entityType, e.entityType);
    EXPECT_EQ(got->properties, e.properties);
    EXPECT_EQ(got->tags, e.tags);
  }
  std::vector<Edge> edges;
  for (int i = 0; i + 1 < kRows; ++i) {
    Edge ed = edgeOf(batch[static_cast<std::size_t>(i)].id, "enables", batch[static_cast<std::size_t>(i) + 1].id,
                     0.125 * (i % 8));
    ed.metadata = Json{{"note", kAwkward}};
    edges.push_back(ed);
  }
  EXPECT_EQ(db->graph().upsertEdges(edges).affected, edges.size());
  for (const auto& ed : edges) {
    auto got = db->graph().getEdge(ed.id);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->metadata, ed.metadata);
    EXPECT_DOUBLE_EQ(got->weight, ed.weight);
  }
}

TEST_P(BulkWriteContract, ARefusedRowFailsAloneInABigBatch) {
  auto owned = entity("owned", "ns2");
  std::vector<Entity> batch;
  for (int i = 0; i < kRows; ++i) batch.push_back(draft("n" + std::to_string(i)));
  Entity stolen = owned;
  stolen.ns = "ns1";
  stolen.name = "stolen";
  batch[kRows / 2] = stolen;
  auto sum = db->entities().upsertEntities(batch);
  EXPECT_EQ(sum.attempted, batch.size());
  EXPECT_EQ(sum.affected, batch.size() - 1);
  EXPECT_EQ(sum.failed, 1u);
  EXPECT_EQ(db->entities().getEntity(owned.id)->name, "owned");
  EXPECT_TRUE(db->entities().getEntity(batch[0].id));
}

TEST_P(BulkWriteContract, TheSameIdTwiceInABigBatchKeepsTheLaterRow) {
  std::vector<Entity> batch;
  for (int i = 0; i < kRows; ++i) batch.push_back(draft("n" + std::to_string(i)));
  Entity again = batch[3];
  again.name = "later";
  batch.push_back(again);
  auto sum = db->entities().upsertEntities(batch);
  EXPECT_EQ(sum.affected, batch.size());
  EXPECT_EQ(sum.failed, 0u);
  EXPECT_EQ(db->entities().getEntity(again.id)->name, "later");
}

TEST_P(BulkWriteContract, BigBatchesCommitOrRollBackWithTheirUnitOfWork) {
  std::vector<Entity> first, second, dropped;
  for (int i = 0; i < kRows; ++i) {
    first.push_back(draft("a" + std::to_string(i)));
    second.push_back(draft("b" + std::to_string(i)));
    dropped.push_back(draft("c" + std::to_string(i)));
  }
  {
    auto work = db->beginWork();
    EXPECT_EQ(db->entities().upsertEntities(first).affected, first.size());
    EXPECT_EQ(db->entities().upsertEntities(second).affected, second.size());
    work->commit();
  }
  {
    auto work = db->beginWork();
    EXPECT_EQ(db->entities().upsertEntities(dropped).affected, dropped.size());
    work->rollback();
  }
  for (const auto* batch : {&first, &second})
    for (const auto& e : *batch) EXPECT_TRUE(db->entities().getEntity(e.id)) << e.name;
  for (const auto& e : dropped) EXPECT_FALSE(db->entities().getEntity(e.id)) << e.name;
}

KHIVE_INSTANTIATE_CONTRACT(BulkWriteContract);

}  // namespace
}  // namespace khive::testing
