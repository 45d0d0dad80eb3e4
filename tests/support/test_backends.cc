#include "support/test_backends.h"

#include <atomic>
#include <filesystem>
#include <fmt/format.h>
#include <unistd.h>

#include "khive/backends/sqlite.h"
#ifdef KHIVE_HAVE_POSTGRES
#include <cstdlib>

#include "khive/backends/postgres.h"
#endif

namespace khive::testing {

namespace {
std::string freshSqlitePath() {
  static std::atomic<int> counter{0};
  auto dir = std::filesystem::temp_directory_path() / fmt::format("khive-test-{}", ::getpid());
  std::filesystem::create_directories(dir);
  return (dir / fmt::format("db-{}.sqlite", counter.fetch_add(1))).string();
}

#ifdef KHIVE_HAVE_POSTGRES
// A PostgreSQL case: each make() migrates a fresh schema through the superuser URL the test
// services export, then connects as the non-superuser application role (by login on native
// PostgreSQL; PGlite logs everyone in as its superuser, and the backend switches with SET ROLE).
BackendCase postgresCase(const char* name, const char* env, bool hasVectors) {
  const char* url = std::getenv(env);
  BackendCase c;
  c.name = name;
  c.hasVectors = hasVectors;
  // PGlite serves its clients one at a time from a single session: a reader waits until
  // another connection's open transaction ends.
  c.readersRunDuringWrites = std::string_view(name) != "pglite";
  if (!url || !*url) {
    c.skipReason = fmt::format("{} not set: run through scripts/test.sh which starts PostgreSQL", env);
    c.make = [] { return std::unique_ptr<storage::Backend>(); };
    return c;
  }
  std::string admin = url;
  c.make = [admin, name] {
    static std::atomic<int> counter{0};
    backends::PostgresOptions o;
    o.url = admin;
    o.adminUrl = admin;
    o.user = "khive_app";
    o.schema = fmt::format("t_{}_{}_{}", name, ::getpid(), counter.fetch_add(1));
    // PGlite serves one client at a time; a small pool keeps it from queueing forever.
    o.poolSize = std::string_view(name) == "pglite" ? 3 : 8;
    return backends::openPostgres(o);
  };
  return c;
}
#endif
}  // namespace

const std::vector<BackendCase>& backendCases() {
  static const std::vector<BackendCase> cases = [] {
    std::vector<BackendCase> out;
    out.push_back({"sqlite_file",
                   [] {
                     backends::SqliteOptions o;
                     o.path = freshSqlitePath();
                     return backends::openSqlite(o);
                   },
                   "", true, true});
    out.push_back({"sqlite_memory",
                   [] {
                     backends::SqliteOptions o;
                     o.path = ":memory:";
                     return backends::openSqlite(o);
                   },
                   "", false, true});
#ifdef KHIVE_HAVE_POSTGRES
    out.push_back(postgresCase("postgres15", "KHIVE_PG_URL", false));
    out.push_back(postgresCase("pglite", "KHIVE_PGLITE_URL", true));
#endif
    return out;
  }();
  return cases;
}

}  // namespace khive::testing
