// VectorStore and SparseStore contract: validation, replacement, deletes (including the hard
// delete of the subject), filters inside the search at 0.1 / 1 / 10 / 50 % selectivity with
// exactly k results, and recall@10 against exact search on seeded clustered data.

#include <cmath>
#include <limits>
#include <set>

#include "clustered_data.h"
#include "retrieval_fixture.h"

namespace khive::testing {
namespace {

using storage::PredicateOp;
using storage::PropertyPredicate;
using storage::VectorRecord;
using storage::VectorSearchRequest;

class VectorContract : public RetrievalTest {
 protected:
  VectorRecord rec(std::vector<float> v, std::string kind = "concept", Json props = Json::object(),
                   std::string ns = "ns1") {
    VectorRecord r;
    r.subjectId = Uuid::v7();
    r.ns = std::move(ns);
    r.kind = std::move(kind);
    r.model = "m";
    r.values = std::move(v);
    r.properties = std::move(props);
    return r;
  }
  VectorSearchRequest req(std::vector<float> q, std::int64_t k = 10) {
    VectorSearchRequest r;
    r.query = std::move(q);
    r.model = "m";
    r.topK = k;
    r.namespaces = {"ns1"};
    return r;
  }
};

TEST_P(VectorContract, ReportsCapabilities) {
  if (!requireVectors()) return;
  auto c = db->vectors().capabilities();
  EXPECT_TRUE(c.supportsFilter);
  EXPECT_FALSE(c.indexKinds.empty());
  EXPECT_GE(c.maxDims, 1024);
  EXPECT_EQ(c.metric, "cosine");
}

TEST_P(VectorContract, RejectsBadVectors) {
  if (!requireVectors()) return;
  db->vectors().insertVector(rec({1, 0, 0}));
  EXPECT_EQ(codeOf([&] { db->vectors().insertVector(rec({1, 0})); }), ErrorCode::InvalidInput);
  EXPECT_EQ(codeOf([&] { db->vectors().insertVector(rec({})); }), ErrorCode::InvalidInput);
  EXPECT_EQ(codeOf([&] { db->vectors().insertVector(rec({1, std::nanf(""), 0})); }), ErrorCode::InvalidInput);
  EXPECT_EQ(codeOf([&] { db->vectors().insertVector(rec({1, std::numeric_limits<float>::infinity(), 0})); }),
            ErrorCode::InvalidInput);
  EXPECT_EQ(codeOf([&] { db->vectors().insertVector(rec({0, 0, 0})); }), ErrorCode::InvalidInput);
  EXPECT_EQ(codeOf([&] { db->vectors().searchVectors(req({1, 0})); }), ErrorCode::InvalidInput);
  EXPECT_EQ(codeOf([&] { db->vectors().searchVectors(req({1, std::nanf(""), 0})); }), ErrorCode::InvalidInput);
  auto r = req({1, 0, 0});
  r.namespaces.clear();
  EXPECT_EQ(codeOf([&] { db->vectors().searchVectors(r); }), ErrorCode::InvalidInput);
  r = req({1, 0, 0}, 0);
  EXPECT_EQ(codeOf([&] { db->vectors().searchVectors(r); }), ErrorCode::InvalidInput);

  std::vector<VectorRecord> batch = {rec({0, 1, 0}), rec({1, 1}), rec({0, 0, 1})};
  auto s = db->vectors().insertVectors(batch);
  EXPECT_EQ(s.affected, 2u);
  EXPECT_EQ(s.failed, 1u);
  std::vector<std::string> ns = {"ns1"};
  EXPECT_EQ(db->vectors().countVectors("m", ns), 3);
}

TEST_P(VectorContract, ScoresAreCosineMappedIntoUnitInterval) {
  if (!requireVectors()) return;
  auto same = rec({2, 0});
  auto orth = rec({0, 5});
  auto opposite = rec({-1, 0});
  for (auto* r : {&same, &orth, &opposite}) db->vectors().insertVector(*r);
  auto hits = db->vectors().searchVectors(req({1, 0}));
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(hits[0].subjectId, same.subjectId);
  EXPECT_NEAR(hits[0].score, 1.0, 1e-5);
  EXPECT_EQ(hits[1].subjectId, orth.subjectId);
  EXPECT_NEAR(hits[1].score, 0.5, 1e-5);
  EXPECT_EQ(hits[2].subjectId, opposite.subjectId);
  EXPECT_NEAR(hits[2].score, 0.0, 1e-5);
  EXPECT_EQ(hits[0].rank, 1);
  EXPECT_EQ(hits[2].rank, 3);
  EXPECT_EQ(hits[0].kind, "concept");
  EXPECT_EQ(hits[0].ns, "ns1");
}

TEST_P(VectorContract, ReplacesAndDeletesVectors) {
  if (!requireVectors()) return;
  auto a = rec({1, 0});
  db->vectors().insertVector(a);
  auto other = rec({0.9f, 0.1f});
  db->vectors().insertVector(other);
  EXPECT_EQ(db->vectors().searchVectors(req({1, 0}))[0].subjectId, a.subjectId);
  a.values = {0, 1};  // replace: now far from the query
  db->vectors().insertVector(a);
  auto hits = db->vectors().searchVectors(req({1, 0}));
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].subjectId, other.subjectId);
  auto second = a;
  second.field = "title";
  second.values = {1, 0};
  db->vectors().insertVector(second);
  std::vector<std::string> ns = {"ns1"};
  EXPECT_EQ(db->vectors().countVectors("m", ns), 3);
  EXPECT_EQ(db->vectors().deleteVectors(a.subjectId), 2);
  EXPECT_EQ(db->vectors().countVectors("m", ns), 1);
  hits = db->vectors().searchVectors(req({1, 0}));
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].subjectId, other.subjectId);
  auto titleReq = req({1, 0});
  titleReq.field = "title";
  EXPECT_TRUE(db->vectors().searchVectors(titleReq).empty());
  EXPECT_EQ(db->vectors().deleteVectors(a.subjectId), 0);
}

