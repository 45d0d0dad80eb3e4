// Query-layer benchmarks (Google Benchmark). They print medians; they assert nothing.
//
//   BM_Compile/<dialect>/<pattern>   parse + bind + compile of one query text (no engine)
//   BM_Execute/<pattern>             compile + run on SQLite over the synthetic graph
//                                    (KHIVE_BENCH_ENTITIES / KHIVE_BENCH_EDGES, default
//                                    100k / 500k; ANALYZE statistics present), next to a
//                                    hand-written recursive CTE doing the same work.
//   BM_Execute/postgres/<pattern>    the same queries compiled for and run on khive's
//                                    PostgreSQL backend (native server over loopback, RLS on),
//                                    on the same graph in a schema of its own, dropped at the
//                                    end; when --pg URL or $KHIVE_PG_URL is given (--no-pg:
//                                    skip). A table of SQLite and PostgreSQL wall-time medians
//                                    side by side, with ratios, closes the run.
//
//   build/q/bench/query_bench --benchmark_filter=Compile            (compile only, seconds)
//   build/q/bench/query_bench --benchmark_filter=Execute            (loads the graph first;
//                                    KHIVE_BENCH_REUSE=1 reuses the SQLite file an earlier run
//                                    left; KHIVE_BENCH_FILE names that file)

#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>

#include "khive/backends/sqlite.h"
#include "khive/query/compiler.h"
#include "khive/query/postgres_dialect.h"
#include "khive/query/sqlite_dialect.h"
#include "synthetic_graph.h"
#ifdef KHIVE_BENCH_POSTGRES
#include "pg_schema.h"
#endif

