// Runtime::merge on every backend: the winner's own edges keep their weight and metadata when
// the loser has an edge with the same natural key; the loser's other edges move with theirs.
#include <gtest/gtest.h>

#include "khive/runtime/runtime.h"
#include "support/test_backends.h"

using namespace khive;
using namespace khive::runtime;

namespace {

class MergeEdges : public ::testing::TestWithParam<khive::testing::BackendCase> {
 protected:
  void SetUp() override {
    KHIVE_SKIP_UNAVAILABLE_BACKEND(GetParam());
    rt_ = std::make_unique<Runtime>(GetParam().make(), RuntimeOptions{});
  }
  Entity entity(const std::string& name) { return rt_->createEntity({.kind = "concept", .name = name}); }
  // The one live edge with this natural key (either orientation for a symmetric relation).
  Edge edge(const Uuid& source, const std::string& relation, const Uuid& target) {
    storage::EdgeFilter f;
    f.namespaces = rt_->readNamespaces();
    f.sources = {source, target};
    f.targets = {source, target};
    f.relations = {relation};
    auto items = rt_->backend().graph().queryEdges(f).items;
    std::vector<Edge> match;
    for (const auto& e : items)
      if ((e.sourceId == source && e.targetId == target) || (e.sourceId == target && e.targetId == source))
        match.push_back(e);
    EXPECT_EQ(match.size(), 1u) << relation;
    return match.empty() ? Edge{} : match[0];
  }
  std::unique_ptr<Runtime> rt_;
};

TEST_P(MergeEdges, WinnerKeepsItsOwnEdgeOnACollision) {
  auto loser = entity("loser"), winner = entity("winner"), target = entity("target"), source = entity("source"),
       other = entity("other"), peer = entity("peer");
  // Outgoing, incoming and symmetric collisions: the winner has each key already.
  rt_->link({.source = loser.id,
             .target = target.id,
             .relation = "instance_of",
             .weight = 0.3,
             .metadata = {{"from", "loser"}}});
  const Edge winnerOut = rt_->link({.source = winner.id,
                                    .target = target.id,
                                    .relation = "instance_of",
                                    .weight = 0.9,
                                    .metadata = {{"from", "winner"}}});
  rt_->link(
      {.source = source.id, .target = loser.id, .relation = "part_of", .weight = 0.2, .metadata = {{"from", "loser"}}});
  const Edge winnerIn = rt_->link({.source = source.id,
                                   .target = winner.id,
                                   .relation = "part_of",
                                   .weight = 0.8,
                                   .metadata = {{"from", "winner"}}});
  rt_->link({.source = peer.id,
             .target = loser.id,
             .relation = "competes_with",
             .weight = 0.1,
             .metadata = {{"from", "loser"}}});
  const Edge winnerSym = rt_->link({.source = winner.id,
                                    .target = peer.id,
                                    .relation = "competes_with",
                                    .weight = 0.7,
                                    .metadata = {{"from", "winner"}}});
  // No collision: moves with its weight and metadata.
  rt_->link(
      {.source = loser.id, .target = other.id, .relation = "extends", .weight = 0.4, .metadata = {{"from", "loser"}}});

  rt_->merge(loser.id, winner.id);

  for (const auto& [mine, source_, relation, target_] : {std::tuple{winnerOut, winner.id, "instance_of", target.id},
                                                         std::tuple{winnerIn, source.id, "part_of", winner.id},
                                                         std::tuple{winnerSym, winner.id, "competes_with", peer.id}}) {
    Edge e = edge(source_, relation, target_);
    EXPECT_EQ(e.id, mine.id) << relation;
    EXPECT_DOUBLE_EQ(e.weight, mine.weight) << relation;
    EXPECT_EQ(e.metadata, (Json{{"from", "winner"}})) << relation;
  }
  Edge moved = edge(winner.id, "extends", other.id);
  EXPECT_DOUBLE_EQ(moved.weight, 0.4);
  EXPECT_EQ(moved.metadata, (Json{{"from", "loser"}}));
  EXPECT_EQ(rt_->neighbors(winner.id, storage::Direction::Both, {}, 100).size(), 4u);
}

INSTANTIATE_TEST_SUITE_P(Backends, MergeEdges, ::testing::ValuesIn(khive::testing::backendCases()),
                         khive::testing::BackendCaseName{});

}  // namespace
