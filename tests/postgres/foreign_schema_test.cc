// A schema that holds another program's tables and no khive ledger is refused when khive opens
// it, and nothing is created in it (on PostgreSQL 15 and PGlite).
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <memory>

#include "khive/backends/postgres.h"
#include "khive/core/error.h"
#include "support/test_backends.h"

namespace khive {
namespace {

class PgForeignSchema : public ::testing::TestWithParam<testing::BackendCase> {};

TEST_P(PgForeignSchema, IsRefusedAndUntouched) {
  KHIVE_SKIP_UNAVAILABLE_BACKEND(GetParam());
  GetParam().make();  // a khive schema of its own first: on PGlite this takes the test lock
  const char* url = std::getenv(GetParam().name == "pglite" ? "KHIVE_PGLITE_URL" : "KHIVE_PG_URL");
  ASSERT_TRUE(url);
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(url), &PQfinish);
  ASSERT_EQ(PQstatus(conn.get()), CONNECTION_OK) << PQerrorMessage(conn.get());
  auto run = [&](const std::string& sql) {
    std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(conn.get(), sql.c_str()), &PQclear);
    const auto st = PQresultStatus(r.get());
    EXPECT_TRUE(st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) << sql << ": " << PQerrorMessage(conn.get());
    std::string out;
    if (st == PGRES_TUPLES_OK)
      for (int i = 0; i < PQntuples(r.get()); ++i) out += std::string(i ? "," : "") + PQgetvalue(r.get(), i, 0);
    return out;
  };
  run("RESET ROLE");  // PGlite shares one session: make() left the application role set in it
  const std::string schema = "shop_" + std::to_string(::getpid());
  run("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
  run("CREATE SCHEMA " + schema);
  run("CREATE TABLE " + schema + ".users (id int PRIMARY KEY, name text)");
  run("CREATE TABLE " + schema + ".orders (id int)");
  const std::string listing =
      "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '" + schema +
      "' ORDER BY 1";
  const std::string before = run(listing);

  backends::PostgresOptions o;
  o.url = url;
  o.adminUrl = url;
  o.user = "khive_app";
  o.schema = schema;
  o.namespaces = {"*"};
  o.poolSize = 1;
  try {
    backends::openPostgres(o);
    ADD_FAILURE() << "opened another program's schema";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::InvalidInput);
    EXPECT_NE(e.message().find("schema " + schema + " is not a khive schema: it has tables orders, users"),
              std::string::npos)
        << e.message();
  }
  EXPECT_EQ(run(listing), before) << "khive created something in the schema";
  run("RESET ROLE");
  run("DROP SCHEMA " + schema + " CASCADE");
}

INSTANTIATE_TEST_SUITE_P(Postgres, PgForeignSchema, ::testing::ValuesIn(testing::postgresCases()),
                         testing::BackendCaseName{});

}  // namespace
}  // namespace khive
