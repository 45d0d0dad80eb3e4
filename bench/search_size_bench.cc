// Search cost against document size: one document of N words ('a a a ...', every word a
// match) among a few small ones, searched for `a` with snippets, for N = 10k, 40k, 160k words.
// Prints the median of five searches per size and the ratio to the previous size: a cost
// linear in the document's size shows ratios near 4 (each size is four times the last).
//
//   search_size_bench [--pg URL]   (PostgreSQL too when a URL or $KHIVE_PG_URL is given)

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "khive/backends/sqlite.h"
#include "khive/storage/backend.h"
#ifdef KHIVE_BENCH_POSTGRES
#include "khive/backends/postgres.h"
#include "pg_admin.h"
#endif

namespace {

using Clock = std::chrono::steady_clock;
using namespace khive;

double medianMs(const std::function<void()>& f) {
  std::vector<double> ms;
  for (int i = 0; i < 5; ++i) {
    auto t0 = Clock::now();
    f();
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[2];
}

void run(const std::string& engine, const std::function<std::unique_ptr<storage::Backend>()>& open) {
  double last = 0;
  for (int words : {10'000, 40'000, 160'000}) {
    auto db = open();
    std::vector<storage::TextDocument> docs;
    for (int i = 0; i < 20; ++i) {
      storage::TextDocument d;
      d.subjectId = Uuid::v7();
      d.ns = "bench";
      d.kind = "concept";
      d.title = fmt::format("small {}", i);
      d.body = "a small document about graphs";
      docs.push_back(std::move(d));
    }
    storage::TextDocument big;
    big.subjectId = Uuid::v7();
    big.ns = "bench";
    big.kind = "concept";
    big.title = "big";
    for (int i = 0; i < words; ++i) big.body += "a ";
    docs.push_back(std::move(big));
    db->text().upsertDocuments(docs);
    storage::TextQuery q;
    q.text = "a";
    q.namespaces = {"bench"};
    q.topK = 10;
    q.snippets = true;
    const double ms = medianMs([&] { db->text().searchText(q); });
    q.snippets = false;
    const double bare = medianMs([&] { db->text().searchText(q); });
    fmt::print("{:<9} {:>7} words  search 'a' with snippets {:>9.2f} ms{}  without {:>9.2f} ms\n", engine, words, ms,
               last > 0 ? fmt::format(" (x{:.1f})", ms / last) : "        ", bare);
    last = ms;
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string pgUrl = std::getenv("KHIVE_PG_URL") ? std::getenv("KHIVE_PG_URL") : "";
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--pg") pgUrl = argv[i + 1];
  run("sqlite", [] {
    backends::SqliteOptions o;
    o.path = ":memory:";
    return backends::openSqlite(o);
  });
#ifdef KHIVE_BENCH_POSTGRES
  if (!pgUrl.empty()) {
    int n = 0;
    run("postgres", [&] {
      const std::string schema = fmt::format("search_size_bench_{}", n++);
      bench::pgAdmin(pgUrl, fmt::format("DROP SCHEMA IF EXISTS {} CASCADE", schema));
      backends::PostgresOptions o;
      o.url = pgUrl;
      o.schema = schema;
      o.user = "khive_app";
      o.namespaces = {"*"};
      return backends::openPostgres(o);
    });
  }
#endif
  return 0;
}
