// The PostgreSQL dialect executed on a real PostgreSQL server, independently of the
// PostgreSQL backend: the test creates its own minimal mirror of the SQLite schema (uuid ids,
// jsonb, int8 micros) in a fresh schema, copies the parity fixture into it, and runs every
// parity case through libpq with text parameters of unspecified type (so the statement's own
// casts must type them). Each result must equal the SQLite dialect's result on SQLite.
//
// Needs KHIVE_PG_URL (a libpq connection string of a database where it may create a schema);
// skipped with the reason otherwise.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

#include "fixture_graph.h"
#include "khive/backends/sqlite.h"
#include "khive/query/compiler.h"
#include "khive/query/errors.h"
#include "khive/query/postgres_dialect.h"
#include "khive/query/sqlite_dialect.h"
#include "parity_files.h"
#include "support/test_backends.h"
#include "query_runner.h"

namespace khive::query {
namespace {

struct PgConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct PgResultCloser {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgConn = std::unique_ptr<PGconn, PgConnCloser>;
using PgResult = std::unique_ptr<PGresult, PgResultCloser>;

constexpr const char* kSchema = R"sql(
CREATE TABLE entities (
  id uuid PRIMARY KEY, namespace text NOT NULL, kind text NOT NULL, entity_type text, name text NOT NULL,
  description text, properties jsonb NOT NULL DEFAULT '{}', tags jsonb NOT NULL DEFAULT '[]',
  created_at int8 NOT NULL, updated_at int8 NOT NULL, deleted_at int8, merged_into uuid, merge_event_id uuid,
  name_folded text COLLATE "C" GENERATED ALWAYS AS (lower(name COLLATE "C")) STORED);
CREATE TABLE notes (
  id uuid PRIMARY KEY, namespace text NOT NULL, kind text NOT NULL, status text NOT NULL, name text,
  content text NOT NULL, salience float8, decay_factor float8, expires_at int8,
  properties jsonb NOT NULL DEFAULT '{}', created_at int8 NOT NULL, updated_at int8 NOT NULL, deleted_at int8,
  name_folded text COLLATE "C" GENERATED ALWAYS AS (lower(name COLLATE "C")) STORED);
CREATE TABLE edges (
  id uuid PRIMARY KEY, namespace text NOT NULL, source_id uuid NOT NULL, target_id uuid NOT NULL,
  relation text NOT NULL, weight float8 NOT NULL, metadata jsonb NOT NULL DEFAULT '{}',
  created_at int8 NOT NULL, updated_at int8 NOT NULL, deleted_at int8, endpoint_deleted int4 NOT NULL DEFAULT 0);
CREATE INDEX edges_out ON edges (source_id, relation, target_id) WHERE deleted_at IS NULL AND endpoint_deleted = 0;
CREATE INDEX edges_in ON edges (target_id, relation, source_id) WHERE deleted_at IS NULL AND endpoint_deleted = 0;
CREATE TABLE events (
  id uuid PRIMARY KEY, namespace text NOT NULL, verb text NOT NULL, substrate text NOT NULL, actor text NOT NULL,
  kind text NOT NULL, outcome text NOT NULL, payload jsonb NOT NULL DEFAULT '{}', duration_us int8 NOT NULL,
  target_id uuid, session_id text, created_at int8 NOT NULL);
)sql";

class PostgresDialectExec : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* url = std::getenv("KHIVE_PG_URL");
    if (!url || !*url) {
      if (testing::servicesRequired()) FAIL() << "KHIVE_PG_URL not set but KHIVE_REQUIRE_SERVICES is";
      GTEST_SKIP() << "KHIVE_PG_URL not set: no PostgreSQL server to run the dialect on";
    }
    conn_.reset(PQconnectdb(url));
    ASSERT_EQ(PQstatus(conn_.get()), CONNECTION_OK) << PQerrorMessage(conn_.get());
    schema_ = fmt::format("khive_qdialect_{}", ::getpid());
    exec(fmt::format("DROP SCHEMA IF EXISTS {0} CASCADE; CREATE SCHEMA {0}; SET search_path TO {0}", schema_));
    exec(kSchema);
    backends::SqliteOptions so;
    so.path = ":memory:";
    sqlite_ = backends::openSqlite(so);
    testing::loadFixtureGraph(*sqlite_);
    for (auto table : {"entities", "notes", "edges", "events"}) copyTable(table);
  }

  void TearDown() override {
    if (conn_) exec(fmt::format("DROP SCHEMA IF EXISTS {} CASCADE", schema_));
  }

  void exec(const std::string& sql) {
    PgResult r(PQexec(conn_.get(), sql.c_str()));
    ASSERT_TRUE(PQresultStatus(r.get()) == PGRES_COMMAND_OK || PQresultStatus(r.get()) == PGRES_TUPLES_OK)
        << PQerrorMessage(conn_.get()) << sql;
  }

