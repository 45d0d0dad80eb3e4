// Read budgets (storage::ReadBudget): enforced inside the engine while a statement runs, on
// readers only, with errors that name the [limits] key to change; and the statistics refresh
// a bulk load ends with.

#include <chrono>

#include "contract/contract_fixture.h"

namespace khive::testing {
namespace {

using namespace std::chrono_literals;

class BudgetContract : public ContractTest {
 protected:
  // A statement whose work grows with n: a counter walked n times by a recursive CTE.
  static std::string countTo(std::int64_t n) {
    return "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < " + std::to_string(n) +
           ") SELECT count(*) FROM c";
  }
  // PGlite (PostgreSQL compiled to WASM, one thread) has no timer, so statement_timeout never
  // fires there (a SET statement_timeout = 100 does not stop pg_sleep(3)).
  bool engineHasNoTimer() const { return GetParam().name == "pglite"; }
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

TEST_P(BudgetContract, TheTimeBudgetStopsAReaderStatementInsideTheEngine) {
  if (engineHasNoTimer()) GTEST_SKIP() << "PGlite never fires statement_timeout (no timer in WASM)";
  EXPECT_EQ(db->readBudget(), storage::ReadBudget{}) << "unbounded by default";
  db->setReadBudget({.time = 100ms, .work = 0});
  EXPECT_EQ(db->readBudget().time, 100ms);
  // Runs for minutes unbounded; the engine stops it at the budget.
  auto e = errorOf([&] { db->sql().reader()->queryScalar(countTo(10'000'000'000)); });
  EXPECT_EQ(e.code(), ErrorCode::Timeout) << e.what();
  EXPECT_NE(std::string(e.message()).find("time_budget_ms"), std::string::npos) << e.message();
  // The reader goes on working, and a read transaction is bounded too.
  EXPECT_EQ(storage::asInt(db->sql().reader()->queryScalar(countTo(100))), 100);
  {
    auto tx = db->sql().begin({.readOnly = true});
    EXPECT_EQ(codeOf([&] { tx->queryScalar(countTo(10'000'000'000)); }), ErrorCode::Timeout);
  }
  // The writer and write transactions are not bounded by the read budget.
  EXPECT_EQ(storage::asInt(db->sql().writer()->queryScalar(countTo(300'000))), 300'000);
  {
    auto tx = db->sql().begin();
    EXPECT_EQ(storage::asInt(tx->queryScalar(countTo(300'000))), 300'000);
    tx->commit();
  }
  db->setReadBudget({});
  EXPECT_EQ(storage::asInt(db->sql().reader()->queryScalar(countTo(300'000))), 300'000);
}

TEST_P(BudgetContract, TheTimeBudgetBoundsTheStoresReadsToo) {
  if (engineHasNoTimer()) GTEST_SKIP() << "PGlite never fires statement_timeout (no timer in WASM)";
  // A store's read runs on a reader with the same budget: a text search over many documents
  // with a budget of 1 ms cannot finish, and stops with the budget's error.
  std::vector<storage::TextDocument> docs;
  for (int i = 0; i < 3000; ++i) {
    storage::TextDocument d;
    d.subjectId = Uuid::v7();
    d.ns = "ns1";
    d.kind = "concept";
    d.title = "doc " + std::to_string(i);
    d.body = "common words repeated in every document of the corpus number " + std::to_string(i);
    docs.push_back(std::move(d));
  }
  db->text().upsertDocuments(docs);
  storage::TextQuery q;
  q.text = "common words";
  q.namespaces = {"ns1"};
  q.topK = 5;
  ASSERT_EQ(db->text().searchText(q).size(), 5u);
  db->setReadBudget({.time = 1ms, .work = 0});
  // Leave no doubt the statement outlives 1 ms: the search is run until one trips (a
  // lucky fast run is possible on a warm cache, so allow a few tries).
  bool stopped = false;
  for (int i = 0; i < 20 && !stopped; ++i) {
    try {
      db->text().searchText(q);
    } catch (const Error& e) {
      ASSERT_EQ(e.code(), ErrorCode::Timeout) << e.what();
      stopped = true;
    }
  }
  EXPECT_TRUE(stopped);
}

TEST_P(BudgetContract, TheWorkBudgetStopsASqliteStatementAndPostgresIgnoresIt) {
  db->setReadBudget({.time = 0ms, .work = 50});  // 50,000 virtual-machine instructions
  EXPECT_EQ(db->readBudget().work, 50);
  if (db->info().engine != "sqlite") {
    // PostgreSQL has no work counter to bound: the budget is kept, statements run by time.
    EXPECT_EQ(storage::asInt(db->sql().reader()->queryScalar(countTo(100'000))), 100'000);
    return;
  }
  auto e = errorOf([&] { db->sql().reader()->queryScalar(countTo(10'000'000)); });
  EXPECT_EQ(e.code(), ErrorCode::InvalidInput) << e.what();
  EXPECT_NE(std::string(e.message()).find("work_budget"), std::string::npos) << e.message();
  EXPECT_EQ(storage::asInt(db->sql().reader()->queryScalar(countTo(100))), 100);
  EXPECT_EQ(storage::asInt(db->sql().writer()->queryScalar(countTo(100'000))), 100'000);
}

TEST_P(BudgetContract, RefreshStatisticsLeavesPlannerStatistics) {
  for (int i = 0; i < 200; ++i) entity("e" + std::to_string(i));
  db->refreshStatistics();
  if (db->info().engine != "postgres") return;  // SQLite keeps no statistics (walk plans)
  auto r = db->sql().reader();
  EXPECT_EQ(storage::asDouble(r->queryScalar("SELECT reltuples FROM pg_class WHERE oid = 'entities'::regclass")), 200.0);
  EXPECT_FALSE(storage::isNull(
      r->queryScalar("SELECT last_analyze FROM pg_stat_user_tables WHERE relid = 'entities'::regclass")));
}

KHIVE_INSTANTIATE_CONTRACT(BudgetContract);

}  // namespace
}  // namespace khive::testing
