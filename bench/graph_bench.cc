// Foundation benchmark: khive's SQLite backend against hand-written SQL on the same file
// (the peer), over a seeded synthetic graph on a file database. Prints medians and ratios
// side by side and writes bench/results/graph_bench.csv.
//
//   graph_bench [--entities N] [--edges M] [--out DIR] [--load-only]   (defaults: 100000, 500000)
//
// Statistics are present (ANALYZE runs after the load) for every read measurement.

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "khive/backends/sqlite.h"
#include "synthetic_graph.h"

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
  explicit RawPeer(const std::string& path) {
    sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr);
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

}  // namespace

int main(int argc, char** argv) {
  std::size_t nEntities = 100'000, nEdges = 500'000;
  std::string outDir = "bench/results";
  bool loadOnly = false;
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]) == "--load-only") loadOnly = true;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--entities") nEntities = std::stoul(argv[i + 1]);
    else if (a == "--edges") nEdges = std::stoul(argv[i + 1]);
    else if (a == "--out") outDir = argv[i + 1];
  }
  const auto dir = std::filesystem::temp_directory_path() / "khive-graph-bench";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "bench.db").string();

  fmt::print("khive graph benchmark: {} entities, {} edges, SQLite file {}\n", nEntities, nEdges, path);
  auto graph = bench::makeGraph(nEntities, nEdges);
  backends::SqliteOptions options;
  options.path = path;
  auto db = backends::openSqlite(options);

  constexpr std::size_t kBatch = 10'000;
  auto t0 = Steady::now();
  for (std::size_t i = 0; i < graph.entities.size(); i += kBatch) {
    auto n = std::min(kBatch, graph.entities.size() - i);
    db->entities().upsertEntities(std::span<const Entity>(graph.entities.data() + i, n));
  }
  const double entitySecs = std::chrono::duration<double>(Steady::now() - t0).count();
  t0 = Steady::now();
  for (std::size_t i = 0; i < graph.edges.size(); i += kBatch) {
    auto n = std::min(kBatch, graph.edges.size() - i);
    db->graph().upsertEdges(std::span<const Edge>(graph.edges.data() + i, n));
  }
  const double edgeSecs = std::chrono::duration<double>(Steady::now() - t0).count();
  if (loadOnly) {
    fmt::print("load: {:.0f} entities/s, {:.0f} edges/s\n", nEntities / entitySecs, nEdges / edgeSecs);
    return 0;
  }
  db->sql().writer()->execute("ANALYZE");

  std::mt19937_64 rng(7);
  auto pick = [&] { return graph.entities[rng() % graph.entities.size()].id; };
  std::vector<Uuid> ids(20'000);
  for (auto& id : ids) id = pick();

  RawPeer peer(path);
  struct Row {
    std::string name;
    double khive;
    double peer;
    std::string note;
  };
  std::vector<Row> rows;

  auto getK = sample(20'000, [&](int i) { db->entities().getEntity(ids[i]); });
  auto getP = sample(20'000, [&](int i) { peer.run(peer.get_, ids[i].str()); });
  rows.push_back({"get by id (us)", median(getK), median(getP), ""});

  storage::NeighborQuery nq{.namespaces = {"bench"}};
  auto nbK = sample(20'000, [&](int i) { db->graph().neighbors(ids[i], nq); });
  auto nbP = sample(20'000, [&](int i) { peer.run(peer.neighbors_, ids[i].str()); });
  rows.push_back({"neighbors out (us)", median(nbK), median(nbP), "limit 100"});

  std::vector<double> sizes;
  auto trK = sample(2'000, [&](int i) {
    auto t = db->graph().traverse({.roots = {ids[i]}, .namespaces = {"bench"}, .maxDepth = 3});
    sizes.push_back(static_cast<double>(t[0].nodes.size()));
  });
  auto trP = sample(2'000, [&](int i) { peer.run(peer.walk_, ids[i].str()); });
  rows.push_back({"3-hop traverse (us)", median(trK), median(trP),
                  fmt::format("median {} nodes; khive adds via-edges", median(sizes))});

  int found = 0;
  auto spK = sample(500, [&](int i) {
    if (db->graph().shortestPath(ids[2 * i], ids[2 * i + 1], {.namespaces = {"bench"}, .maxDepth = 6})) ++found;
  });
  rows.push_back({"shortest path (us)", median(spK), 0, fmt::format("{} of 500 pairs connected within 6", found)});

  fmt::print("\nload: {:.0f} entities/s ({:.2f} s), {:.0f} edges/s ({:.2f} s), batches of {}\n",
             nEntities / entitySecs, entitySecs, nEdges / edgeSecs, edgeSecs, kBatch);
  fmt::print("\n{:<22} {:>12} {:>16} {:>8}  {}\n", "operation (median)", "khive", "hand-written SQL", "ratio",
             "note");
  for (const auto& r : rows) {
    fmt::print("{:<22} {:>12.1f} {:>16} {:>8}  {}\n", r.name, r.khive, r.peer > 0 ? fmt::format("{:.1f}", r.peer) : "-",
               r.peer > 0 ? fmt::format("{:.2f}x", r.khive / r.peer) : "-", r.note);
  }

  std::filesystem::create_directories(outDir);
  std::ofstream csv(std::filesystem::path(outDir) / "graph_bench.csv");
  csv << "metric,khive_sqlite,hand_written_sqlite,entities,edges\n";
  csv << fmt::format("entities_per_s,{:.0f},,{},{}\n", nEntities / entitySecs, nEntities, nEdges);
  csv << fmt::format("edges_per_s,{:.0f},,{},{}\n", nEdges / edgeSecs, nEntities, nEdges);
  for (const auto& r : rows) csv << fmt::format("{},{:.2f},{:.2f},{},{}\n", r.name, r.khive, r.peer, nEntities, nEdges);
  if (!std::getenv("KHIVE_BENCH_KEEP")) std::filesystem::remove_all(dir);
  return 0;
}