  // Copies one table from SQLite, every value as text (NULL stays NULL).
  void copyTable(const std::string& table) {
    auto rows = sqlite_->sql().reader()->query("SELECT * FROM " + table);
    std::string cols, ph;
    for (std::size_t i = 0; i < rows.columns.size(); ++i) {
      cols += (i ? ", " : "") + rows.columns[i];
      ph += fmt::format("{}${}", i ? ", " : "", i + 1);
    }
    std::string sql = fmt::format("INSERT INTO {} ({}) VALUES ({})", table, cols, ph);
    for (auto& row : rows.rows) {
      std::vector<std::string> text(row.size());
      std::vector<const char*> values(row.size());
      for (std::size_t i = 0; i < row.size(); ++i) {
        if (storage::isNull(row[i])) continue;
        text[i] = storage::displayValue(row[i]);
        values[i] = text[i].c_str();
      }
      PgResult r(PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                              nullptr, nullptr, 0));
      ASSERT_EQ(PQresultStatus(r.get()), PGRES_COMMAND_OK) << PQerrorMessage(conn_.get());
    }
  }

  // Runs a PostgresDialect statement with text parameters of unspecified type.
  std::vector<std::string> runPg(const CompiledQuery& q, bool* truncated) {
    std::vector<std::string> text(q.params.size());
    std::vector<const char*> values(q.params.size());
    for (std::size_t i = 0; i < q.params.size(); ++i) {
      const auto& p = q.params[i];
      if (storage::isNull(p)) continue;
      if (auto b = std::get_if<bool>(&p)) text[i] = *b ? "true" : "false";
      else if (auto d = std::get_if<double>(&p)) text[i] = fmt::format("{}", *d);
      else text[i] = storage::displayValue(p);
      values[i] = text[i].c_str();
    }
    PgResult r(PQexecParams(conn_.get(), q.sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                            nullptr, nullptr, 0));
    if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
      ADD_FAILURE() << PQerrorMessage(conn_.get()) << "\nSQL: " << q.sql;
      return {};
    }
    std::vector<storage::SqlRow> rows;
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      storage::SqlRow row;
      for (int j = 0; j < PQnfields(r.get()); ++j) {
        if (PQgetisnull(r.get(), i, j)) row.emplace_back(std::monostate{});
        else row.emplace_back(std::string(PQgetvalue(r.get(), i, j)));
      }
      rows.push_back(std::move(row));
    }
    *truncated = applyRowCap(q, rows);
    std::vector<std::string> out;
    for (auto& row : rows) out.push_back(testing::renderRow(row, q.columns));
    return out;
  }

  PgConn conn_;
  std::string schema_;
  std::unique_ptr<storage::Backend> sqlite_;
};

TEST_F(PostgresDialectExec, EveryParityCaseMatchesSqlite) {
  QueryCompiler lite(sqliteDialect()), pg(postgresDialect());
  int executed = 0;
  for (auto& file : testing::loadParityDir(KHIVE_PARITY_DIR)) {
    for (auto& c : file.cases) {
      SCOPED_TRACE(fmt::format("{}:{}\n{}", c.path, c.line, c.text));
      CompileOptions o;
      o.namespaces = c.namespaces;
      o.rowCap = c.cap;
      o.parameters = c.params;
      if (c.isError) {
        EXPECT_THROW(pg.compile(c.text, c.language, o), QueryError);
        continue;
      }
      CompiledQuery ql = lite.compile(c.text, c.language, o);
      CompiledQuery qp = pg.compile(c.text, c.language, o);
      auto run = testing::runCompiled(*sqlite_, ql);
      std::vector<std::string> expected;
      for (auto& row : run.rows) expected.push_back(testing::renderRow(row, ql.columns));
      bool truncated = false;
      std::vector<std::string> actual = runPg(qp, &truncated);
      EXPECT_EQ(truncated, run.truncated);
      if (c.countOnly) {
        EXPECT_EQ(actual.size(), expected.size());
        continue;
      }
      if (!c.ordered) {
        std::sort(actual.begin(), actual.end());
        std::sort(expected.begin(), expected.end());
      }
      EXPECT_EQ(actual, expected) << "SQL: " << qp.sql;
      ++executed;
    }
  }
  EXPECT_GT(executed, 150);
}

// The case rule of docs/query.md on a server whose own lower() folds Unicode: 'É' never matches 'é'.
TEST_F(PostgresDialectExec, CaseFoldingIsAsciiOnly) {
  PgResult r(PQexec(conn_.get(), "SELECT lower('\xC3\x89'), lower('\xC3\x89' COLLATE \"C\")"));
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK);
  QueryCompiler pg(postgresDialect());
  CompileOptions o{{"main"}};
  bool truncated = false;
  auto rows = runPg(pg.compile("MATCH (a:concept) WHERE a.name = '\xC3\x89LAN' RETURN a.name", o), &truncated);
  EXPECT_EQ(rows, std::vector<std::string>{"\xC3\x89lan"});
  rows = runPg(pg.compile("MATCH (a:concept) WHERE a.name CONTAINS '\xC3\xA9' RETURN a.name", o), &truncated);
  EXPECT_EQ(rows, std::vector<std::string>{"\xC3\xA9lan"});
}

}  // namespace
}  // namespace khive::query
