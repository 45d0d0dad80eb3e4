// Side-by-side write benchmark: khive on SQLite (file, WAL) vs khive on PostgreSQL, in one run.
//
//   pg_bench [--pg URL] [--ops N] [--reps R] [--csv bench/results/pg_bench.csv]
//
// URL defaults to $KHIVE_PG_URL (scripts/services.sh start; source build/services.env); it is
// the superuser URL, used to migrate a fresh schema; the backend then logs in as khive_app.
//
// Measures, per backend, median of R repetitions:
//   1. write throughput (entity upserts, one statement each) with 1, 2, 4 and 8 writer threads;
//   2. "bulk import": one writer holds a write transaction open for 2 s (inserting rows all
//      along) while 4 other writers keep upserting; their per-write latency p50/p99/max over
//      that window. MVCC lets PostgreSQL's writers through; SQLite's single writer lock makes
//      them wait for the commit.
// Prints a table and ratios; writes a CSV. Asserts nothing (TESTING.md: benchmarks are not tests).

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "khive/backends/postgres.h"
#include "khive/backends/sqlite.h"
#include "khive/core/error.h"
#include "khive/storage/backend.h"

namespace {

using Clock = std::chrono::steady_clock;
using khive::Entity;
using khive::Uuid;
namespace storage = khive::storage;

struct Engine {
  std::string name;
  std::function<std::unique_ptr<storage::Backend>()> open;
};

Entity makeEntity(int t, int i) {
  Entity e;
  e.id = Uuid::v7();
  e.ns = "bench";
  e.kind = "concept";
  e.name = fmt::format("w{}-{}", t, i);
  e.description = "an entity written by the write benchmark";
  return e;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto idx = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(idx, v.size() - 1)];
}

// Writes/second with `threads` writers sharing `ops` upserts.
double throughput(storage::Backend& db, int threads, int ops) {
  std::vector<std::thread> ts;
  std::atomic<int> errors{0};
  const int each = ops / threads;
  auto start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < each; ++i) {
        try {
          db.entities().upsertEntity(makeEntity(t, i));
        } catch (const khive::Error& e) {
          if (errors.fetch_add(1) == 0) fmt::print(stderr, "write failed: {}\n", e.what());
        }
      }
    });
  }
  for (auto& th : ts) th.join();
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  return static_cast<double>(each * threads - errors.load()) / secs;
}

struct LongTxResult {
  double p50 = 0, p99 = 0, max = 0;
  int writes = 0;
};

// One writer holds a transaction for `hold` while 4 others upsert; their latencies (ms).
LongTxResult underLongTransaction(storage::Backend& db, std::chrono::milliseconds hold) {
  std::atomic<bool> started{false}, done{false};
  std::thread importer([&] {
    auto tx = db.sql().begin({.timeout = std::chrono::milliseconds(30000)});
    const bool pg = db.info().engine == "postgres";
    const std::string sql = pg ? "INSERT INTO entities (id, namespace, kind, name, properties, tags, created_at, "
                                 "updated_at) VALUES ($1, 'import', 'concept', $2, '{}', '[]', 1, 1)"
                               : "INSERT INTO entities (id, namespace, kind, name, properties, tags, created_at, "
                                 "updated_at) VALUES (?, 'import', 'concept', ?, '{}', '[]', 1, 1)";
    tx->execute(sql, {Uuid::v7(), std::string("first")});
    started = true;
    auto end = Clock::now() + hold;
    int i = 0;
    while (Clock::now() < end) {
      tx->execute(sql, {Uuid::v7(), fmt::format("imported-{}", i++)});
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    tx->commit();
    done = true;
  });
  while (!started) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::vector<std::vector<double>> lat(4);
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      int i = 0;
      while (!done) {
        auto s = Clock::now();
        try {
          db.entities().upsertEntity(makeEntity(100 + t, i++));
        } catch (const khive::Error& e) {
          fmt::print(stderr, "writer during import: {}\n", e.what());
        }
        lat[static_cast<std::size_t>(t)].push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
      }
    });
  }
  importer.join();
  for (auto& w : writers) w.join();
  std::vector<double> all;
  for (auto& l : lat) all.insert(all.end(), l.begin(), l.end());
  return {percentile(all, 0.5), percentile(all, 0.99), all.empty() ? 0 : *std::max_element(all.begin(), all.end()),
          static_cast<int>(all.size())};
}

}  // namespace

