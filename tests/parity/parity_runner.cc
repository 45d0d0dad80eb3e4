// Pattern-parity runner: loads the fixture graph into every backend of backendCases() and runs
// every case of tests/parity/*.test on each, registering one gtest per (backend, case) so a
// single case can be filtered: --gtest_filter='Parity/sqlite_file.gql_paths_L42'.
//
// File format (sqllogictest style; '#' starts a comment line):
//
//   query gql|sparql [ordered|count] [truncated] [ns=main,other] [cap=N] [params={"x":"LoRA"}]
//   <query text, one or more lines>
//   ----
//   <expected rows, one per line, values joined by " | "; a blank line ends the case>
//
//   error gql|sparql <Parse|Validation|Compile|Unsupported|InvalidInput> [ns=...] [params=...]
//   <query text; a blank line ends the case>
//
// Rows compare as a multiset unless `ordered` (paged queries); with `count` the expected block
// is the number of rows (for truncated unpaged results, whose subset is unspecified). Values are rendered by
// renderValue(): NULL, numbers in shortest form, JSON compact with sorted keys, fixture ids as
// @Name (edges #NNN), also inside JSON (a path's nodes and edges). `truncated` asserts the row cap cut the result.
//
// KHIVE_PARITY_REWRITE=<dir> writes each file, with the rows actually returned by the first
// backend, into <dir> (to review a new case's rows before pasting them in; never blindly).

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "fixture_graph.h"
#include "khive/query/compiler.h"
#include "khive/query/dialect.h"
#include "khive/query/errors.h"
#include "khive/query/parse.h"
#include "parity_files.h"
#include "query_runner.h"
#include "support/test_backends.h"

namespace {

namespace query = khive::query;
namespace storage = khive::storage;
namespace kt = khive::testing;
using khive::Error;
using khive::Json;

using kt::ParityCase;
using kt::ParityFile;

std::vector<ParityFile>& files() {
  static std::vector<ParityFile> all;
  return all;
}

// Rows actually returned, per file path and case index (for KHIVE_PARITY_REWRITE).
std::map<std::string, std::map<std::size_t, std::vector<std::string>>>& recorded() {
  static std::map<std::string, std::map<std::size_t, std::vector<std::string>>> m;
  return m;
}

const query::SqlDialect& dialectFor(storage::Backend& b) { return query::queryDialect(b.dialect()); }

storage::Backend& fixtureBackend(const kt::BackendCase& bc) {
  static std::map<std::string, std::unique_ptr<storage::Backend>> loaded;
  auto& slot = loaded[bc.name];
  if (!slot) {
    slot = bc.make();
    kt::loadFixtureGraph(*slot);
  }
  return *slot;
}

class ParityTest : public ::testing::Test {
 public:
  ParityTest(const kt::BackendCase* backend, const ParityCase* c, std::size_t index, bool record)
      : backend_(backend), case_(c), index_(index), record_(record) {}

  void TestBody() override {
    KHIVE_SKIP_UNAVAILABLE_BACKEND(*backend_);
    const ParityCase& c = *case_;
    storage::Backend& backend = fixtureBackend(*backend_);
    query::QueryCompiler compiler(dialectFor(backend));
    query::CompileOptions options;
    options.namespaces = c.namespaces;
    options.rowCap = c.cap;
    options.parameters = c.params;
    SCOPED_TRACE(fmt::format("{}:{}\n{}", c.path, c.line, c.text));

    query::CompiledQuery compiled;
    try {
      compiled = compiler.compile(c.text, c.language, options);
    } catch (const Error& e) {
      auto cls = query::classifyQueryError(e);
      ASSERT_TRUE(cls.has_value()) << "not a query error: " << e.what();
      if (c.isError) {
        EXPECT_EQ(std::string(query::queryErrorClassName(*cls)), c.errorClass) << e.what();
        EXPECT_FALSE(e.message().empty());
        return;
      }
      FAIL() << "unexpected " << query::queryErrorClassName(*cls) << " error: " << e.what();
    }
    if (c.isError) FAIL() << "expected a " << c.errorClass << " error, but the query compiled:\n" << compiled.sql;

    kt::QueryRun run;
    try {
      run = kt::runCompiled(backend, compiled);
    } catch (const Error& e) {
      FAIL() << "execution failed: " << e.what() << "\nSQL: " << compiled.sql;
    }
    std::vector<std::string> actual;
    for (auto& row : run.rows) actual.push_back(kt::renderRow(row, compiled.columns));
    std::vector<std::string> expected = c.expected;
    if (c.countOnly) {
      actual = {std::to_string(actual.size())};
    } else if (!c.ordered) {
      std::sort(actual.begin(), actual.end());
      std::sort(expected.begin(), expected.end());
    }
    if (record_) recorded()[c.path][index_] = actual;
    auto joinLines = [](const std::vector<std::string>& v) {
      std::string out;
      for (auto& s : v) out += "  " + s + "\n";
      return out;
    };
    EXPECT_EQ(actual, expected) << "expected:\n" << joinLines(expected) << "actual:\n" << joinLines(actual)
                                << "SQL: " << compiled.sql;
    EXPECT_EQ(run.truncated, c.truncated) << "truncation flag";
  }

