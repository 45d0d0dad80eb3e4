#include "support/test_backends.h"

#include <atomic>
#include <cstdlib>
#include <string_view>
#include <filesystem>
#include <fmt/format.h>
#include <unistd.h>

#include "khive/backends/sqlite.h"
#ifdef KHIVE_HAVE_POSTGRES
#include <fcntl.h>
#include <sys/file.h>

#include <cerrno>
#include <cstdlib>
#include <mutex>
#include <stdexcept>

#include "khive/backends/postgres.h"
#endif

namespace khive::testing {

namespace {
std::string freshSqlitePath() {
  static std::atomic<int> counter{0};
  auto dir = std::filesystem::temp_directory_path() / fmt::format("khive-test-{}", ::getpid());
  // A folder left by an earlier process with the same (recycled) pid holds databases with
  // other tests' rows: start from an empty one. No live process shares this pid.
  static std::once_flag fresh;
  std::call_once(fresh, [&] { std::filesystem::remove_all(dir); });
  std::filesystem::create_directories(dir);
  return (dir / fmt::format("db-{}.sqlite", counter.fetch_add(1))).string();
}

#ifdef KHIVE_HAVE_POSTGRES
// PGlite runs all its clients in one session, and its socket server interleaves their
// protocol messages: two test processes talking to it at once (ctest -j) would run inside
// each other's transactions and change each other's search_path. The first PGlite backend a
// process makes takes an exclusive lock on a file named after the server, held until the
// process exits, so PGlite tests run one process at a time while the others run in parallel.
void holdPgliteLock(const std::string& url) {
  static std::once_flag once;
  std::call_once(once, [&] {
    auto path = std::filesystem::temp_directory_path() /
                fmt::format("khive-pglite-{:x}.lock", std::hash<std::string>{}(url));
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) throw std::runtime_error("cannot open " + path.string());
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno != EINTR) throw std::runtime_error("cannot lock " + path.string());
    }
    // fd stays open (and locked) for the life of the process.
  });
}

// A PostgreSQL case: each make() migrates a fresh schema through the superuser URL the test
// services export, then connects as the non-superuser application role (by login on native
// PostgreSQL; PGlite logs everyone in as its superuser, and the backend switches with SET ROLE).
BackendCase postgresCase(const char* name, const char* env, bool hasVectors) {
  const char* url = std::getenv(env);
  BackendCase c;
  c.name = name;
  c.hasVectors = hasVectors;
  // PGlite serves its clients from a single session, one transaction at a time: the backend
  // keeps one connection there, so a reader waits until the open transaction ends.
  c.readersRunDuringWrites = std::string_view(name) != "pglite";
  if (!url || !*url) {
    c.skipReason = fmt::format("{} not set: run through scripts/test.sh which starts PostgreSQL", env);
    c.make = [] { return std::unique_ptr<storage::Backend>(); };
    return c;
  }
  std::string admin = url;
  auto open = [admin, name](const std::string& schema, const std::vector<std::string>& namespaces, bool groupWrites) {
    if (std::string_view(name) == "pglite") holdPgliteLock(admin);
    backends::PostgresOptions o;
    o.url = admin;
    o.adminUrl = admin;
    o.user = "khive_app";
    o.schema = schema;
    o.namespaces = namespaces;
    // On PGlite the backend caps this at 1 by itself (Database::sharedSession()).
    o.poolSize = 8;
    o.groupWrites = groupWrites;
    return backends::openPostgres(o);
  };
  c.openScoped = [open](const std::string& schema, const std::vector<std::string>& namespaces) {
    return open(schema, namespaces, true);
  };
  auto freshSchema = [name] {
    static std::atomic<int> counter{0};
    return fmt::format("t_{}_{}_{}", name, ::getpid(), counter.fetch_add(1));
  };
  c.make = [open, freshSchema] { return open(freshSchema(), {"*"}, true); };
  c.makeWithGroupWrites = [open, freshSchema](bool groupWrites) { return open(freshSchema(), {"*"}, groupWrites); };
  return c;
}
#endif
}  // namespace

Entity conceptEntity(const std::string& ns, const std::string& name) {
  Entity e;
  e.id = Uuid::v7();
  e.ns = ns;
  e.kind = "concept";
  e.name = name;
  return e;
}

bool servicesRequired() {
  const char* v = std::getenv("KHIVE_REQUIRE_SERVICES");
  return v && *v && std::string_view(v) != "0";
}

std::vector<BackendCase> postgresCases() {
  std::vector<BackendCase> out;
  for (const auto& c : backendCases()) {
    if (c.name == "postgres15" || c.name == "pglite") out.push_back(c);
  }
  return out;
}

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