// What export reads: every stored vector of the given subjects, bit for bit.
TEST_P(VectorContract, VectorsOfSubjectsComeBackExactly) {
  if (!requireVectors()) return;
  auto a = rec({0.1f, -2.5e-7f, 3.3333333f}, "concept", Json{{"p", 1}});
  auto b = rec({1, 2, 3});
  auto c = rec({4, 5, 6});
  db->vectors().insertVectors(std::vector{a, b, c});
  auto title = a;
  title.field = "title";
  title.values = {0, 0, 1};
  db->vectors().insertVector(title);
  std::vector<Uuid> ids = {a.subjectId, c.subjectId, Uuid::v7()};
  auto got = db->vectors().vectorsOf(ids);
  ASSERT_EQ(got.size(), 3u);
  std::size_t fromA = 0;
  for (const auto& v : got) {
    EXPECT_NE(v.subjectId, b.subjectId);
    if (v.subjectId == a.subjectId) {
      ++fromA;
      EXPECT_EQ(v.values, v.field == "text" ? a.values : title.values) << v.field;
      EXPECT_EQ(v.properties, a.properties);
      EXPECT_EQ(v.ns, "ns1");
      EXPECT_EQ(v.kind, "concept");
      EXPECT_EQ(v.model, "m");
    } else {
      EXPECT_EQ(v.values, c.values);
    }
  }
  EXPECT_EQ(fromA, 2u);
  EXPECT_TRUE(db->vectors().vectorsOf(std::vector<Uuid>{}).empty());
}

