// Foundation benchmark: khive's SQLite backend against hand-written SQL on the same file
// (the peer), over a seeded synthetic graph on a file database, and -- with --pg URL or
// $KHIVE_PG_URL -- khive's PostgreSQL backend on the same graph (in a schema of its own,
// dropped afterwards), beside its own hand-written libpq peer on that schema (pg_peer.h).
// Prints medians and ratios side by side and writes
// bench/results/graph_bench.csv.
//
//   graph_bench [--entities N] [--edges M] [--out DIR] [--load-only] [--pg URL | --no-pg]
//               [--db PATH [--reuse]] [--writer-cache-mib N] [--reader-map-mib N] [--peer-map-mib N]
//               (defaults: 100000, 500000; PostgreSQL when $KHIVE_PG_URL is set)
//
// --db keeps the SQLite file at PATH instead of a temporary one; with --reuse a file that
// already holds this graph (the same entity and edge counts) is read without loading it again
// (its load rates print as "-"), so a large graph is loaded once and its reads run many times.
// A file with other counts is an error, never overwritten. --writer-cache-mib sets the
// writer's page cache (SqliteOptions::writerCacheMiB) for the load, --reader-map-mib the
// readers' map of the file (SqliteOptions::readerMapMiB). The peer runs with SQLite's defaults
// (no map, 2 MiB page cache) unless --peer-map-mib gives it a map too.
//
// Statistics are present (ANALYZE runs after the load; VACUUM ANALYZE on PostgreSQL, so index-only
// scans find the visibility map set, as autovacuum leaves it) for every read measurement. On SQLite
// the reads also start from a checkpointed WAL: they measure the settled file, not the few
// seconds after a bulk load while the background checkpoint still copies it (readers then
// fetch those pages from the WAL; see the fifth-session notes in bench/results).

#include <fmt/format.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "khive/backends/sqlite.h"
#include "synthetic_graph.h"
#ifdef KHIVE_BENCH_POSTGRES
#include "pg_peer.h"
#include "pg_schema.h"
#endif

using namespace khive;
using Steady = std::chrono::steady_clock;

namespace {

double micros(Steady::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

template <class F>
std::vector<double> sample(int n, F&& f) {
  std::vector<double> out;
  out.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    auto t0 = Steady::now();
    f(i);
    out.push_back(micros(Steady::now() - t0));
  }
  return out;
}

// The peer: the same questions in hand-written SQL on a raw sqlite3 handle.
class RawPeer {
 public:
  // mapMiB > 0 maps that much of the file (PRAGMA mmap_size); else SQLite's default (no map).
  RawPeer(const std::string& path, int mapMiB) {
    sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr);
    if (mapMiB > 0)
      sqlite3_exec(db_, fmt::format("PRAGMA mmap_size={}", std::int64_t{mapMiB} << 20).c_str(), nullptr, nullptr,
                   nullptr);
    prepare(get_, "SELECT id, namespace, kind, entity_type, name, description, properties, tags, created_at, "
                  "updated_at, deleted_at, merged_into, merge_event_id FROM entities WHERE id = ? AND deleted_at IS NULL");
    prepare(neighbors_, "SELECT target_id, id, relation, weight FROM edges WHERE source_id = ? AND namespace = 'bench' "
                        "AND deleted_at IS NULL AND endpoint_deleted = 0 ORDER BY weight DESC LIMIT 100");
    // The fastest hand-written form found (a plain join gets a per-row Bloom filter once
    // ANALYZE has run; see graph_store.cc).
    prepare(walk_, "WITH RECURSIVE walk(node, depth) AS (SELECT ?, 0 UNION SELECT j.value, w.depth + 1 "
                   "FROM walk AS w, json_each(CASE WHEN w.depth < 3 THEN (SELECT json_group_array(e.target_id) "
                   "FROM edges AS e WHERE e.source_id = w.node AND e.namespace = 'bench' AND e.deleted_at IS NULL "
                   "AND e.endpoint_deleted = 0) ELSE '[]' END) AS j) SELECT node, min(depth) FROM walk GROUP BY node");
  }
  ~RawPeer() {
    for (auto* s : {get_, neighbors_, walk_}) sqlite3_finalize(s);
    sqlite3_close(db_);
  }
  int run(sqlite3_stmt* s, const std::string& id) {
    sqlite3_bind_text(s, 1, id.c_str(), -1, SQLITE_TRANSIENT);
    int rows = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
      for (int c = 0; c < sqlite3_column_count(s); ++c) sqlite3_column_text(s, c);
      ++rows;
    }
    sqlite3_reset(s);
    return rows;
  }
  sqlite3_stmt* get_ = nullptr;
  sqlite3_stmt* neighbors_ = nullptr;
  sqlite3_stmt* walk_ = nullptr;

 private:
  void prepare(sqlite3_stmt*& s, const char* sql) { sqlite3_prepare_v2(db_, sql, -1, &s, nullptr); }
  sqlite3* db_ = nullptr;
};

