// Conn::execTransaction's implicit form (pg_conn.h) on PostgreSQL 15 and PGlite: the statements
// before the pipeline's sync share one transaction without BEGIN and COMMIT, so a
// set_config(..., true) reaches the next statement, bounds it (statement_timeout), and is gone
// once the sync has committed. The PostgreSQL walk (graph_store.cc) relies on exactly this.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "backends/postgres/pg_conn.h"
#include "khive/core/error.h"
#include "support/test_backends.h"

namespace khive::postgres {
namespace {

class PgPipeline : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    const char* url = std::getenv(GetParam());
    if (!url || !*url) {
      if (khive::testing::servicesRequired()) FAIL() << GetParam() << " is required (KHIVE_REQUIRE_SERVICES) but unset";
      GTEST_SKIP() << GetParam() << " is not set";
    }
    conn = Conn::connect(url, "test");
    session = conn->exec("SELECT current_setting('statement_timeout')", Params(), "test", "setup").str(0, 0);
  }
  std::unique_ptr<Conn> conn;
  std::string session;  // the connection's own statement_timeout
};

TEST_P(PgPipeline, ImplicitTransactionCarriesALocalSettingToTheNextStatementOnly) {
  const Params timeout = Params().text("4321");
  const Params none;
  const Statement statements[] = {{"SELECT set_config('statement_timeout', $1, true), now()::text", &timeout},
                                  {"SELECT current_setting('statement_timeout'), now()::text", &none}};
  auto results = conn->execTransaction(statements, "test", "pipeline", true);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[1].str(0, 0), "4321ms") << "the local setting reaches the statement after it";
  EXPECT_EQ(results[0].str(0, 1), results[1].str(0, 1)) << "one transaction: one start time";
  EXPECT_EQ(conn->txStatus(), PQTRANS_IDLE);
  EXPECT_EQ(conn->exec("SELECT current_setting('statement_timeout')", Params(), "test", "after").str(0, 0), session)
      << "the sync committed the implicit transaction, and the local setting ended with it";
}

TEST_P(PgPipeline, ImplicitTransactionTimeoutCancelsTheStatementAndLeavesTheConnectionIdle) {
  // As in budget_test.cc: PostgreSQL compiled to WASM has no timer to fire the timeout.
  if (std::string(GetParam()) == "KHIVE_PGLITE_URL") GTEST_SKIP() << "PGlite never fires statement_timeout (no timer in WASM)";
  const Params timeout = Params().text("50");
  const Params none;
  const Statement statements[] = {{"SELECT set_config('statement_timeout', $1, true)", &timeout},
                                  {"SELECT pg_sleep(5)", &none}};
  try {
    conn->execTransaction(statements, "test", "pipeline", true);
    ADD_FAILURE() << "the sleep outlived its statement_timeout";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::Timeout) << e.what();
  }
  EXPECT_EQ(conn->txStatus(), PQTRANS_IDLE);
  EXPECT_EQ(conn->exec("SELECT current_setting('statement_timeout')", Params(), "test", "after").str(0, 0), session);
}

INSTANTIATE_TEST_SUITE_P(Postgres, PgPipeline, ::testing::Values("KHIVE_PG_URL", "KHIVE_PGLITE_URL"),
                         [](const auto& info) {
                           return std::string(info.param) == "KHIVE_PG_URL" ? "postgres15" : "pglite";
                         });

}  // namespace
}  // namespace khive::postgres
