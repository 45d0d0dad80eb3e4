// Retrieval benchmark (issue 3), on SQLite files, single-threaded queries:
//   - dense vectors, seeded clustered 100k x 128 and 100k x 384, exact ground truth:
//     recall@10 and queries/s, unfiltered and with a 1 % filter (kind), plus the count of
//     queries that returned fewer than k;
//   - FTS5 query median over 100k generated documents;
//   - hybrid (text + vector, RRF, alive check) query median over the same 100k entities.
// With --pg URL or $KHIVE_PG_URL (--no-pg: skip), the same documents and queries on khive's
// PostgreSQL backend (tsvector + GIN, in a schema of its own, dropped at the end), and a table
// of SQLite and PostgreSQL side by side with ratios. The vector and hybrid figures need
// pgvector on that server ("n/a (no pgvector)" otherwise); with $KHIVE_PGLITE_URL (--no-pglite:
// skip) the vector part also runs on PGlite (pgvector in WASM) at a small size: recall there
// checks correctness, its speed says nothing about PostgreSQL.
// Prints medians and writes bench/results/retrieval_bench.csv (or --out DIR).
//
//   retrieval_bench [--n 100000] [--queries 500] [--out DIR] [--pg URL | --no-pg]
//                   [--pg-text-queries 100] [--pglite-n 5000] [--no-pglite]
//                   [--only text|d128|d384]   (text: full-text on every engine, PGlite vectors)
//   retrieval_bench --only reverse --words FILE.kwv [--wordnet /usr/share/wordnet] [--queries 1000]
//                   [--offset 0]
//       the reverse dictionary on WordNet (bench/reverse_dictionary.h) with the static engine's
//       SIF vectors of FILE: recall@10 and MRR@10 of text only, vector only and each fusion;
//       --offset skips that many synsets of the seeded draw (1000: a second, disjoint sample)
//   retrieval_bench --only sif-sweep --words FILE.kwv [--offset 0]   the vector half for SIF
//       variants (exact)
//   retrieval_bench --only steady --db FILE --words FILE.kwv [--model glove]
//       hybrid search latency in one process over a database the static engine reindexed
//
// The HNSW build may use both cores (OpenMP); every measured query runs on one thread.

#include <fmt/format.h>
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "khive/backends/sqlite.h"
#include "khive/retrieval/hybrid_search.h"
#include "retrieval/clustered_data.h"
#include "reverse_dictionary.h"
#ifdef KHIVE_BENCH_POSTGRES
#include "pg_schema.h"
#endif

using namespace khive;
using Steady = std::chrono::steady_clock;