TEST_P(VectorContract, HardDeleteOfTheSubjectRemovesTextAndVectors) {
  if (!requireVectors()) return;
  Entity e;
  e.id = Uuid::v7();
  e.ns = "ns1";
  e.kind = "concept";
  e.name = "doomed";
  db->entities().upsertEntity(e);
  Note n;
  n.id = Uuid::v7();
  n.ns = "ns1";
  n.kind = "observation";
  n.content = "doomed note";
  db->notes().upsertNote(n);
  for (const Uuid& id : {e.id, n.id}) {
    auto r = rec({1, 0});
    r.subjectId = id;
    db->vectors().insertVector(r);
    storage::TextDocument d;
    d.subjectId = id;
    d.ns = "ns1";
    d.kind = "concept";
    d.title = "doomed";
    db->text().upsertDocument(d);
    storage::SparseRecord s;
    s.subjectId = id;
    s.ns = "ns1";
    s.kind = "concept";
    s.model = "splade";
    s.vector = {{7}, {1.0f}};
    db->sparse().insertSparse(s);
  }
  auto survivor = rec({1, 0});
  db->vectors().insertVector(survivor);
  EXPECT_EQ(db->vectors().searchVectors(req({1, 0})).size(), 3u);  // builds any index first

  std::vector<std::string> scope = {"ns1"};
  // Live counts: only subjects that are live entities or notes (the survivor has no subject).
  EXPECT_EQ(db->vectors().countLiveVectors("m", scope), 2);
  EXPECT_EQ(db->text().countLiveDocuments(scope), 2);
  EXPECT_TRUE(db->entities().deleteEntity(e.id, storage::DeleteMode::Soft));
  EXPECT_TRUE(db->text().getDocument(e.id)) << "a soft delete keeps the text document";
  EXPECT_EQ(db->vectors().countVectors("m", scope), 3) << "a soft delete keeps the vector";
  EXPECT_EQ(db->vectors().countLiveVectors("m", scope), 1);
  EXPECT_EQ(db->text().countDocuments(scope), 2);
  EXPECT_EQ(db->text().countLiveDocuments(scope), 1);
  EXPECT_TRUE(db->entities().deleteEntity(e.id, storage::DeleteMode::Hard));
  EXPECT_TRUE(db->notes().deleteNote(n.id, storage::DeleteMode::Hard));
  EXPECT_FALSE(db->text().getDocument(e.id));
  EXPECT_FALSE(db->text().getDocument(n.id));
  std::vector<std::string> ns = {"ns1"};
  EXPECT_EQ(db->vectors().countVectors("m", ns), 1);
  EXPECT_EQ(db->sparse().countSparse("splade", ns), 0);
  auto hits = db->vectors().searchVectors(req({1, 0}));
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].subjectId, survivor.subjectId);
  storage::TextQuery tq;
  tq.text = "doomed";
  tq.namespaces = ns;
  EXPECT_TRUE(db->text().searchText(tq).empty());
}

TEST_P(VectorContract, NamespaceKindAndPropertyFilters) {
  if (!requireVectors()) return;
  auto a = rec({1, 0}, "concept", Json{{"lang", "en"}, {"year", 2020}});
  auto b = rec({1, 0.1f}, "person", Json{{"lang", "de"}, {"year", 2022}});
  auto c = rec({1, 0.2f}, "concept", Json{{"year", 2024}});
  auto d = rec({1, 0}, "concept", Json::object(), "ns2");
  for (auto* r : {&a, &b, &c, &d}) db->vectors().insertVector(*r);
  auto ids = [&](VectorSearchRequest r) {
    std::set<Uuid> out;
    for (auto& h : db->vectors().searchVectors(r)) out.insert(h.subjectId);
    return out;
  };
  auto r = req({1, 0});
  EXPECT_EQ(ids(r), (std::set<Uuid>{a.subjectId, b.subjectId, c.subjectId}));
  r.namespaces = {"ns1", "ns2"};
  EXPECT_EQ(ids(r).size(), 4u);
  r = req({1, 0});
  r.kinds = {"concept"};
  EXPECT_EQ(ids(r), (std::set<Uuid>{a.subjectId, c.subjectId}));
  r = req({1, 0});
  r.properties = {PropertyPredicate{"lang", PredicateOp::Eq, "en"}};
  EXPECT_EQ(ids(r), std::set<Uuid>{a.subjectId});
  r.properties = {PropertyPredicate{"lang", PredicateOp::Ne, "en"}};
  EXPECT_EQ(ids(r), std::set<Uuid>{b.subjectId});
  r.properties = {PropertyPredicate{"lang", PredicateOp::In, Json::array({"en", "de"})}};
  EXPECT_EQ(ids(r), (std::set<Uuid>{a.subjectId, b.subjectId}));
  r.properties = {PropertyPredicate{"year", PredicateOp::Range, 2021, 2024}};
  EXPECT_EQ(ids(r), (std::set<Uuid>{b.subjectId, c.subjectId}));
  r.properties = {PropertyPredicate{"lang", PredicateOp::Exists, false}};
  EXPECT_EQ(ids(r), std::set<Uuid>{c.subjectId});
  r.properties = {PropertyPredicate{"lang", PredicateOp::Exists, true}};
  r.kinds = {"person"};
  EXPECT_EQ(ids(r), std::set<Uuid>{b.subjectId});
}

