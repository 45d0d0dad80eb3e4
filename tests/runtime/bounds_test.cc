// Bounded work through the runtime, on every backend: a pattern query whose walk explodes
// stops at the configured budget inside the engine; an oversized query or search text is
// refused before any work; an import leaves the planner statistics its tables need.

#include <gtest/gtest.h>

#include <random>
#include <sstream>

#include "khive/core/error.h"
#include "khive/runtime/runtime.h"
#include "khive/runtime/transfer.h"
#include "support/test_backends.h"

namespace khive::testing {
namespace {

using namespace std::chrono_literals;
using runtime::Config;
using runtime::Runtime;
using runtime::RuntimeOptions;

class BoundsTest : public ::testing::TestWithParam<BackendCase> {
 protected:
  void SetUp() override { KHIVE_SKIP_UNAVAILABLE_BACKEND(GetParam()); }

  std::unique_ptr<Runtime> open(const Limits& limits) {
    Config c;
    c.limits = limits;
    return std::make_unique<Runtime>(GetParam().make(), RuntimeOptions{c, std::nullopt, std::nullopt});
  }

  // `nodes` concepts in the runtime's namespace with `degree` random `extends` edges each,
  // written through the stores in batches (the graph is the input here, not the verbs).
  static void randomGraph(Runtime& rt, int nodes, int degree) {
    std::mt19937_64 rng(17);
    std::vector<Entity> es;
    for (int i = 0; i < nodes; ++i) {
      Entity e;
      e.id = Uuid::v7();
      e.ns = rt.writeNamespace();
      e.kind = "concept";
      e.name = "n" + std::to_string(i);
      es.push_back(std::move(e));
    }
    ASSERT_EQ(rt.backend().entities().upsertEntities(es).failed, 0);
    std::vector<Edge> edges;
    for (int i = 0; i < nodes; ++i) {
      for (int k = 0; k < degree; ++k) {
        const auto j = std::uniform_int_distribution<int>(0, nodes - 1)(rng);
        if (j == i) continue;
        Edge e;
        e.id = Uuid::v7();
        e.ns = rt.writeNamespace();
        e.sourceId = es[static_cast<std::size_t>(i)].id;
        e.targetId = es[static_cast<std::size_t>(j)].id;
        e.relation = "extends";
        edges.push_back(std::move(e));
      }
    }
    ASSERT_EQ(rt.backend().graph().upsertEdges(edges).failed, 0);
    // A bulk load ends with fresh planner statistics, as an import does (on PostgreSQL a
    // one-hop pattern over these 300 nodes is planned for empty tables otherwise, and takes
    // longer than the tests' small budgets).
    rt.backend().refreshStatistics();
  }