namespace {

double micros(Steady::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }
double seconds(Steady::duration d) { return std::chrono::duration<double>(d).count(); }

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

struct Row {
  std::string engine;
  std::string name;
  double value;
  std::string unit;
};
std::vector<Row> results;
std::string engine = "SQLite";  // the engine report() files its measures under
void report(const std::string& name, double value, const std::string& unit) {
  results.push_back({engine, name, value, unit});
  fmt::print("  {:<44} {:>12.4f} {}\n", name, value, unit);
  std::fflush(stdout);
}

// Per process, so runs from other worktrees on the same machine never share a file; removed
// at the end of the run.
std::filesystem::path tempDir() {
  return std::filesystem::temp_directory_path() / fmt::format("khive-retrieval-bench-{}", ::getpid());
}

std::string freshFile(const std::string& tag) {
  auto dir = tempDir();
  std::filesystem::create_directories(dir);
  auto path = dir / (tag + ".sqlite");
  for (auto suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
  return path.string();
}

// Exact top-10 (point indices) by brute force over unit vectors.
std::vector<std::vector<std::size_t>> groundTruth(const testing::ClusteredData& d, const std::vector<float>& unit,
                                                  std::size_t nq, bool rareOnly) {
  const auto dims = static_cast<std::size_t>(d.dims);
  std::vector<std::vector<std::size_t>> out(nq);
  std::vector<float> q(dims);
  for (std::size_t qi = 0; qi < nq; ++qi) {
    auto src = d.query(qi);
    double n = 0;
    for (float x : src) n += static_cast<double>(x) * x;
    for (std::size_t j = 0; j < dims; ++j) q[j] = static_cast<float>(src[j] / std::sqrt(n));
    std::vector<std::pair<float, std::size_t>> all;
    all.reserve(d.size());
    for (std::size_t i = 0; i < d.size(); ++i) {
      if (rareOnly && i % 100 != 0) continue;
      const float* p = unit.data() + i * dims;
      float dot = 0;
      for (std::size_t j = 0; j < dims; ++j) dot += p[j] * q[j];
      all.emplace_back(dot, i);
    }
    std::partial_sort(all.begin(), all.begin() + 10, all.end(), [](auto& a, auto& b) { return a.first > b.first; });
    for (int k = 0; k < 10; ++k) out[qi].push_back(all[static_cast<std::size_t>(k)].second);
  }
  return out;
}

// Loads the vectors (1 % of them of kind "rare") for the given subject ids, builds the index
// and measures recall@10 and queries/s, unfiltered and 1 %-filtered.
void vectorBench(storage::Backend& db, const testing::ClusteredData& d, const std::vector<Uuid>& ids,
                 std::size_t nq, const std::string& tag) {
  const auto dims = static_cast<std::size_t>(d.dims);
  const auto n = d.size();
  auto t0 = Steady::now();
  std::vector<storage::VectorRecord> batch;
  for (std::size_t i = 0; i < n; ++i) {
    storage::VectorRecord r;
    r.subjectId = ids[i];
    r.ns = "bench";
    r.kind = i % 100 == 0 ? "rare" : "concept";
    r.model = tag;
    auto p = d.point(i);
    r.values.assign(p.begin(), p.end());
    batch.push_back(std::move(r));
    if (batch.size() == 10'000 || i + 1 == n) {
      db.vectors().insertVectors(batch);
      batch.clear();
    }
  }
  report(tag + " insert (" + engine + " rows)", seconds(Steady::now() - t0), "s");
  omp_set_num_threads(2);
  t0 = Steady::now();
  db.vectors().rebuildVectorIndex(tag);
  report(tag + " index build (2 threads)", seconds(Steady::now() - t0), "s");
  omp_set_num_threads(1);
  for (const auto& info : db.vectors().vectorInfo())
    if (info.model == tag) fmt::print("  index kind: {}, {} vectors\n", info.indexKind, info.count);

  std::vector<float> unit(d.points);
  for (std::size_t i = 0; i < n; ++i) {
    double s = 0;
    for (std::size_t j = 0; j < dims; ++j) s += static_cast<double>(unit[i * dims + j]) * unit[i * dims + j];
    for (std::size_t j = 0; j < dims; ++j) unit[i * dims + j] = static_cast<float>(unit[i * dims + j] / std::sqrt(s));
  }
  std::map<Uuid, std::size_t> indexOf;
  for (std::size_t i = 0; i < n; ++i) indexOf.emplace(ids[i], i);

  for (bool filtered : {false, true}) {
    auto truth = groundTruth(d, unit, nq, filtered);
    std::vector<double> lat;
    double found = 0;
    std::size_t shortResults = 0, outside = 0;
    // One warm-up pass over a few queries, then the measured pass.
    for (std::size_t qi = 0; qi < std::min<std::size_t>(nq, 20); ++qi) {
      storage::VectorSearchRequest r;
      auto q = d.query(qi);
      r.query.assign(q.begin(), q.end());
      r.model = tag;
      r.namespaces = {"bench"};
      if (filtered) r.kinds = {"rare"};
      db.vectors().searchVectors(r);
    }
    const auto start = Steady::now();
    for (std::size_t qi = 0; qi < nq; ++qi) {
      storage::VectorSearchRequest r;
      auto q = d.query(qi);
      r.query.assign(q.begin(), q.end());
      r.model = tag;
      r.topK = 10;
      r.namespaces = {"bench"};
      if (filtered) r.kinds = {"rare"};
      auto t = Steady::now();
      auto hits = db.vectors().searchVectors(r);
      lat.push_back(micros(Steady::now() - t));
      if (hits.size() < 10) ++shortResults;
      std::set<std::size_t> got;
      for (const auto& h : hits) {
        auto i = indexOf.at(h.subjectId);
        if (filtered && i % 100 != 0) ++outside;
        got.insert(i);
      }
      for (auto t2 : truth[qi]) found += got.contains(t2) ? 1 : 0;
    }
    const double total = seconds(Steady::now() - start);
    const std::string label = tag + (filtered ? " 1%-filtered" : " unfiltered");
    report(label + " recall@10", found / (10.0 * static_cast<double>(nq)), "");
    report(label + " queries/s", static_cast<double>(nq) / total, "q/s");
    report(label + " median latency", median(lat), "us");
    report(label + " queries/s at median latency", 1e6 / median(lat), "q/s");
    std::sort(lat.begin(), lat.end());
    report(label + " p90 latency", lat[lat.size() * 9 / 10], "us");
    report(label + " max latency", lat.back(), "us");
    report(label + " results < k", static_cast<double>(shortResults), "queries");
    report(label + " hits outside filter", static_cast<double>(outside), "hits");
  }
}

// Pseudo-words with a Zipf-like frequency: word w is drawn with weight 1 / (w + 1).
struct Vocabulary {
  std::vector<std::string> words;
  std::discrete_distribution<std::size_t> dist;
  explicit Vocabulary(std::size_t n) {
    static const char* syll[] = {"ka", "lo", "mi", "ra", "te", "zu", "po", "ne", "shi", "va", "dor", "gen", "bel", "tik"};
    std::vector<double> w;
    for (std::size_t i = 0; i < n; ++i) {
      std::string s;
      std::size_t x = i + 1;
      while (x) {
        s += syll[x % 14];
        x /= 14;
      }
      words.push_back(s);
      w.push_back(1.0 / static_cast<double>(i + 1));
    }
    dist = std::discrete_distribution<std::size_t>(w.begin(), w.end());
  }
  const std::string& draw(std::mt19937_64& rng) { return words[dist(rng)]; }
};


// 100k entities with text documents: loads them, then measures FTS medians in both modes.
struct Corpus {
  std::vector<Uuid> ids;
  std::vector<std::string> queries;
};

// `loaded` runs between the load and the queries (PostgreSQL: ANALYZE). The medians are over
// the first `measured` of the 1,000 queries (all of them by default).
Corpus textBench(storage::Backend& db, std::size_t n, const std::function<void()>& loaded = {},
                 std::size_t measured = 1'000) {
  std::mt19937_64 rng(42);
  Vocabulary vocab(20'000);
  Corpus c;
  auto t0 = Steady::now();
  std::vector<Entity> ents;
  std::vector<storage::TextDocument> docs;
  for (std::size_t i = 0; i < n; ++i) {
    Entity e;
    e.id = Uuid::v7();
    e.ns = "bench";
    e.kind = "concept";
    std::string name, body;
    for (int w = 0; w < 4; ++w) name += (w ? " " : "") + vocab.draw(rng);
    for (int w = 0; w < 40; ++w) body += (w ? " " : "") + vocab.draw(rng);
    e.name = name;
    e.description = body;
    c.ids.push_back(e.id);
    ents.push_back(e);
    if (ents.size() == 10'000 || i + 1 == n) {
      db.entities().upsertEntities(ents);
      for (const auto& x : ents) docs.push_back(retrieval::textDocumentOf(x));
      db.text().upsertDocuments(docs);
      ents.clear();
      docs.clear();
    }
  }
  fmt::print("\nFull-text search ({}) over {} documents (4-word titles, 40-word bodies, Zipf vocabulary of 20k "
             "words)\n",
             engine, n);
  report("load entities + text documents", seconds(Steady::now() - t0), "s");
  if (loaded) loaded();

  // Queries: 1-3 words, drawn uniformly from the 5,000 most frequent words (so they hit).
  std::uniform_int_distribution<std::size_t> common(0, 4'999);
  for (std::size_t i = 0; i < 1'000; ++i) {
    std::string q;
    const int words = 1 + static_cast<int>(i % 3);
    for (int w = 0; w < words; ++w) q += (w ? " " : "") + vocab.words[common(rng)];
    c.queries.push_back(q);
  }
  for (auto mode : {storage::TextMode::Plain, storage::TextMode::AnyTerm}) {
    std::vector<double> lat;
    std::size_t hitsTotal = 0;
    for (std::size_t qi = 0; qi < std::min(measured, c.queries.size()); ++qi) {
      const auto& q = c.queries[qi];
      storage::TextQuery tq;
      tq.text = q;
      tq.mode = mode;
      tq.namespaces = {"bench"};
      tq.topK = 10;
      auto t = Steady::now();
      hitsTotal += db.text().searchText(tq).size();
      lat.push_back(micros(Steady::now() - t));
    }
    const std::string m = mode == storage::TextMode::Plain ? "plain (AND)" : "any-term (OR)";
    report("FTS query median, " + m, median(lat), "us");
    report("FTS mean hits per query, " + m,
           static_cast<double>(hitsTotal) / static_cast<double>(std::min(measured, c.queries.size())), "hits");
  }
  return c;
}

// Hybrid (text any-term + 128-d vector, RRF, alive check) over the corpus's entities, whose
// d128 vectors vectorBench loaded.
void hybridBench(storage::Backend& db, const Corpus& corpus, const testing::ClusteredData& d128, std::size_t nq) {
  fmt::print("\nHybrid (text any-term + 128-d vector, RRF k=60, alive check) over {} entities\n", corpus.ids.size());
  retrieval::HybridSearch hybrid(db);
  std::vector<double> lat;
  for (std::size_t i = 0; i < std::min<std::size_t>(nq, corpus.queries.size()); ++i) {
    retrieval::HybridQuery q;
    q.text = corpus.queries[i];
    auto v = d128.query(i);
    q.vector.assign(v.begin(), v.end());
    q.vectorModel = "d128";
    q.namespaces = {"bench"};
    q.topK = 10;
    auto t = Steady::now();
    auto hits = hybrid.search(q);
    lat.push_back(micros(Steady::now() - t));
  }
  report("hybrid query median", median(lat), "us");
}

#ifdef KHIVE_BENCH_POSTGRES
// The measures of both engines side by side. Latencies (us) and load times (s): PostgreSQL /
// SQLite; rates (q/s): SQLite / PostgreSQL; so a ratio above 1 means PostgreSQL is slower.
const Row* find(const std::string& eng, const std::string& name) {
  for (const auto& r : results)
    if (r.engine == eng && r.name == name) return &r;
  return nullptr;
}

void printSideBySide(const std::string& pgEngine, const std::string& pgNote) {
  fmt::print("\n{:<52} {:>14} {:>18} {:>8}\n", "measure", "khive SQLite", "khive PostgreSQL", "ratio");
  for (const auto& r : results) {
    if (r.engine != "SQLite" || r.name == "total bench time") continue;
    const Row* pg = find(pgEngine, r.name);
    const bool timed = r.unit == "us" || r.unit == "s" || r.unit == "q/s";
    std::string pgCell = pg ? fmt::format("{:.4g} {}", pg->value, r.unit) : pgNote;
    std::string ratio = "-";
    if (pg && timed && r.value > 0 && pg->value > 0)
      ratio = fmt::format("{:.2f}x", r.unit == "q/s" ? r.value / pg->value : pg->value / r.value);
    fmt::print("{:<52} {:>14} {:>18} {:>8}\n", r.name, fmt::format("{:.4g} {}", r.value, r.unit), pgCell, ratio);
  }
}
#endif

void reverseDictionaryBench(const std::string& wordnet, const std::string& words, std::size_t nq, std::size_t offset) {
  auto t0 = Steady::now();
  auto synsets = bench::readWordnet(wordnet);
  auto wv = retrieval::WordVectors::open(words);
  backends::SqliteOptions o;
  o.path = freshFile("reverse");
  auto db = backends::openSqlite(o);
  auto ids = bench::loadReverseDictionary(*db, synsets, *wv, "static");
  auto queries = bench::reverseDictionaryQueries(synsets.size(), nq, offset);
  std::vector<std::vector<float>> qv;
  for (auto i : queries) qv.push_back(wv->sentenceVector(synsets[i].definition));
  fmt::print("\nReverse dictionary: {} WordNet synsets indexed by lemma names, {} definitions as queries "
             "(from {} of the seeded draw; static engine, {} words x {} dims, SIF fingerprint {})\n",
             synsets.size(), queries.size(), offset, wv->size(), wv->dims(), wv->fingerprint());
  report("load synsets, documents, vectors", seconds(Steady::now() - t0), "s");
  using retrieval::FusionOptions;
  using retrieval::FusionStrategy;
  struct Config {
    std::string name;
    FusionOptions options;
  };
  std::vector<Config> configs = {
      {"text only", {.strategy = FusionStrategy::TextOnly}},
      {"vector only", {.strategy = FusionStrategy::VectorOnly}},
      {"default fusion", FusionOptions{}},
  };
  for (double k : {10.0, 60.0})
    for (double vw : {1.0, 1.5, 2.0, 3.0})
      configs.push_back({fmt::format("rrf k={} text 1 vector {}", k, vw),
                         {.strategy = FusionStrategy::Rrf, .rrfK = k, .textWeight = 1, .vectorWeight = vw}});
  for (auto strategy : {FusionStrategy::Relative, FusionStrategy::Distribution, FusionStrategy::Weighted})
    for (double tw : {0.2, 0.35, 0.5})
      configs.push_back({fmt::format("{} text {} vector {}", retrieval::fusionStrategyName(strategy), tw, 1 - tw),
                         {.strategy = strategy, .textWeight = tw, .vectorWeight = 1 - tw}});
  for (const auto& c : configs) {
    auto q = bench::measureReverseDictionary(*db, synsets, ids, queries, qv, "static", c.options);
    report("recall@10, " + c.name, q.recallAt10, "");
    report("MRR@10, " + c.name, q.mrr, "");
    report("query median, " + c.name, q.medianMicros, "us");
  }
}

// Hybrid searches (query embedded by the static engine, text + vector, default fusion, alive
// check) one after another in one process over a database such as scripts/demo.sh's (WordNet
// reindexed with the static engine under `model`); the queries are the first lemma names of a
// fixed sample of synsets ("domestic dog"-like, 1-3 words). The first search loads the index.
void steadyHybridBench(const std::string& dbPath, const std::string& words, const std::string& model,
                       const std::string& wordnet, std::size_t nq) {
  auto synsets = bench::readWordnet(wordnet);
  auto queries = bench::reverseDictionaryQueries(synsets.size(), nq);
  backends::SqliteOptions o;
  o.path = dbPath;
  auto db = backends::openSqlite(o);
  auto wv = retrieval::WordVectors::open(words);
  retrieval::HybridSearch search(*db);
  std::vector<double> lat;
  std::vector<std::string> namespaces = {"default"};
  for (std::size_t i = 0; i < queries.size(); ++i) {
    std::string text = synsets[queries[i]].name.substr(0, synsets[queries[i]].name.find(','));
    const auto t0 = Steady::now();
    retrieval::HybridQuery h;
    h.text = text;
    h.namespaces = namespaces;
    h.vector = wv->sentenceVector(text);
    h.vectorModel = model;
    auto hits = search.search(h);
    lat.push_back(micros(Steady::now() - t0));
    if (i == 0) report("first hybrid search (loads the index file)", lat[0] / 1000, "ms");
  }
  lat.erase(lat.begin());
  fmt::print("\nSteady-state hybrid search over {} ({} queries of 1-3 words, embedding included)\n", dbPath,
             lat.size());
  report("hybrid query median", median(lat) / 1000, "ms");
  std::sort(lat.begin(), lat.end());
  report("hybrid query p90", lat[lat.size() * 9 / 10] / 1000, "ms");
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t n = 100'000, nq = 500, offset = 0;
  std::string outDir = "bench/results";
  std::string only;  // "", "d128" or "d384": run just that vector section (for profiling)
  std::string wordnet = "/usr/share/wordnet", words, dbPath, model = "glove";
  [[maybe_unused]] std::string pgUrl, pgliteUrl;  // PostgreSQL builds only
  [[maybe_unused]] std::size_t pgliteN = 5'000;
  // PostgreSQL's BM25 recomputes corpus statistics per query (0.3-1.5 s each at 100k
  // documents): its medians are over the first queries of the same list.
  [[maybe_unused]] std::size_t pgTextQueries = 100;
#ifdef KHIVE_BENCH_POSTGRES
  pgUrl = bench::pgUrlFromArgs(argc, argv);
  if (const char* v = std::getenv("KHIVE_PGLITE_URL")) pgliteUrl = v;
#endif
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--no-pglite") {
      pgliteUrl.clear();
      continue;
    }
    if (i + 1 >= argc) break;
    if (a == "--n") n = std::stoul(argv[i + 1]);
    if (a == "--queries") nq = std::stoul(argv[i + 1]);
    if (a == "--offset") offset = std::stoul(argv[i + 1]);
    if (a == "--out") outDir = argv[i + 1];
    if (a == "--only") only = argv[i + 1];
    if (a == "--wordnet") wordnet = argv[i + 1];
    if (a == "--words") words = argv[i + 1];
    if (a == "--db") dbPath = argv[i + 1];
    if (a == "--model") model = argv[i + 1];
    if (a == "--pglite-n") pgliteN = std::stoul(argv[i + 1]);
    if (a == "--pg-text-queries") pgTextQueries = std::stoul(argv[i + 1]);
    ++i;
  }
  omp_set_num_threads(1);
  const auto benchStart = Steady::now();
  fmt::print("khive retrieval bench: n={} queries={} (SQLite file, queries single-threaded)\n", n, nq);

  if (only == "reverse") {
    if (words.empty()) {
      fmt::print(stderr, "retrieval_bench: --only reverse needs --words FILE (scripts/static-model.sh prints it)\n");
      return 2;
    }
    reverseDictionaryBench(wordnet, words, nq == 500 ? 1'000 : nq, offset);
  }
  if (only == "steady") {  // hybrid search latency in one process over an existing database
    if (words.empty() || dbPath.empty()) {
      fmt::print(stderr, "retrieval_bench: --only steady needs --db FILE --words FILE [--model NAME]\n");
      return 2;
    }
    steadyHybridBench(dbPath, words, model, wordnet, nq == 500 ? 1'000 : nq);
  }
  if (only == "sif-sweep") {  // vector-only recall of SIF variants, exact, in memory
    auto synsets = bench::readWordnet(wordnet);
    auto wv = retrieval::WordVectors::open(words);
    bench::sweepSif(synsets, *wv, bench::reverseDictionaryQueries(synsets.size(), nq == 500 ? 1'000 : nq, offset));
  }
  // --- 100k entities with text documents and 128-d vectors: FTS, vectors, hybrid ---------------
  if (only == "d128") {
    backends::SqliteOptions o;
    o.path = freshFile("main");
    auto db = backends::openSqlite(o);
    std::vector<Uuid> ids;
    for (std::size_t i = 0; i < n; ++i) ids.push_back(Uuid::v7());
    vectorBench(*db, testing::makeClustered(n, nq, 128, 100, 128), ids, nq, "d128");
  }
  if (only == "text") {  // full-text only (every engine), no vectors on SQLite
    backends::SqliteOptions o;
    o.path = freshFile("main");
    auto db = backends::openSqlite(o);
    textBench(*db, n);
  }
  if (only.empty()) {
    backends::SqliteOptions o;
    o.path = freshFile("main");
    auto db = backends::openSqlite(o);
    auto corpus = textBench(*db, n);
    fmt::print("\nDense vectors 100k x 128 (clustered, 100 clusters, seed 128)\n");
    auto d128 = testing::makeClustered(n, nq, 128, 100, 128);
    vectorBench(*db, d128, corpus.ids, nq, "d128");
    hybridBench(*db, corpus, d128, nq);
  }

  // --- 100k x 384 ------------------------------------------------------------------------------
  if (only.empty() || only == "d384") {
    backends::SqliteOptions o;
    o.path = freshFile("d384");
    auto db = backends::openSqlite(o);
    fmt::print("\nDense vectors 100k x 384 (clustered, 100 clusters, seed 384)\n");
    auto d384 = testing::makeClustered(n, nq, 384, 100, 384);
    std::vector<Uuid> ids;
    for (std::size_t i = 0; i < n; ++i) ids.push_back(Uuid::v7());
    vectorBench(*db, d384, ids, nq, "d384");
  }

#ifdef KHIVE_BENCH_POSTGRES
  // --- the same corpus and queries on PostgreSQL ----------------------------------------------
  std::string pgNote = "-";
  if (!pgUrl.empty() && (only.empty() || only == "text")) {
    engine = "PostgreSQL";
    try {
      bench::PgSchema schema(pgUrl, "retrievalbench");  // dropped when this block ends
      auto db = schema.open();
      auto corpus = textBench(*db, n, [&] { schema.analyze({"entities", "text_documents"}); }, pgTextQueries);
      const bool vectors = schema.hasPgvector();
      if (!vectors) {
        pgNote = "n/a (no pgvector)";
        fmt::print("\nvectors and hybrid on PostgreSQL: n/a (no pgvector on this server)\n");
      } else if (only.empty()) {
        fmt::print("\nDense vectors 100k x 128 on PostgreSQL (pgvector HNSW)\n");
        auto d128 = testing::makeClustered(n, nq, 128, 100, 128);
        vectorBench(*db, d128, corpus.ids, nq, "d128");
        hybridBench(*db, corpus, d128, nq);
      }
    } catch (const std::exception& e) {
      fmt::print(stderr, "retrieval_bench: PostgreSQL run failed: {}\n", e.what());
    }
  }
  // --- vectors on PGlite, small: correctness (recall, filters), not speed ------------------
  if (!pgliteUrl.empty() && (only.empty() || only == "text")) {
    engine = "PGlite";
    try {
      bench::PgSchema schema(pgliteUrl, "retrievalbench");
      auto db = schema.open();
      const std::size_t q = std::min<std::size_t>(nq, 50);
      fmt::print("\nDense vectors {} x 128 on PGlite (pgvector in WASM): correctness only, not speed\n", pgliteN);
      std::vector<Uuid> ids;
      for (std::size_t i = 0; i < pgliteN; ++i) ids.push_back(Uuid::v7());
      vectorBench(*db, testing::makeClustered(pgliteN, q, 128, 100, 128), ids, q, "d128");
    } catch (const std::exception& e) {
      fmt::print(stderr, "retrieval_bench: PGlite run failed: {}\n", e.what());
    }
  }
  engine = "SQLite";
  if (!pgUrl.empty() && (only.empty() || only == "text")) printSideBySide("PostgreSQL", pgNote);
#endif

  report("total bench time", seconds(Steady::now() - benchStart), "s");
  std::filesystem::create_directories(outDir);
  std::ofstream csv(std::filesystem::path(outDir) / "retrieval_bench.csv");
  csv << "engine,measure,value,unit\n";
  for (const auto& r : results) csv << r.engine << ",\"" << r.name << "\"," << r.value << ',' << r.unit << '\n';
  fmt::print("\nwrote {}/retrieval_bench.csv\n", outDir);
  std::filesystem::remove_all(tempDir());
  return 0;
}