// 20,000 clustered vectors (at the size where an ANN index takes over from exact search), each
// with a `bucket` property 0..999 and a kind that is "rare" for 1 % of them.
class FilteredVectorContract : public VectorContract {
 protected:
  static constexpr std::size_t kN = 20'000;
  static constexpr int kDims = 32;

  void load() {
    data = makeClustered(kN, 40, kDims, 40, 7);
    std::vector<VectorRecord> recs;
    recs.reserve(kN);
    for (std::size_t i = 0; i < kN; ++i) {
      auto p = data.point(i);
      auto r = rec(std::vector<float>(p.begin(), p.end()), i % 100 == 3 ? "rare" : "concept",
                   Json{{"bucket", static_cast<int>(i % 1000)}});
      index.emplace(r.subjectId, i);
      recs.push_back(std::move(r));
    }
    auto s = db->vectors().insertVectors(recs);
    ASSERT_EQ(s.affected, kN);
  }

  ClusteredData data;
  std::map<Uuid, std::size_t> index;
};

TEST_P(FilteredVectorContract, FilteredSearchReturnsExactlyKInsideTheFilter) {
  if (!requireVectors()) return;
  load();
  // (upper bucket, expected share): 0.1 %, 1 %, 10 %, 50 %.
  for (int buckets : {1, 10, 100, 500}) {
    double recallSum = 0;
    int queries = 0;
    for (std::size_t qi = 0; qi < 20; ++qi) {
      auto q = data.query(qi);
      auto r = req(std::vector<float>(q.begin(), q.end()), 10);
      r.properties = {PropertyPredicate{"bucket", PredicateOp::Lt, buckets}};
      auto hits = db->vectors().searchVectors(r);
      ASSERT_EQ(hits.size(), 10u) << "selectivity " << buckets / 10.0 << " %";
      std::set<std::size_t> got;
      for (const auto& h : hits) {
        auto it = index.find(h.subjectId);
        ASSERT_NE(it, index.end());
        ASSERT_LT(static_cast<int>(it->second % 1000), buckets) << "a hit outside the filter";
        got.insert(it->second);
      }
      auto truth = exactTopK(data, q, 10, [&](std::size_t i) { return static_cast<int>(i % 1000) < buckets; });
      for (auto t : truth) recallSum += got.contains(t) ? 1 : 0;
      queries += 1;
    }
    EXPECT_GE(recallSum / (10.0 * queries), 0.9) << "filtered recall at " << buckets / 10.0 << " %";
  }
  // A kind filter admitting 1 %.
  for (std::size_t qi = 0; qi < 10; ++qi) {
    auto q = data.query(qi);
    auto r = req(std::vector<float>(q.begin(), q.end()), 10);
    r.kinds = {"rare"};
    auto hits = db->vectors().searchVectors(r);
    ASSERT_EQ(hits.size(), 10u);
    for (const auto& h : hits) {
      EXPECT_EQ(h.kind, "rare");
      EXPECT_EQ(index.at(h.subjectId) % 100, 3u);
    }
  }
  // Fewer matches than k: all of them.
  auto r = req(std::vector<float>(data.query(0).begin(), data.query(0).end()), 50);
  r.properties = {PropertyPredicate{"bucket", PredicateOp::Eq, 5}};
  EXPECT_EQ(db->vectors().searchVectors(r).size(), 20u);
}

