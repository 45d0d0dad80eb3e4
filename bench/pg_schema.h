// khive's PostgreSQL backend for one benchmark run: a schema of its own on the server given by
// --pg URL or $KHIVE_PG_URL, dropped when the run ends (kept when $KHIVE_BENCH_KEEP is set, to
// look at the plans afterwards). With $KHIVE_BENCH_SCHEMA set, a kept schema of that name is
// used again as it is (loaded by an earlier run; never dropped). The URL is the superuser's: it migrates the schema; the
// backend's pooled connections log in as the application role, so row-level security applies.
#pragma once

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "khive/backends/postgres.h"
#include "pg_admin.h"

namespace khive::bench {

class PgSchema {
 public:
  // `prefix` names the schema (prefix_pid), so concurrent runs never share one.
  PgSchema(std::string url, std::string_view prefix)
      : url_(std::move(url)), name_(fmt::format("{}_{}", prefix, ::getpid())) {
    if (const char* reuse = std::getenv("KHIVE_BENCH_SCHEMA"); reuse && *reuse) {
      name_ = reuse;
      reused_ = true;
    }
  }
  PgSchema(const PgSchema&) = delete;
  PgSchema& operator=(const PgSchema&) = delete;
  ~PgSchema() {
    if (reused_) return;
    if (std::getenv("KHIVE_BENCH_KEEP")) {
      std::fprintf(stderr, "PostgreSQL: kept schema %s\n", name_.c_str());
      return;
    }
    try {
      // RESET ROLE: on PGlite every client shares one session, which the backend switched to
      // the application role.
      pgAdmin(url_, fmt::format("RESET ROLE; DROP SCHEMA IF EXISTS {} CASCADE", name_));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "could not drop schema %s: %s\n", name_.c_str(), e.what());
    }
  }

  // Opens (and on first use migrates) khive's backend on the schema, granted `namespaces`.
  std::unique_ptr<storage::Backend> open(std::vector<std::string> namespaces = {"bench"}) const {
    backends::PostgresOptions o;
    o.url = url_;
    o.adminUrl = url_;
    o.user = "khive_app";
    o.schema = name_;
    o.namespaces = std::move(namespaces);
    return backends::openPostgres(o);
  }
  // Fresh planner statistics for the tables, over the superuser's connection.
  void analyze(const std::vector<std::string>& tables) const {
    std::string sql;
    for (const auto& t : tables) sql += fmt::format("ANALYZE {}.{};", name_, t);
    pgAdmin(url_, sql);
  }
  // VACUUM ANALYZE of the tables: statistics, and the visibility map that lets index-only scans
  // skip the heap (the settled state autovacuum leaves some time after a load).
  void vacuumAnalyze(const std::vector<std::string>& tables) const {
    std::string sql;
    for (const auto& t : tables) sql += fmt::format("VACUUM ANALYZE {}.{};", name_, t);
    pgAdmin(url_, sql);
  }
  // Whether the server can run the vector migration (pgvector available).
  bool hasPgvector() const {
    return pgAdmin(url_, "SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'") != "0";
  }
  const std::string& name() const noexcept { return name_; }
  const std::string& url() const noexcept { return url_; }
  // Whether this is a kept schema used again ($KHIVE_BENCH_SCHEMA): its rows are already loaded.
  bool reused() const noexcept { return reused_; }

 private:
  std::string url_;
  std::string name_;
  bool reused_ = false;
};

// The PostgreSQL URL a benchmark runs against: $KHIVE_PG_URL unless the arguments say
// otherwise (--pg URL, --no-pg). Removes those arguments from argv, so the rest can go to
// another parser.
inline std::string pgUrlFromArgs(int& argc, char** argv) {
  const char* env = std::getenv("KHIVE_PG_URL");
  std::string url = env ? env : "";
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--no-pg") {
      url.clear();
    } else if (a == "--pg" && i + 1 < argc) {
      url = argv[++i];
    } else {
      argv[out++] = argv[i];
    }
  }
  argc = out;
  return url;
}

}  // namespace khive::bench