int main(int argc, char** argv) {
  std::string pgUrl = std::getenv("KHIVE_PG_URL") ? std::getenv("KHIVE_PG_URL") : "";
  std::string csv = "bench/results/pg_bench.csv";
  int ops = 4000, reps = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--pg") pgUrl = argv[i + 1];
    else if (a == "--ops") ops = std::atoi(argv[i + 1]);
    else if (a == "--reps") reps = std::atoi(argv[i + 1]);
    else if (a == "--csv") csv = argv[i + 1];
  }
  auto dir = std::filesystem::temp_directory_path() / fmt::format("khive-pgbench-{}", ::getpid());
  std::filesystem::create_directories(dir);
  int counter = 0;
  std::vector<Engine> engines;
  engines.push_back({"sqlite", [&] {
                       khive::backends::SqliteOptions o;
                       o.path = (dir / fmt::format("b{}.db", counter++)).string();
                       return khive::backends::openSqlite(o);
                     }});
  if (!pgUrl.empty()) {
    engines.push_back({"postgres", [&] {
                         khive::backends::PostgresOptions o;
                         o.url = pgUrl;
                         o.adminUrl = pgUrl;
                         o.user = "khive_app";
                         o.schema = fmt::format("bench_{}_{}", ::getpid(), counter++);
                         o.poolSize = 10;
                         return khive::backends::openPostgres(o);
                       }});
  } else {
    fmt::print(stderr, "KHIVE_PG_URL not set: SQLite only\n");
  }

  fmt::print("khive write benchmark: {} upserts per throughput run, median of {} runs, {} cores\n", ops, reps,
             std::thread::hardware_concurrency());
  std::ofstream out(csv);
  out << "engine,metric,writers,value,unit\n";
  std::map<std::string, std::map<int, double>> tput;
  for (auto& eng : engines) {
    for (int writers : {1, 2, 4, 8}) {
      std::vector<double> runs;
      for (int r = 0; r < reps; ++r) {
        auto db = eng.open();
        throughput(*db, writers, ops / 10);  // warm-up: connections, prepared statements, caches
        runs.push_back(throughput(*db, writers, ops));
      }
      tput[eng.name][writers] = median(runs);
      out << fmt::format("{},write_throughput,{},{:.0f},writes/s\n", eng.name, writers, median(runs));
      fmt::print("{:>9} {} writer(s): {:8.0f} writes/s  ({:.2f}x its single writer)\n", eng.name, writers,
                 median(runs), median(runs) / tput[eng.name][1]);
    }
  }
  for (auto& eng : engines) {
    std::vector<double> p50, p99, mx, n;
    for (int r = 0; r < reps; ++r) {
      auto db = eng.open();
      throughput(*db, 4, 200);
      auto res = underLongTransaction(*db, std::chrono::milliseconds(2000));
      p50.push_back(res.p50);
      p99.push_back(res.p99);
      mx.push_back(res.max);
      n.push_back(res.writes);
    }
    out << fmt::format("{},longtx_writer_p50,4,{:.2f},ms\n", eng.name, median(p50));
    out << fmt::format("{},longtx_writer_p99,4,{:.2f},ms\n", eng.name, median(p99));
    out << fmt::format("{},longtx_writer_max,4,{:.2f},ms\n", eng.name, median(mx));
    out << fmt::format("{},longtx_writes,4,{:.0f},writes\n", eng.name, median(n));
    fmt::print("{:>9} while one writer holds a 2 s transaction: other writers p50 {:.2f} ms, p99 {:.2f} ms, max "
               "{:.2f} ms ({:.0f} writes)\n",
               eng.name, median(p50), median(p99), median(mx), median(n));
  }
  if (tput.contains("postgres")) {
    fmt::print("ratios: postgres 8 writers / 1 writer = {:.2f}x; sqlite 8/1 = {:.2f}x; postgres/sqlite at 1 writer "
               "= {:.2f}, at 8 = {:.2f}\n",
               tput["postgres"][8] / tput["postgres"][1], tput["sqlite"][8] / tput["sqlite"][1],
               tput["postgres"][1] / tput["sqlite"][1], tput["postgres"][8] / tput["sqlite"][8]);
  }
  std::filesystem::remove_all(dir);
  fmt::print("wrote {}\n", csv);
  return 0;
}
