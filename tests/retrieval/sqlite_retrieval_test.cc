// SQLite-specific retrieval behaviour: the FTS5 query builder's output, the FAISS index across
// reopen, writes by another connection set (another process), index kinds and rebuild, and
// searches inside an open write transaction.

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>
#include <map>
#include <set>
#include <fmt/format.h>
#include <unistd.h>

#include "backends/sqlite/fts_query.h"
#include "backends/sqlite/retrieval_stores.h"
#include "backends/sqlite/vector_index.h"
#include "clustered_data.h"
#include "khive/backends/sqlite.h"
#include "khive/core/error.h"

namespace khive::sqlite {
namespace {

using storage::TextMode;

TEST(FtsQueryBuilder, QuotesEverythingButPlainBarewords) {
  EXPECT_EQ(buildFtsMatch("multi-agent systems", TextMode::Plain), R"("multi-agent" systems)");
  EXPECT_EQ(buildFtsMatch("O'Reilly NEAR C++", TextMode::Plain), R"("O'Reilly" "NEAR" "C++")");
  EXPECT_EQ(buildFtsMatch("say \"hi", TextMode::Plain), R"(say """hi")");
  EXPECT_EQ(buildFtsMatch("a OR b and c", TextMode::Plain), R"(a "OR" b "and" c)");
  EXPECT_EQ(buildFtsMatch("a b", TextMode::AnyTerm), "a OR b");
  EXPECT_EQ(buildFtsMatch("  typed  \"edges\" ", TextMode::Phrase), R"("typed ""edges""")");
  EXPECT_EQ(buildFtsMatch("   ", TextMode::Plain), "");
  EXPECT_EQ(buildFtsMatch(std::string("a\0b", 3), TextMode::Plain), "a b");
  EXPECT_EQ(buildFtsMatch("x\xff" "y", TextMode::Plain), "x y");
  EXPECT_EQ(buildFtsMatch("(col:x*)", TextMode::Plain), R"x("(col:x*)")x");
  EXPECT_EQ(sanitizeQueryText("ünï\xed\xa0\x80" "🎉"), "ünï   🎉");
}

std::string freshPath() {
  static int n = 0;
  auto dir = std::filesystem::temp_directory_path() / fmt::format("khive-retrieval-{}", ::getpid());
  std::filesystem::create_directories(dir);
  return (dir / fmt::format("r-{}.sqlite", n++)).string();
}

std::unique_ptr<storage::Backend> open(const std::string& path) {
  backends::SqliteOptions o;
  o.path = path;
  return backends::openSqlite(o);
}

storage::VectorRecord rec(std::span<const float> v, std::string ns = "ns1") {
  storage::VectorRecord r;
  r.subjectId = Uuid::v7();
  r.ns = std::move(ns);
  r.kind = "concept";
  r.model = "m";
  r.values.assign(v.begin(), v.end());
  return r;
}

storage::VectorSearchRequest req(std::span<const float> q, std::int64_t k = 10) {
  storage::VectorSearchRequest r;
  r.query.assign(q.begin(), q.end());
  r.model = "m";
  r.topK = k;
  r.namespaces = {"ns1"};
  return r;
}

TEST(FtsQueryBuilder, SearchesARepeatedTermOnceAndCapsTheTerms) {
  std::string repeated;
  for (int i = 0; i < 2000; ++i) repeated += i % 2 ? "A " : "a ";
  EXPECT_EQ(buildFtsMatch(repeated, TextMode::Plain), "a");
  EXPECT_EQ(buildFtsMatch("graph Graph vector graph", TextMode::AnyTerm), "graph OR vector");
  EXPECT_EQ(buildFtsMatch("a a", TextMode::Phrase), R"("a a")") << "a phrase keeps every word";
  std::string many;
  for (std::size_t i = 0; i < storage::kMaxSearchTerms; ++i) many += "w" + std::to_string(i) + " ";
  EXPECT_NO_THROW(buildFtsMatch(many + many, TextMode::Plain));
  many += "one_more";
  for (auto mode : {TextMode::Plain, TextMode::AnyTerm, TextMode::Phrase}) {
    try {
      buildFtsMatch(many, mode);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::InvalidInput);
    }
  }
}

TEST(SqliteVectorIndex, SurvivesReopenAndSeesOtherWriters) {
  const auto path = freshPath();
  auto data = testing::makeClustered(500, 5, 16, 8, 3);
  std::vector<storage::VectorRecord> recs;
  for (std::size_t i = 0; i < data.size(); ++i) recs.push_back(rec(data.point(i)));
  {
    auto db = open(path);
    db->vectors().insertVectors(recs);
    storage::TextDocument d;
    d.subjectId = recs[0].subjectId;
    d.ns = "ns1";
    d.kind = "concept";
    d.title = "persistent";
    db->text().upsertDocument(d);
    ASSERT_EQ(db->vectors().searchVectors(req(data.point(7)))[0].subjectId, recs[7].subjectId);
  }
  auto a = open(path);
  auto info = a->vectors().vectorInfo();
  ASSERT_EQ(info.size(), 1u);
  EXPECT_EQ(info[0].count, 500);
  EXPECT_EQ(info[0].dims, 16);
  EXPECT_TRUE(info[0].stale);  // not built in this process yet
  EXPECT_EQ(a->vectors().searchVectors(req(data.point(7)))[0].subjectId, recs[7].subjectId);
  info = a->vectors().vectorInfo();
  EXPECT_EQ(info[0].indexKind, "flat");
  EXPECT_FALSE(info[0].stale);
  storage::TextQuery tq;
  tq.text = "persistent";
  tq.namespaces = {"ns1"};
  EXPECT_EQ(a->text().searchText(tq).size(), 1u);

  // A second backend on the same file stands for another process: its writes reach a's index
  // through the change log.
  auto b = open(path);
  auto fresh = rec(data.query(0));
  b->vectors().insertVector(fresh);
  EXPECT_EQ(b->vectors().deleteVectors(recs[7].subjectId), 1);
  EXPECT_TRUE(a->vectors().vectorInfo()[0].stale);
  EXPECT_EQ(a->vectors().searchVectors(req(data.query(0)))[0].subjectId, fresh.subjectId);
  for (const auto& h : a->vectors().searchVectors(req(data.point(7), 50))) EXPECT_NE(h.subjectId, recs[7].subjectId);
  a->vectors().rebuildVectorIndex("m");
  EXPECT_FALSE(a->vectors().vectorInfo()[0].stale);
  EXPECT_EQ(a->vectors().searchVectors(req(data.query(0)))[0].subjectId, fresh.subjectId);
  try {
    a->vectors().rebuildVectorIndex("nope");
    ADD_FAILURE() << "rebuilding an unknown model should fail";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::NotFound);
  }
}

TEST(SqliteVectorIndex, SwitchesToHnswAboveTheThresholdAndCompactsTombstones) {
  auto db = backends::openSqlite({});
  const auto n = static_cast<std::size_t>(vectorIndexTuning().hnswThreshold);
  auto data = testing::makeClustered(n, 5, 8, 16, 5);
  std::vector<storage::VectorRecord> recs;
  for (std::size_t i = 0; i + 1 < n; ++i) recs.push_back(rec(data.point(i)));
  db->vectors().insertVectors(recs);
  EXPECT_EQ(db->vectors().searchVectors(req(data.query(0))).size(), 10u);
  EXPECT_EQ(db->vectors().vectorInfo()[0].indexKind, "flat");
  db->vectors().insertVector(rec(data.point(n - 1)));
  EXPECT_EQ(db->vectors().searchVectors(req(data.query(0))).size(), 10u);
  EXPECT_EQ(db->vectors().vectorInfo()[0].indexKind, "hnsw");
  // Deletes become tombstones: never returned.
  for (std::size_t i = 0; i < 100; ++i) db->vectors().deleteVectors(recs[i].subjectId);
  for (const auto& h : db->vectors().searchVectors(req(data.point(5), 200))) {
    for (std::size_t i = 0; i < 100; ++i) ASSERT_NE(h.subjectId, recs[i].subjectId);
  }
}

TEST(SqliteVectorIndex, RebuildPrunesTheLogAndOlderIndexesNotice) {
  const auto path = freshPath();
  auto data = testing::makeClustered(100, 2, 8, 4, 9);
  std::vector<storage::VectorRecord> recs;
  for (std::size_t i = 0; i < data.size(); ++i) recs.push_back(rec(data.point(i)));
  auto a = open(path);
  a->vectors().insertVectors(recs);
  ASSERT_EQ(a->vectors().searchVectors(req(data.point(3)))[0].subjectId, recs[3].subjectId);  // a's index built

  auto b = open(path);  // another process: writes, rebuilds and prunes the log
  auto fresh = rec(data.query(0));
  b->vectors().insertVector(fresh);
  b->vectors().deleteVectors(recs[3].subjectId);
  b->vectors().rebuildVectorIndex("m");
  auto logRows = b->sql().reader()->queryScalar("SELECT count(*) FROM vector_changes");
  EXPECT_EQ(storage::asInt(logRows), 0);

  // a's index predates the pruned entries: it must rebuild, not trust the (empty) log.
  EXPECT_TRUE(a->vectors().vectorInfo()[0].stale);
  EXPECT_EQ(a->vectors().searchVectors(req(data.query(0)))[0].subjectId, fresh.subjectId);
  for (const auto& h : a->vectors().searchVectors(req(data.point(3), 100))) EXPECT_NE(h.subjectId, recs[3].subjectId);
  // Writes after the prune are caught up incrementally as before.
  auto later = rec(data.query(1));
  b->vectors().insertVector(later);
  EXPECT_EQ(a->vectors().searchVectors(req(data.query(1)))[0].subjectId, later.subjectId);
}

// Searches on several threads while another thread writes: every search sees a consistent
// index (k hits, no deleted subject) and nothing crashes or deadlocks.
TEST(SqliteVectorIndex, ConcurrentSearchesAndWrites) {
  const auto path = freshPath();
  auto db = open(path);
  auto data = testing::makeClustered(3'000, 50, 16, 10, 13);
  std::vector<storage::VectorRecord> recs;
  for (std::size_t i = 0; i < data.size(); ++i) recs.push_back(rec(data.point(i)));
  db->vectors().insertVectors(recs);
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&, t] {
      std::size_t qi = static_cast<std::size_t>(t);
      while (!done.load()) {
        auto hits = db->vectors().searchVectors(req(data.query(qi++ % 50)));
        if (hits.size() != 10) failures.fetch_add(1);
      }
    });
  }
  for (std::size_t i = 0; i < 300; ++i) {
    if (i % 3 == 0) {
      db->vectors().deleteVectors(recs[i].subjectId);
    } else {
      db->vectors().insertVector(rec(data.query(i % 50)));
    }
  }
  done = true;
  for (auto& r : readers) r.join();
  EXPECT_EQ(failures.load(), 0);
  std::vector<std::string> ns = {"ns1"};
  EXPECT_EQ(db->vectors().countVectors("m", ns), 3'000 - 100 + 200);
}

// 128-d vectors at the HNSW threshold, so unfiltered and broad filters go through the HNSW
// graph walk with the IDSelector (narrow filters take the exact scan, covered by the contract).
TEST(SqliteVectorIndex, HnswWithSelectorKeepsKAndTheFilter) {
  auto db = backends::openSqlite({});
  const auto n = static_cast<std::size_t>(vectorIndexTuning().hnswThreshold);
  auto data = testing::makeClustered(n, 20, 128, 20, 11);
  std::vector<storage::VectorRecord> recs;
  std::map<Uuid, std::size_t> indexOf;
  for (std::size_t i = 0; i < n; ++i) {
    auto r = rec(data.point(i));
    r.kind = i % 10 == 0 ? "minor" : "major";
    r.properties = Json{{"bucket", static_cast<int>(i % 100)}};
    indexOf.emplace(r.subjectId, i);
    recs.push_back(std::move(r));
  }
  ASSERT_EQ(db->vectors().insertVectors(recs).affected, n);
  ASSERT_EQ(db->vectors().searchVectors(req(data.query(0))).size(), 10u);
  ASSERT_EQ(db->vectors().vectorInfo()[0].indexKind, "hnsw");
  // Tombstones force the selector onto unfiltered searches too.
  for (std::size_t i = 1; i < 200; i += 2) db->vectors().deleteVectors(recs[i].subjectId);

  double found = 0, asked = 0;
  for (std::size_t qi = 0; qi < 20; ++qi) {
    auto r = req(data.query(qi));
    const bool byKind = qi % 2 == 0;
    if (byKind) {
      r.kinds = {"major"};  // 90 %
    } else {
      r.properties = {storage::PropertyPredicate{"bucket", storage::PredicateOp::Lt, 95}};  // 95 %
    }
    auto admit = [&](std::size_t i) {
      if (i < 200 && i % 2 == 1) return false;
      return byKind ? i % 10 != 0 : i % 100 < 95;
    };
    auto hits = db->vectors().searchVectors(r);
    ASSERT_EQ(hits.size(), 10u);
    std::set<std::size_t> got;
    for (const auto& h : hits) {
      auto i = indexOf.at(h.subjectId);
      ASSERT_TRUE(admit(i)) << "hit " << i << " is outside the filter or deleted";
      got.insert(i);
    }
    for (auto t : testing::exactTopK(data, data.query(qi), 10, admit)) found += got.contains(t) ? 1 : 0;
    asked += 10;
  }
  EXPECT_GE(found / asked, 0.9);
  // The searches above went through the graph walk, not the exact-scan safety net.
  auto* index = dynamic_cast<SqliteVectorStore&>(db->vectors()).spaceIndex("m", "text");
  ASSERT_NE(index, nullptr);
  auto st = index->state();
  EXPECT_GE(st.graphSearches, 20);
  EXPECT_EQ(st.shortFallbacks, 0);
}

TEST(SqliteVectorIndex, SearchInsideAWriteTransactionSeesItsOwnWrites) {
  auto db = backends::openSqlite({});
  const float x[] = {1, 0}, y[] = {0, 1};
  db->vectors().insertVector(rec(y));
  EXPECT_EQ(db->vectors().searchVectors(req(x)).size(), 1u);
  auto tx = db->sql().begin({});
  auto mine = rec(x);
  db->vectors().insertVector(mine);
  auto hits = db->vectors().searchVectors(req(x));
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].subjectId, mine.subjectId);
  tx.reset();  // rolled back
  hits = db->vectors().searchVectors(req(x));
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_NE(hits[0].subjectId, mine.subjectId);
}

}  // namespace
}  // namespace khive::sqlite