TEST_P(FilteredVectorContract, RecallAt10AgainstExactSearch) {
  if (!requireVectors()) return;
  load();
  double hitsFound = 0;
  for (std::size_t qi = 0; qi < 40; ++qi) {
    auto q = data.query(qi);
    auto hits = db->vectors().searchVectors(req(std::vector<float>(q.begin(), q.end()), 10));
    ASSERT_EQ(hits.size(), 10u);
    std::set<std::size_t> got;
    for (const auto& h : hits) got.insert(index.at(h.subjectId));
    for (auto t : exactTopK(data, q, 10, [](std::size_t) { return true; })) hitsFound += got.contains(t) ? 1 : 0;
  }
  EXPECT_GE(hitsFound / 400.0, 0.95);
}

// ---- sparse ------------------------------------------------------------------------------------

class SparseContract : public RetrievalTest {
 protected:
  storage::SparseRecord rec(std::vector<std::uint32_t> idx, std::vector<float> val, std::string kind = "concept") {
    storage::SparseRecord r;
    r.subjectId = Uuid::v7();
    r.ns = "ns1";
    r.kind = std::move(kind);
    r.model = "splade";
    r.vector = {std::move(idx), std::move(val)};
    return r;
  }
};

TEST_P(SparseContract, DotProductTopK) {
  auto a = rec({1, 2, 3}, {1.0f, 1.0f, 1.0f});
  auto b = rec({2, 9}, {3.0f, 1.0f});
  auto c = rec({9}, {1.0f}, "person");
  for (auto* r : {&a, &b, &c}) db->sparse().insertSparse(*r);
  storage::SparseSearchRequest q;
  q.query = {{2, 3}, {1.0f, 0.5f}};
  q.model = "splade";
  q.namespaces = {"ns1"};
  auto hits = db->sparse().searchSparse(q);  // a: 1.5, b: 3.0, c: no overlap
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].subjectId, b.subjectId);
  EXPECT_NEAR(hits[0].score, 1.0, 1e-9);
  EXPECT_EQ(hits[1].subjectId, a.subjectId);
  EXPECT_NEAR(hits[1].score, 0.5, 1e-6);
  EXPECT_EQ(hits[1].rank, 2);
  q.kinds = {"person"};
  EXPECT_TRUE(db->sparse().searchSparse(q).empty());
  q.kinds.clear();
  q.topK = 1;
  EXPECT_EQ(db->sparse().searchSparse(q).size(), 1u);

  b.vector = {{5}, {1.0f}};  // replace
  db->sparse().insertSparse(b);
  q.topK = 10;
  hits = db->sparse().searchSparse(q);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].subjectId, a.subjectId);
  std::vector<std::string> ns = {"ns1"};
  EXPECT_EQ(db->sparse().countSparse("splade", ns), 3);
  EXPECT_EQ(db->sparse().deleteSparse(a.subjectId), 1);
  EXPECT_TRUE(db->sparse().searchSparse(q).empty());
  EXPECT_EQ(codeOf([&] { db->sparse().insertSparse(rec({1, 2}, {1.0f})); }), ErrorCode::InvalidInput);
  EXPECT_EQ(codeOf([&] { db->sparse().insertSparse(rec({1}, {std::nanf("")})); }), ErrorCode::InvalidInput);
}

INSTANTIATE_TEST_SUITE_P(Backends, VectorContract, ::testing::ValuesIn(backendCases()), BackendCaseName());
INSTANTIATE_TEST_SUITE_P(Backends, FilteredVectorContract, ::testing::ValuesIn(backendCases()), BackendCaseName());
INSTANTIATE_TEST_SUITE_P(Backends, SparseContract, ::testing::ValuesIn(backendCases()), BackendCaseName());

}  // namespace
}  // namespace khive::testing