  static Error errorOf(const std::function<void()>& f) {
    try {
      f();
    } catch (const Error& e) {
      return e;
    }
    ADD_FAILURE() << "no error";
    return Error(ErrorCode::Driver, "", "", "none");
  }
};

constexpr const char* kExploding = "MATCH (a)-[*1..10]->(b)-[*1..10]->(c)-[*1..10]->(d) RETURN d.name";

TEST_P(BoundsTest, AnExplodingPatternStopsAtTheTimeBudget) {
  if (GetParam().name == "pglite") GTEST_SKIP() << "PGlite never fires statement_timeout (no timer in WASM)";
  Limits l;
  l.timeBudget = 300ms;
  auto rt = open(l);
  randomGraph(*rt, 300, 4);
  // Unbounded this runs for hours. The budget stops it inside the engine with an error that
  // says what to change.
  auto e = errorOf([&] { rt->query({.text = kExploding}); });
  EXPECT_EQ(e.code(), ErrorCode::Timeout) << e.what();
  EXPECT_NE(std::string(e.message()).find("time_budget_ms"), std::string::npos) << e.message();
  // The same store answers a bounded question right after.
  auto ok = rt->query({.text = "MATCH (a {name: 'n1'})-[:extends]->(b) RETURN b.name"});
  EXPECT_FALSE(ok.rows.empty());
}

TEST_P(BoundsTest, AnExplodingPatternStopsAtTheWorkBudgetOnSqlite) {
  if (GetParam().name.rfind("sqlite", 0) != 0) GTEST_SKIP() << "PostgreSQL bounds statements by time only";
  Limits l;
  l.workBudget = 20'000;  // 20 million virtual-machine instructions
  auto rt = open(l);
  randomGraph(*rt, 300, 4);
  auto e = errorOf([&] { rt->query({.text = kExploding}); });
  EXPECT_EQ(e.code(), ErrorCode::InvalidInput) << e.what();
  EXPECT_NE(std::string(e.message()).find("work_budget"), std::string::npos) << e.message();
}

TEST_P(BoundsTest, WalksRunUnderTheConfiguredTimeBudget) {
  Limits l;
  l.timeBudget = 1ms;
  auto rt = open(l);
  randomGraph(*rt, 300, 4);
  rt->backend().setReadBudget({});  // the set-up reads below are not what is measured
  // A depth-10 walk over 1,200 edges from every node cannot finish in 1 ms: the walk's own
  // budget comes from the same [limits] time_budget_ms.
  std::vector<Uuid> roots;
  for (const auto& e : rt->backend().entities().queryEntities({.namespaces = rt->readNamespaces()}, {.offset = 0, .limit = 300}).items)
    roots.push_back(e.id);
  EXPECT_EQ(errorOf([&] { rt->traverse(roots, 10, storage::Direction::Both, {}, 1000); }).code(), ErrorCode::Timeout);
}

TEST_P(BoundsTest, OversizedQueriesAndSearchesAreRefusedBeforeAnyWork) {
  Limits l;
  l.maxQueryBytes = 16 << 20;  // so the parser's own limit is what refuses the chain
  auto rt = open(l);
  std::string chain = "MATCH (n0)";
  for (int i = 1; i <= 10'000; ++i) chain += "-[:extends]->(n" + std::to_string(i) + ")";
  chain += " RETURN n0.name";
  auto e = errorOf([&] { rt->query({.text = chain}); });
  EXPECT_EQ(e.code(), ErrorCode::InvalidInput);
  EXPECT_NE(std::string(e.message()).find("split it into smaller queries"), std::string::npos) << e.message();

  auto small = open(Limits{});
  e = errorOf([&] { small->query({.text = chain}); });
  EXPECT_EQ(e.code(), ErrorCode::InvalidInput);
  EXPECT_NE(std::string(e.message()).find("max_query_bytes"), std::string::npos) << e.message();

  std::string words;
  for (int i = 0; i < 2000; ++i) words += "w" + std::to_string(i) + " ";
  e = errorOf([&] { small->search({.text = words}); });
  EXPECT_EQ(e.code(), ErrorCode::InvalidInput);
  EXPECT_NE(std::string(e.message()).find("max_search_bytes"), std::string::npos) << e.message();
}

TEST_P(BoundsTest, RepeatedSearchWordsAreSearchedOnceAndTooManyTermsAreRefused) {
  auto rt = open(Limits{});
  rt->createEntity({.kind = "concept", .name = "alpha", .description = std::string("a ").append(std::string(20, 'x'))});
  std::string repeated;
  for (int i = 0; i < 600; ++i) repeated += "alpha ";
  EXPECT_EQ(rt->search({.text = repeated}).hits.size(), 1u);
  std::string many;
  for (int i = 0; i < 65; ++i) many += "w" + std::to_string(i) + " ";
  auto e = errorOf([&] { rt->search({.text = many}); });
  EXPECT_EQ(e.code(), ErrorCode::InvalidInput);
  EXPECT_NE(std::string(e.message()).find("64"), std::string::npos) << e.message();
}

TEST_P(BoundsTest, ALargeDocumentSearchesWithABoundedSnippet) {
  auto rt = open(Limits{});
  std::string big;
  for (int i = 0; i < 40'000; ++i) big += "a ";
  rt->createEntity({.kind = "concept", .name = "big", .description = big});
  auto res = rt->search({.text = "a"});
  ASSERT_EQ(res.hits.size(), 1u);
  ASSERT_TRUE(res.hits[0].snippet);
  EXPECT_EQ(storage::countWords(*res.hits[0].snippet), storage::kSnippetTokens) << *res.hits[0].snippet;
  EXPECT_NE(res.hits[0].snippet->find("**a**"), std::string::npos);
}

TEST_P(BoundsTest, AnImportLeavesPlannerStatisticsAndAThreeHopPatternRunsUnderBudget) {
  Limits l;
  l.timeBudget = 20s;
  auto rt = open(l);
  std::stringstream in;
  std::vector<Uuid> ids;
  for (int i = 0; i < 2000; ++i) {
    ids.push_back(Uuid::v7());
    in << Json{{"type", "entity"}, {"id", ids.back().str()}, {"kind", "concept"}, {"name", "e" + std::to_string(i)}}.dump()
       << "\n";
  }
  std::mt19937_64 rng(3);
  for (int i = 0; i < 2000; ++i) {
    for (int k = 0; k < 3; ++k) {
      const auto j = std::uniform_int_distribution<int>(0, 1999)(rng);
      if (j == i) continue;
      in << Json{{"type", "edge"}, {"source_id", ids[static_cast<std::size_t>(i)].str()},
                 {"target_id", ids[static_cast<std::size_t>(j)].str()}, {"relation", "extends"}}
                .dump()
         << "\n";
    }
  }
  runtime::importJsonl(*rt, in);
  if (rt->backend().info().engine == "postgres") {
    auto r = rt->backend().sql().reader();
    for (const char* table : {"entities", "edges", "text_documents"}) {
      const double tuples = storage::asDouble(
          r->queryScalar(std::string("SELECT reltuples FROM pg_class WHERE oid = '") + table + "'::regclass"));
      EXPECT_GT(tuples, 1000.0) << table << " has no statistics after the import";
    }
  }
  auto res = rt->query({.text = "MATCH (a {name: 'e7'})-[:extends]->(b)-[:extends]->(c)-[:extends]->(d) RETURN d.name"});
  EXPECT_FALSE(res.rows.empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, BoundsTest, ::testing::ValuesIn(backendCases()), BackendCaseName());

}  // namespace
}  // namespace khive::testing