// khive's figures on one backend: load rates, then read medians in microseconds.
struct Measured {
  double entitiesPerS = 0, edgesPerS = 0, entitySecs = 0, edgeSecs = 0;
  double entitiesPerCpuS = 0, edgesPerCpuS = 0;  // per second of this process's CPU time
  double edgeKiBWritten = 0;  // KiB this process wrote per edge loaded (SQLite: WAL and checkpoints)
  double get = 0, neighbors = 0, traverse = 0, traverseNodes = 0, shortestPath = 0;
  int connected = 0;
  // The hand-written libpq peer on the same schema and rows (PostgreSQL only).
  double peerGet = 0, peerNeighbors = 0, peerTraverse = 0, peerShortestPath = 0;
  int peerConnected = 0;
};

constexpr std::size_t kBatch = 10'000;

void load(storage::Backend& db, const bench::SyntheticGraph& graph, Measured& m) {
  const auto t = bench::loadGraph(db, graph, kBatch);
  m.entitySecs = t.entitySecs;
  m.edgeSecs = t.edgeSecs;
  m.entitiesPerCpuS = static_cast<double>(graph.entities.size()) / t.entityCpuSecs;
  m.edgesPerCpuS = static_cast<double>(graph.edges.size()) / t.edgeCpuSecs;
  m.edgeKiBWritten = t.edgeWrittenBytes / 1024 / static_cast<double>(graph.edges.size());
  m.entitiesPerS = static_cast<double>(graph.entities.size()) / m.entitySecs;
  m.edgesPerS = static_cast<double>(graph.edges.size()) / m.edgeSecs;
}

// `n` calls each of khive's `f` and its peer's `g` on the same item, interleaved (which goes
// first alternates), so both see the same machine load: the medians of f's and g's times.
template <class F, class G>
std::pair<double, double> samplePair(int n, F&& f, G&& g) {
  std::vector<double> a, b;
  a.reserve(static_cast<std::size_t>(n));
  b.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    auto timed = [&](auto& fn, std::vector<double>& out) {
      auto t0 = Steady::now();
      fn(i);
      out.push_back(micros(Steady::now() - t0));
    };
    if (i % 2) {
      timed(g, b);
      timed(f, a);
    } else {
      timed(f, a);
      timed(g, b);
    }
  }
  return {median(a), median(b)};
}

