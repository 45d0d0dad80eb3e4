#include "support/test_backends.h"

#include <atomic>
#include <filesystem>
#include <fmt/format.h>
#include <unistd.h>

#include "khive/backends/sqlite.h"

namespace khive::testing {

namespace {
std::string freshSqlitePath() {
  static std::atomic<int> counter{0};
  auto dir = std::filesystem::temp_directory_path() / fmt::format("khive-test-{}", ::getpid());
  std::filesystem::create_directories(dir);
  return (dir / fmt::format("db-{}.sqlite", counter.fetch_add(1))).string();
}
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
    return out;
  }();
  return cases;
}

}  // namespace khive::testing