 private:
  const kt::BackendCase* backend_;
  const ParityCase* case_;
  std::size_t index_;
  bool record_;
};

// Loads the fixture into one backend as a case of its own, registered before that backend's
// query cases, so each case's reported time is its query's alone (a filter that leaves this one
// out loads the fixture in the first case instead).
class FixtureLoadTest : public ::testing::Test {
 public:
  explicit FixtureLoadTest(const kt::BackendCase* backend) : backend_(backend) {}
  void TestBody() override {
    KHIVE_SKIP_UNAVAILABLE_BACKEND(*backend_);
    ASSERT_NO_THROW(fixtureBackend(*backend_));
  }

 private:
  const kt::BackendCase* backend_;
};

void rewriteFiles(const std::string& dir) {
  std::filesystem::create_directories(dir);
  for (auto& f : files()) {
    std::vector<std::string> out;
    std::size_t next = 0;
    auto& rec = recorded()[f.path];
    for (std::size_t ci = 0; ci < f.cases.size(); ++ci) {
      const auto& c = f.cases[ci];
      if (c.isError) continue;
      while (next < c.expectedBegin) out.push_back(f.lines[next++]);
      if (rec.count(ci)) {
        for (auto& r : rec[ci]) out.push_back(r);
      } else {
        for (std::size_t k = c.expectedBegin; k < c.expectedEnd; ++k) out.push_back(f.lines[k]);
      }
      next = c.expectedEnd;
    }
    while (next < f.lines.size()) out.push_back(f.lines[next++]);
    std::ofstream o(std::filesystem::path(dir) / std::filesystem::path(f.path).filename());
    for (auto& l : out) o << l << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  std::vector<std::filesystem::path> paths;
  for (auto& entry : std::filesystem::directory_iterator(KHIVE_PARITY_DIR)) {
    if (entry.path().extension() == ".test") paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());
  for (auto& p : paths) files().push_back(kt::loadParityFile(p));
  const char* rewrite = std::getenv("KHIVE_PARITY_REWRITE");
  std::size_t total = 0;
  const auto& backends = kt::backendCases();
  for (std::size_t bi = 0; bi < backends.size(); ++bi) {
    const auto* backend = &backends[bi];
    ::testing::RegisterTest(("Parity/" + backend->name).c_str(), "fixture_load", nullptr, nullptr, __FILE__, __LINE__,
                            [=]() -> ::testing::Test* { return new FixtureLoadTest(backend); });
    for (auto& f : files()) {
      for (std::size_t ci = 0; ci < f.cases.size(); ++ci) {
        const ParityCase* c = &f.cases[ci];
        bool record = rewrite && bi == 0;
        ::testing::RegisterTest(("Parity/" + backend->name).c_str(), fmt::format("{}_L{}", c->file, c->line).c_str(),
                                nullptr, nullptr, c->path.c_str(), c->line,
                                [=]() -> ::testing::Test* { return new ParityTest(backend, c, ci, record); });
        if (bi == 0) ++total;
      }
    }
  }
  std::fprintf(stderr, "parity: %zu cases in %zu files, %zu backends\n", total, files().size(), backends.size());
  int rc = RUN_ALL_TESTS();
  if (rewrite) rewriteFiles(rewrite);
  return rc;
}