void reads(storage::Backend& db, const std::vector<Uuid>& ids, Measured& m) {
  m.get = median(sample(20'000, [&](int i) { db.entities().getEntity(ids[i]); }));
  storage::NeighborQuery nq{.namespaces = {"bench"}};
  m.neighbors = median(sample(20'000, [&](int i) { db.graph().neighbors(ids[i], nq); }));
  std::vector<double> sizes;
  m.traverse = median(sample(2'000, [&](int i) {
    auto t = db.graph().traverse({.roots = {ids[i]}, .namespaces = {"bench"}, .maxDepth = 3});
    sizes.push_back(static_cast<double>(t[0].nodes.size()));
  }));
  m.traverseNodes = median(sizes);
  m.shortestPath = median(sample(500, [&](int i) {
    if (db.graph().shortestPath(ids[2 * i], ids[2 * i + 1], {.namespaces = {"bench"}, .maxDepth = 6})) ++m.connected;
  }));
}

#ifdef KHIVE_BENCH_POSTGRES
std::optional<Measured> measurePostgres(const std::string& url, const bench::SyntheticGraph& graph,
                                        const std::vector<Uuid>& ids, bool loadOnly) {
  Measured m;
  try {
    bench::PgSchema schema(url, "graphbench");  // dropped when this block ends, failed or not
    auto db = schema.open();
    fmt::print("PostgreSQL: loading into schema {} ...\n", schema.name());
    if (!schema.reused()) load(*db, graph, m);
    if (!loadOnly) {
      schema.vacuumAnalyze({"entities", "notes", "edges"});
      // khive and the peer take turns on each item (samplePair): the ratio holds under load.
      bench::PgPeer peer(url, schema.name());
      std::tie(m.get, m.peerGet) = samplePair(
          20'000, [&](int i) { db->entities().getEntity(ids[i]); }, [&](int i) { peer.get(ids[i].str()); });
      storage::NeighborQuery nq{.namespaces = {"bench"}};
      std::tie(m.neighbors, m.peerNeighbors) = samplePair(
          20'000, [&](int i) { db->graph().neighbors(ids[i], nq); }, [&](int i) { peer.neighbors(ids[i].str()); });
      std::vector<double> sizes;
      std::tie(m.traverse, m.peerTraverse) = samplePair(
          2'000,
          [&](int i) {
            auto t = db->graph().traverse({.roots = {ids[i]}, .namespaces = {"bench"}, .maxDepth = 3});
            sizes.push_back(static_cast<double>(t[0].nodes.size()));
          },
          [&](int i) { peer.walk(ids[i].str()); });
      m.traverseNodes = median(sizes);
      std::tie(m.shortestPath, m.peerShortestPath) = samplePair(
          500,
          [&](int i) {
            if (db->graph().shortestPath(ids[2 * i], ids[2 * i + 1], {.namespaces = {"bench"}, .maxDepth = 6}))
              ++m.connected;
          },
          [&](int i) {
            if (peer.shortestPath(ids[2 * i].str(), ids[2 * i + 1].str(), 6) > 0) ++m.peerConnected;
          });
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "graph_bench: PostgreSQL run failed: {}\n", e.what());
    return std::nullopt;
  }
  return m;
}
#endif

std::string cell(double v) { return v > 0 ? fmt::format("{:.1f}", v) : "-"; }

// The graph a kept file holds, as "<entities> <edges>" (the generator's sizes; its seeded edges
// may repeat a natural key, so the table's count can be lower), in a file beside it written
// after a complete load. Empty when there is none.
std::string loadedGraph(const std::string& path) {
  std::ifstream in(path + ".graph");
  std::string line;
  std::getline(in, line);
  return line;
}

// Indexes of the graph tables without statistics (a reused file that a migration gave a new
// index since its load): ANALYZE runs again only then.
std::int64_t unanalyzedIndexes(storage::Backend& db) {
  auto sql = db.sql().writer();
  if (std::get<std::int64_t>(sql->queryScalar("SELECT count(*) FROM sqlite_schema WHERE name = 'sqlite_stat1'")) == 0)
    return 1;
  const auto v = sql->queryScalar(
      "SELECT count(*) FROM sqlite_schema AS m WHERE m.type = 'index' AND m.tbl_name IN ('entities', 'edges') "
      "AND NOT EXISTS (SELECT 1 FROM sqlite_stat1 AS s WHERE s.idx = m.name)");
  return std::get<std::int64_t>(v);
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t nEntities = 100'000, nEdges = 500'000;
  std::string outDir = "bench/results";
  bool loadOnly = false, reuse = false;
  std::string dbPath;
  int writerCacheMiB = 0, readerMapMiB = -1, peerMapMiB = 0;
  const char* envPg = std::getenv("KHIVE_PG_URL");
  std::string pgUrl = envPg ? envPg : "";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--load-only") loadOnly = true;
    else if (a == "--no-pg") pgUrl.clear();
    else if (a == "--reuse") reuse = true;
    else if (i + 1 < argc && a == "--db") dbPath = argv[++i];
    else if (i + 1 < argc && a == "--writer-cache-mib") writerCacheMiB = std::stoi(argv[++i]);
    else if (i + 1 < argc && a == "--reader-map-mib") readerMapMiB = std::stoi(argv[++i]);
    else if (i + 1 < argc && a == "--peer-map-mib") peerMapMiB = std::stoi(argv[++i]);
    else if (i + 1 < argc && a == "--entities") nEntities = std::stoul(argv[++i]);
    else if (i + 1 < argc && a == "--edges") nEdges = std::stoul(argv[++i]);
    else if (i + 1 < argc && a == "--out") outDir = argv[++i];
    else if (i + 1 < argc && a == "--pg") pgUrl = argv[++i];
    else {
      fmt::print(stderr, "graph_bench: unknown argument '{}'\n", a);
      return 2;
    }
  }
#ifndef KHIVE_BENCH_POSTGRES
  if (!pgUrl.empty()) fmt::print(stderr, "graph_bench: built without PostgreSQL; --pg ignored\n");
  pgUrl.clear();
#endif
  if (reuse && dbPath.empty()) {
    fmt::print(stderr, "graph_bench: --reuse needs --db PATH\n");
    return 2;
  }
  // Per process: two runs at once (other worktrees on the same machine) must not share a file.
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("khive-graph-bench-{}", ::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = dbPath.empty() ? (dir / "bench.db").string() : dbPath;
  bool loaded = false;  // the file already holds this graph
  const std::string thisGraph = fmt::format("{} {}", nEntities, nEdges);
  if (!dbPath.empty() && std::filesystem::exists(dbPath)) {
    const std::string held = loadedGraph(dbPath);
    if (!reuse || held != thisGraph) {
      fmt::print(stderr, "graph_bench: {} exists ({}); {}\n", dbPath,
                 held.empty() ? "no complete load recorded in its .graph file" : "holds entities/edges " + held,
                 reuse ? "it does not hold this run's graph: remove it or give another path"
                       : "pass --reuse to read it, or remove it");
      return 2;
    }
    loaded = true;
  }

  fmt::print("khive graph benchmark: {} entities, {} edges, SQLite file {}{}{}\n", nEntities, nEdges, path,
             loaded ? " (holds this graph: not loaded again)" : "", pgUrl.empty() ? "" : ", and PostgreSQL");
  auto graph = bench::makeGraph(nEntities, nEdges);
  std::mt19937_64 rng(7);
  auto pick = [&] { return graph.entities[rng() % graph.entities.size()].id; };
  std::vector<Uuid> ids(20'000);
  for (auto& id : ids) id = pick();

  Measured lite;
  std::optional<Measured> pg;
  {
    backends::SqliteOptions options;
    options.path = path;
    if (writerCacheMiB > 0) options.writerCacheMiB = writerCacheMiB;
    if (readerMapMiB >= 0) options.readerMapMiB = readerMapMiB;
    auto db = backends::openSqlite(options);
    if (!loaded) {
      load(*db, graph, lite);
      if (!dbPath.empty()) std::ofstream(dbPath + ".graph") << thisGraph << '\n';
    }
    if (!loadOnly && (!loaded || unanalyzedIndexes(*db) > 0)) {
      db->sql().writer()->execute("ANALYZE");
      db->sql().writer()->query("PRAGMA wal_checkpoint(FULL)");
      reads(*db, ids, lite);
    }
  }
#ifdef KHIVE_BENCH_POSTGRES
  if (!pgUrl.empty()) pg = measurePostgres(pgUrl, graph, ids, loadOnly);
#endif
  if (loadOnly) {
    fmt::print("load (SQLite): {:.0f} entities/s, {:.0f} edges/s (per CPU second: {:.0f}, {:.0f}; {:.1f} KiB written per "
               "edge)\n",
               lite.entitiesPerS, lite.edgesPerS, lite.entitiesPerCpuS, lite.edgesPerCpuS, lite.edgeKiBWritten);
    if (pg) fmt::print("load (PostgreSQL): {:.0f} entities/s, {:.0f} edges/s\n", pg->entitiesPerS, pg->edgesPerS);
    std::filesystem::remove_all(dir);
    return 0;
  }

  // The hand-written peer reads the SQLite file khive wrote.
  RawPeer peer(path, peerMapMiB);
  const double getP = median(sample(20'000, [&](int i) { peer.run(peer.get_, ids[i].str()); }));
  const double nbP = median(sample(20'000, [&](int i) { peer.run(peer.neighbors_, ids[i].str()); }));
  const double trP = median(sample(2'000, [&](int i) { peer.run(peer.walk_, ids[i].str()); }));

  struct Row {
    std::string name;
    double khive, peer, postgres;
    std::string note;
    double peerPostgres = 0;
  };
  const double none = 0;
  std::vector<Row> rows = {
      {"entities/s (batch)", lite.entitiesPerS, none, pg ? pg->entitiesPerS : none, fmt::format("batches of {}", kBatch)},
      {"edges/s (batch)", lite.edgesPerS, none, pg ? pg->edgesPerS : none,
       loaded ? "the file was loaded before (--reuse)"
              : fmt::format("batches of {}; SQLite wrote {:.1f} KiB per edge", kBatch, lite.edgeKiBWritten)},
      {"get by id (us)", lite.get, getP, pg ? pg->get : none, ""},
      {"neighbors out (us)", lite.neighbors, nbP, pg ? pg->neighbors : none, "limit 100"},
      {"3-hop traverse (us)", lite.traverse, trP, pg ? pg->traverse : none,
       fmt::format("median {} nodes; khive adds via-edges", lite.traverseNodes)},
      {"shortest path (us)", lite.shortestPath, none, pg ? pg->shortestPath : none,
       fmt::format("{} of 500 pairs connected within 6", lite.connected)},
  };
  fmt::print("\n{:<22} {:>12} {:>16} {:>8} {:>12}  {}\n", "operation (median)", "khive SQLite", "hand-written SQL",
             "ratio", "khive PG", "note");
  for (const auto& r : rows) {
    fmt::print("{:<22} {:>12.1f} {:>16} {:>8} {:>12}  {}\n", r.name, r.khive, cell(r.peer),
               r.peer > 0 ? fmt::format("{:.2f}x", r.khive / r.peer) : "-", cell(r.postgres), r.note);
  }
  if (pg && pg->peerGet > 0) {
    // PostgreSQL beside its own hand-written libpq peer (pg_peer.h), same schema and rows.
    const std::vector<std::pair<std::size_t, double>> peer = {
        {2, pg->peerGet}, {3, pg->peerNeighbors}, {4, pg->peerTraverse}, {5, pg->peerShortestPath}};
    fmt::print("\n{:<22} {:>12} {:>16} {:>8}  {}\n", "operation (median)", "khive PG", "hand-written libpq", "ratio",
               "note");
    for (const auto& [i, p] : peer) {
      rows[i].peerPostgres = p;
      fmt::print("{:<22} {:>12.1f} {:>16.1f} {:>7.2f}x\n", rows[i].name, rows[i].postgres, p, rows[i].postgres / p);
    }
    fmt::print("(peer: {} of 500 pairs connected within 6)\n", pg->peerConnected);
  }

  std::filesystem::create_directories(outDir);
  std::ofstream csv(std::filesystem::path(outDir) / "graph_bench.csv");
  csv << "metric,khive_sqlite,hand_written_sqlite,khive_postgres,hand_written_libpq,entities,edges\n";
  for (const auto& r : rows)
    csv << fmt::format("{},{:.2f},{:.2f},{:.2f},{:.2f},{},{}\n", r.name, r.khive, r.peer, r.postgres, r.peerPostgres,
                       nEntities, nEdges);
  std::filesystem::remove_all(dir);
  return 0;
}