namespace {

using namespace khive;

struct Pattern {
  const char* name;
  const char* text;
};

const Pattern kPatterns[] = {
    {"node_by_name", "MATCH (a:concept {name: 'LoRA'}) RETURN a"},
    {"one_hop", "MATCH (a:concept {name: 'LoRA'})-[:extends]->(b) RETURN b.name"},
    {"two_hop_where", "MATCH (a {name: 'LoRA'})-[:extends|variant_of]->(b)<-[:implements]-(c) WHERE c.kind = 'artifact' "
                      "AND b.properties.year >= 2020 RETURN b.name, c.name LIMIT 20"},
    {"var_length", "MATCH (a {name: 'LoRA'})-[:extends*1..3]->(b) RETURN DISTINCT b.name"},
    {"var_length_any", "MATCH (a {name: $x})-[*1..3]->(b) RETURN DISTINCT b"},
    {"where_or_in", "MATCH (a:concept) WHERE a.name IN ['a', 'b', 'c'] OR a.properties.venue CONTAINS 'icml' AND "
                    "a.properties.score > 8.5 RETURN a.name, a.properties.venue SKIP 10 LIMIT 10"},
    {"sparql_chain", "SELECT ?a ?b WHERE { ?a a :concept ; :name 'LoRA' . ?a :extends+ ?b . ?b :introduced_by ?p } "
                     "LIMIT 10"},
    {"aggregate_order", "MATCH (a:concept)-[:extends]->(b) RETURN b.name AS n, count(*) AS c ORDER BY c DESC, n LIMIT 10"},
    {"shortest_path", "MATCH p = shortestPath((a {name: 'LoRA'})-[*..6]-(b {name: 'Adapter'})) RETURN p, length(p)"},
};

void compileBench(benchmark::State& state, const query::SqlDialect* dialect, const char* text) {
  query::QueryCompiler compiler(*dialect);
  query::CompileOptions o;
  o.namespaces = {"main", "shared"};
  o.parameters = {{"x", "LoRA"}};
  for (auto _ : state) {
    auto q = compiler.compile(text, o);
    benchmark::DoNotOptimize(q.sql.data());
  }
}

// ---- execution on the synthetic graph ----------------------------------------------------

std::size_t envSize(const char* name, std::size_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? static_cast<std::size_t>(std::strtoull(v, nullptr, 10)) : fallback;
}

struct Loaded {
#ifdef KHIVE_BENCH_POSTGRES
  std::unique_ptr<bench::PgSchema> schema;  // declared first: dropped after the backend closes
#endif
  std::unique_ptr<storage::Backend> backend;
  std::vector<std::string> startNames;
};

std::size_t graphEntities() { return envSize("KHIVE_BENCH_ENTITIES", 100'000); }
std::size_t graphEdges() { return envSize("KHIVE_BENCH_EDGES", 500'000); }

// Start names of the measured queries: the same 64 on every engine.
std::vector<std::string> startNames(const bench::SyntheticGraph& sg) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < 64; ++i) out.push_back(sg.entities[(i * 7919) % sg.entities.size()].name);
  return out;
}

Loaded& graph() {
  static Loaded g = [] {
    Loaded l;
    const std::size_t n = graphEntities(), m = graphEdges();
    auto t0 = std::chrono::steady_clock::now();
    auto sg = bench::makeGraph(n, m);
    backends::SqliteOptions o;
    const char* file = std::getenv("KHIVE_BENCH_FILE");
    o.path = file && *file ? std::string(file) : fmt::format("/tmp/khive-query-bench-{}-{}.sqlite", n, m);
    // The graph is seeded, so a file left by an earlier run holds the same graph: reuse it.
    bool reuse = std::getenv("KHIVE_BENCH_REUSE") != nullptr;
    if (!reuse) std::remove(o.path.c_str());
    l.backend = backends::openSqlite(o);
    if (!reuse) bench::loadGraph(*l.backend, sg, 5000);
    l.backend->sql().writer()->execute("ANALYZE");
    l.startNames = startNames(sg);
    auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "query_bench: loaded %zu entities and %zu edges in %.1f s (%s)\n", n, m, secs, o.path.c_str());
    return l;
  }();
  return g;
}

#ifdef KHIVE_BENCH_POSTGRES
std::string pgUrl;  // set by main from --pg / $KHIVE_PG_URL

Loaded& pgGraph() {
  static Loaded g = [] {
    Loaded l;
    const std::size_t n = graphEntities(), m = graphEdges();
    auto t0 = std::chrono::steady_clock::now();
    auto sg = bench::makeGraph(n, m);
    l.schema = std::make_unique<bench::PgSchema>(pgUrl, "querybench");
    l.backend = l.schema->open();
    bench::loadGraph(*l.backend, sg, 5000);
    l.schema->analyze({"entities", "notes", "edges"});
    l.startNames = startNames(sg);
    auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "query_bench: loaded %zu entities and %zu edges into PostgreSQL schema %s in %.1f s\n", n,
                 m, l.schema->name().c_str(), secs);
    return l;
  }();
  return g;
}
#endif

// Compiles with the engine's dialect and runs through its SQL reader, as khive's query verbs do.
void executeOn(benchmark::State& state, Loaded& g, const query::SqlDialect& dialect, const char* text) {
  query::QueryCompiler compiler(dialect);
  auto reader = g.backend->sql().reader();
  std::size_t i = 0, rows = 0;
  for (auto _ : state) {
    query::CompileOptions o;
    o.namespaces = {"bench"};
    o.parameters = {{"x", g.startNames[i++ % g.startNames.size()]}};
    auto q = compiler.compile(text, o);
    auto r = reader->query(q.sql, q.params);
    rows += r.rows.size();
  }
  state.counters["rows/query"] = benchmark::Counter(static_cast<double>(rows) / static_cast<double>(state.iterations()));
}

void executeBench(benchmark::State& state, const char* text) { executeOn(state, graph(), query::sqliteDialect(), text); }

#ifdef KHIVE_BENCH_POSTGRES
void executePgBench(benchmark::State& state, const char* text) {
  executeOn(state, pgGraph(), query::postgresDialect(), text);
}
#endif

// The same work as var_length_any written by hand (ids of nodes reachable in 1..3 hops over
// outgoing edges), in two forms: the textbook join of walk and edges, which SQLite 3.40 plans
// with a Bloom filter over the whole edge table once ANALYZE statistics exist, and the
// correlated-subquery form the SQLite dialect emits.
const char* kJoinCte =
    "WITH RECURSIVE walk(node, depth, path) AS ("
    " SELECT id, 0, '/' || id || '/' FROM entities WHERE namespace = ?1 AND name = ?2 COLLATE NOCASE AND deleted_at IS NULL"
    " UNION ALL SELECT e.target_id, w.depth + 1, w.path || e.target_id || '/' FROM walk w CROSS JOIN edges e"
    " ON e.source_id = w.node AND e.deleted_at IS NULL AND e.endpoint_deleted = 0 AND e.namespace = ?1"
    " WHERE w.depth < 3 AND instr(w.path, '/' || e.target_id || '/') = 0)"
    " SELECT DISTINCT node FROM walk WHERE depth >= 1 LIMIT 501";
const char* kSubqueryCte =
    "WITH RECURSIVE walk(node, depth, path) AS ("
    " SELECT id, 0, '/' || id || '/' FROM entities WHERE namespace = ?1 AND name = ?2 COLLATE NOCASE AND deleted_at IS NULL"
    " UNION ALL SELECT j.value, w.depth + 1, w.path || j.value || '/' FROM walk w, json_each(CASE WHEN w.depth < 3 THEN"
    " (SELECT json_group_array(e.target_id) FROM edges e WHERE e.source_id = w.node AND e.deleted_at IS NULL"
    " AND e.endpoint_deleted = 0 AND e.namespace = ?1) ELSE '[]' END) AS j"
    " WHERE instr(w.path, '/' || j.value || '/') = 0)"
    " SELECT DISTINCT node FROM walk WHERE depth >= 1 LIMIT 501";

void handWrittenCte(benchmark::State& state, const char* sql) {
  Loaded& g = graph();
  auto reader = g.backend->sql().reader();
  std::size_t i = 0, rows = 0;
  for (auto _ : state) {
    storage::SqlParams p{std::string("bench"), g.startNames[i++ % g.startNames.size()]};
    rows += reader->query(sql, p).rows.size();
  }
  state.counters["rows/query"] = benchmark::Counter(static_cast<double>(rows) / static_cast<double>(state.iterations()));
}

// The executed queries: name and text, on every engine.
const Pattern kExecuted[] = {
    {"two_hop", "MATCH (a {name: $x})-->(b)-->(c) RETURN c.id"},
    {"var_length_1_3", "MATCH (a {name: $x})-[*1..3]->(b) RETURN DISTINCT b.id"},
    {"count_two_hop", "MATCH (a:entity {name: $x})-->(b)-->(c) RETURN count(DISTINCT c)"},
};

// count_two_hop by hand, two ways: the distinct nodes two live, in-scope outgoing hops away
// without the checks the query's meaning adds (kCountTwoHop), and with them (kCountTwoHopFull:
// symmetric relations also run backwards, the middle and end nodes are live records in scope).
const char* kCountTwoHopFull =
    "SELECT count(DISTINCT CASE WHEN e2.source_id = m.id THEN e2.target_id ELSE e2.source_id END) FROM entities a"
    " JOIN edges e1 ON (e1.source_id = a.id OR (e1.target_id = a.id AND e1.relation IN ('competes_with', 'composed_with')))"
    " AND e1.deleted_at IS NULL AND e1.endpoint_deleted = 0 AND e1.namespace = ?1"
    " JOIN entities AS m ON m.id = CASE WHEN e1.source_id = a.id THEN e1.target_id ELSE e1.source_id END"
    " AND m.deleted_at IS NULL AND m.namespace = ?1"
    " JOIN edges e2 ON (e2.source_id = m.id OR (e2.target_id = m.id AND e2.relation IN ('competes_with', 'composed_with')))"
    " AND e2.deleted_at IS NULL AND e2.endpoint_deleted = 0 AND e2.namespace = ?1 AND e2.id <> e1.id"
    " WHERE a.namespace = ?1 AND a.name = ?2 COLLATE NOCASE AND a.deleted_at IS NULL"
    " AND EXISTS (SELECT 1 FROM entities AS x WHERE x.id = CASE WHEN e2.source_id = m.id THEN e2.target_id ELSE"
    " e2.source_id END AND x.deleted_at IS NULL AND x.namespace = ?1)";
const char* kCountTwoHop =
    "SELECT count(DISTINCT e2.target_id) FROM entities a"
    " JOIN edges e1 ON e1.source_id = a.id AND e1.deleted_at IS NULL AND e1.endpoint_deleted = 0 AND e1.namespace = ?1"
    " JOIN edges e2 ON e2.source_id = e1.target_id AND e2.deleted_at IS NULL AND e2.endpoint_deleted = 0"
    " AND e2.namespace = ?1 AND e2.id <> e1.id"
    " WHERE a.namespace = ?1 AND a.name = ?2 COLLATE NOCASE AND a.deleted_at IS NULL";

void registerAll(bool postgres) {
  for (auto& p : kPatterns) {
    benchmark::RegisterBenchmark(fmt::format("BM_Compile/sqlite/{}", p.name).c_str(), compileBench,
                                 &query::sqliteDialect(), p.text)
        ->Repetitions(7)
        ->ReportAggregatesOnly(true);
    benchmark::RegisterBenchmark(fmt::format("BM_Compile/postgres/{}", p.name).c_str(), compileBench,
                                 &query::postgresDialect(), p.text)
        ->Repetitions(7)
        ->ReportAggregatesOnly(true);
  }
  for (auto& p : kExecuted) {
    benchmark::RegisterBenchmark(fmt::format("BM_Execute/{}", p.name).c_str(), executeBench, p.text)
        ->Unit(benchmark::kMicrosecond)
        ->Repetitions(5)
        ->ReportAggregatesOnly(true);
  }
  benchmark::RegisterBenchmark("BM_Execute/hand_written_join_cte_1_3", handWrittenCte, kJoinCte)
      ->Unit(benchmark::kMicrosecond)
      ->Repetitions(5)
      ->ReportAggregatesOnly(true);
  benchmark::RegisterBenchmark("BM_Execute/hand_written_subquery_cte_1_3", handWrittenCte, kSubqueryCte)
      ->Unit(benchmark::kMicrosecond)
      ->Repetitions(5)
      ->ReportAggregatesOnly(true);
  benchmark::RegisterBenchmark("BM_Execute/hand_written_count_two_hop_full", handWrittenCte, kCountTwoHopFull)
      ->Unit(benchmark::kMicrosecond)
      ->Repetitions(5)
      ->ReportAggregatesOnly(true);
  benchmark::RegisterBenchmark("BM_Execute/hand_written_count_two_hop", handWrittenCte, kCountTwoHop)
      ->Unit(benchmark::kMicrosecond)
      ->Repetitions(5)
      ->ReportAggregatesOnly(true);
#ifdef KHIVE_BENCH_POSTGRES
  for (auto& p : kExecuted) {
    if (!postgres) break;
    benchmark::RegisterBenchmark(fmt::format("BM_Execute/postgres/{}", p.name).c_str(), executePgBench, p.text)
        ->Unit(benchmark::kMicrosecond)
        ->Repetitions(5)
        ->ReportAggregatesOnly(true);
  }
#else
  (void)postgres;
#endif
}

// The console output as usual, plus each benchmark's median (wall and CPU time, in its unit)
// for the closing side-by-side table.
class MedianReporter : public benchmark::ConsoleReporter {
 public:
  // Colours only on a terminal (the library decides that only for its own reporter).
  MedianReporter() : ConsoleReporter(::isatty(STDOUT_FILENO) ? OO_ColorTabular : OO_Tabular) {}
  struct Median {
    double real = 0, cpu = 0;
    std::string unit;
  };
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs) {
      if (r.aggregate_name != "median") continue;
      medians_[r.run_name.function_name] = {r.GetAdjustedRealTime(), r.GetAdjustedCPUTime(),
                                    benchmark::GetTimeUnitString(r.time_unit)};
    }
    ConsoleReporter::ReportRuns(runs);
  }
  const Median* find(const std::string& name) const {
    auto it = medians_.find(name);
    return it == medians_.end() ? nullptr : &it->second;
  }

 private:
  std::map<std::string, Median> medians_;
};

