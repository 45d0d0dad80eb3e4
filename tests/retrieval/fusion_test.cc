// Unit tests of rank fusion (pure functions, no backend).

#include <gtest/gtest.h>

#include "khive/core/error.h"
#include "khive/retrieval/fusion.h"

namespace khive::retrieval {
namespace {

Uuid id(int n) {
  Uuid::Bytes b{};
  b[15] = static_cast<std::uint8_t>(n);
  b[6] = 0x70;
  return Uuid(b);
}

CandidateStream stream(Signal s, std::vector<int> order) {
  CandidateStream out{s, {}};
  int rank = 1;
  for (int n : order) {
    out.items.push_back({id(n), "ns", "concept", 1.0 - 0.1 * rank, rank});
    ++rank;
  }
  return out;
}

TEST(Fusion, RrfOrdersByReciprocalRankSum) {
  // text: 1 2 3; vector: 3 1 4. RRF(k=60): 1 = 1/61 + 1/62, 3 = 1/63 + 1/61, 2 = 1/62, 4 = 1/63.
  std::vector<CandidateStream> s = {stream(Signal::Text, {1, 2, 3}), stream(Signal::Vector, {3, 1, 4})};
  auto f = fuse(s, {});
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(f[0].subjectId, id(1));
  EXPECT_EQ(f[1].subjectId, id(3));
  EXPECT_EQ(f[2].subjectId, id(2));
  EXPECT_EQ(f[3].subjectId, id(4));
  EXPECT_NEAR(f[0].score, (1.0 / 61 + 1.0 / 62) / (2.0 / 61), 1e-12);
  EXPECT_EQ(f[0].signals.text, 1);
  EXPECT_EQ(f[0].signals.vector, 2);
  EXPECT_EQ(f[2].signals.text, 2);
  EXPECT_FALSE(f[2].signals.vector);
  for (const auto& c : f) {
    EXPECT_GE(c.score, 0.0);
    EXPECT_LE(c.score, 1.0);
  }
}

TEST(Fusion, RankedFirstEverywhereScoresOne) {
  std::vector<CandidateStream> s = {stream(Signal::Text, {7}), stream(Signal::Vector, {7}), stream(Signal::Sparse, {7})};
  EXPECT_DOUBLE_EQ(fuse(s, {})[0].score, 1.0);
}

TEST(Fusion, WeightsAndSingleSignalStrategies) {
  std::vector<CandidateStream> s = {stream(Signal::Text, {1, 2}), stream(Signal::Vector, {2, 1})};
  FusionOptions o;
  o.vectorWeight = 3;
  EXPECT_EQ(fuse(s, o)[0].subjectId, id(2));
  o.strategy = FusionStrategy::Weighted;
  EXPECT_EQ(fuse(s, o)[0].subjectId, id(2));
  o.vectorWeight = 0;
  EXPECT_EQ(fuse(s, o)[0].subjectId, id(1));
  o.strategy = FusionStrategy::TextOnly;
  auto f = fuse(s, o);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].subjectId, id(1));
  EXPECT_FALSE(f[0].signals.vector);
  EXPECT_DOUBLE_EQ(f[0].score, 0.9);
  o.strategy = FusionStrategy::VectorOnly;
  EXPECT_EQ(fuse(s, o)[0].subjectId, id(2));
}

// Score-based fusion rescales each signal over its own candidates: a signal whose scores are
// bunched together (text here) no longer outweighs one whose scores spread out.
TEST(Fusion, RelativeAndDistributionRescalePerSignal) {
  CandidateStream text{Signal::Text, {{id(1), "ns", "concept", 0.52, 1}, {id(2), "ns", "concept", 0.50, 2},
                                      {id(3), "ns", "concept", 0.49, 3}}};
  CandidateStream vec{Signal::Vector, {{id(2), "ns", "concept", 0.95, 1}, {id(3), "ns", "concept", 0.60, 2},
                                       {id(1), "ns", "concept", 0.20, 3}}};
  std::vector<CandidateStream> s = {text, vec};
  FusionOptions o;
  o.strategy = FusionStrategy::Relative;
  auto f = fuse(s, o);
  // text: 1 -> 1, 2 -> 1/3, 3 -> 0; vector: 2 -> 1, 3 -> 0.4/0.75, 1 -> 0. Means over weight 2.
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0].subjectId, id(2));
  EXPECT_NEAR(f[0].score, (1.0 / 3 + 1.0) / 2, 1e-12);
  EXPECT_EQ(f[1].subjectId, id(1));
  EXPECT_NEAR(f[1].score, 0.5, 1e-12);
  o.strategy = FusionStrategy::Distribution;
  f = fuse(s, o);
  EXPECT_EQ(f[0].subjectId, id(2));
  for (const auto& c : f) {
    EXPECT_GE(c.score, 0.0);
    EXPECT_LE(c.score, 1.0);
  }
  EXPECT_EQ(fusionStrategyNamed("distribution"), FusionStrategy::Distribution);
  EXPECT_EQ(fusionStrategyName(FusionStrategy::Relative), "relative");
  EXPECT_FALSE(fusionStrategyNamed("bm25"));
}

TEST(Fusion, TiesBreakBySubjectIdAndBadOptionsAreRejected) {
  std::vector<CandidateStream> s = {stream(Signal::Text, {5}), stream(Signal::Vector, {4})};
  auto f = fuse(s, {});
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].subjectId, id(4));
  FusionOptions o;
  o.rrfK = 0;
  EXPECT_THROW(fuse(s, o), Error);
  o = {};
  o.textWeight = -1;
  EXPECT_THROW(fuse(s, o), Error);
  EXPECT_TRUE(fuse({}, {}).empty());
}

}  // namespace
}  // namespace khive::retrieval