// khive on SQLite and on PostgreSQL, per executed query: wall-time medians (the server's work
// is in another process, so CPU time of this one would undercount PostgreSQL).
void printSideBySide(const MedianReporter& rep) {
  bool header = false;
  for (const auto& p : kExecuted) {
    const auto* lite = rep.find(fmt::format("BM_Execute/{}", p.name));
    const auto* pg = rep.find(fmt::format("BM_Execute/postgres/{}", p.name));
    if (!lite || !pg) continue;
    if (!header) {
      std::printf("\n%-18s %16s %16s %10s   (wall-time medians, %s)\n", "query", "khive SQLite", "khive PostgreSQL",
                  "PG/SQLite", lite->unit.c_str());
      header = true;
    }
    std::printf("%-18s %16.1f %16.1f %9.2fx\n", p.name, lite->real, pg->real, lite->real > 0 ? pg->real / lite->real : 0);
  }
}

// KHIVE_BENCH_EXPLAIN=1: each executed query's SQL and plan on each loaded engine, with
// run times where the engine reports them (EXPLAIN ANALYZE on PostgreSQL).
void explainAll(Loaded& g, const query::SqlDialect& dialect, bool analyze) {
  query::QueryCompiler compiler(dialect);
  auto reader = g.backend->sql().reader();
  for (const auto& p : kExecuted) {
    query::CompileOptions o;
    o.namespaces = {"bench"};
    o.parameters = {{"x", g.startNames[0]}};
    auto q = compiler.compile(p.text, o);
    std::printf("\n-- %s (%s)\n%s\n", p.name, analyze ? "postgres" : "sqlite", q.sql.c_str());
    if (!analyze) {
      std::printf("%s", reader->explain(q.sql, q.params).c_str());
      continue;
    }
    for (const auto& row : reader->query("EXPLAIN (ANALYZE, BUFFERS) " + q.sql, q.params).rows)
      std::printf("%s\n", std::get<std::string>(row[0]).c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  bool postgres = false;
#ifdef KHIVE_BENCH_POSTGRES
  pgUrl = bench::pgUrlFromArgs(argc, argv);
  postgres = !pgUrl.empty();
#endif
  registerAll(postgres);
  benchmark::Initialize(&argc, argv);
  MedianReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  printSideBySide(reporter);
  if (std::getenv("KHIVE_BENCH_EXPLAIN")) {
    explainAll(graph(), query::sqliteDialect(), false);
#ifdef KHIVE_BENCH_POSTGRES
    if (postgres) explainAll(pgGraph(), query::postgresDialect(), true);
#endif
  }
  benchmark::Shutdown();
  return 0;
}
