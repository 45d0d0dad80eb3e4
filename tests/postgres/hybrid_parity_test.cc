// Hybrid search parity: the same seeded corpus (topical text + clustered vectors) loaded into
// SQLite and into a PostgreSQL backend; every query's RRF top-10 is compared and the average
// overlap printed. On PGlite both signals run (pgvector); on native PostgreSQL 15 (no
// pgvector) the text signal alone is compared, since SQLite then fuses the same single stream.

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <random>
#include <set>

#include "clustered_data.h"
#include "khive/retrieval/hybrid_search.h"
#include "khive/storage/backend.h"
#include "support/test_backends.h"

namespace khive::testing {
namespace {

const BackendCase& sqliteCase() {
  for (const auto& c : backendCases()) {
    if (c.name == "sqlite_file") return c;
  }
  throw std::logic_error("no sqlite_file case");
}

// A deterministic vocabulary: pronounceable words from syllables ("kalo", "mirute", ...).
std::vector<std::string> vocabulary(std::size_t n) {
  static const char* syl[] = {"ka", "lo", "mi", "ru", "te", "san", "vor", "pel", "di", "no", "qua", "zen", "bri", "tos"};
  std::vector<std::string> out;
  std::set<std::string> seen;
  std::mt19937_64 rng(7);
  while (out.size() < n) {
    std::string w;
    const int parts = 2 + static_cast<int>(rng() % 2);
    for (int i = 0; i < parts; ++i) w += syl[rng() % std::size(syl)];
    if (seen.insert(w).second) out.push_back(w);
  }
  return out;
}

class HybridParity : public ::testing::TestWithParam<BackendCase> {};

TEST_P(HybridParity, TopTenOverlapsSqlite) {
  KHIVE_SKIP_UNAVAILABLE_BACKEND(GetParam());
  const bool vectors = GetParam().hasVectors;
  constexpr std::size_t kDocs = 400, kQueries = 40;
  constexpr int kDims = 16, kClusters = 8;
  auto data = makeClustered(kDocs, kQueries, kDims, kClusters, 42);
  const auto words = vocabulary(240);
  // Each cluster has its own 30 topical words; documents mix them with common words (Zipf-ish).
  std::mt19937_64 rng(11);
  auto topical = [&](int cluster) { return words[static_cast<std::size_t>(cluster) * 30 + rng() % 30]; };
  auto common = [&] { return words[kClusters * 30 - 1 - static_cast<std::size_t>(std::sqrt(rng() % 400))]; };

  auto sqlite = sqliteCase().make();
  auto pg = GetParam().make();
  std::vector<Entity> entities;
  std::vector<storage::TextDocument> docs;
  std::vector<storage::VectorRecord> vecs;
  for (std::size_t i = 0; i < kDocs; ++i) {
    Entity e;
    e.id = Uuid::v7();
    e.ns = "ns1";
    e.kind = "concept";
    e.name = topical(data.clusterOf[i]) + " " + topical(data.clusterOf[i]);
    std::string body;
    const int len = 8 + static_cast<int>(rng() % 30);
    for (int k = 0; k < len; ++k) body += (rng() % 3 ? common() : topical(data.clusterOf[i])) + " ";
    e.description = body;
    entities.push_back(e);
    docs.push_back(retrieval::textDocumentOf(e));
    storage::VectorRecord r;
    r.subjectId = e.id;
    r.ns = "ns1";
    r.kind = "concept";
    r.model = "m";
    auto p = data.point(i);
    r.values.assign(p.begin(), p.end());
    vecs.push_back(r);
  }
  for (auto* db : {sqlite.get(), pg.get()}) {
    db->entities().upsertEntities(entities);
    db->text().upsertDocuments(docs);
    if (vectors) db->vectors().insertVectors(vecs);
  }

  retrieval::HybridSearch onSqlite(*sqlite), onPg(*pg);
  double sum = 0;
  int full = 0;
  for (std::size_t q = 0; q < kQueries; ++q) {
    retrieval::HybridQuery hq;
    const int cluster = static_cast<int>(rng() % kClusters);
    hq.text = topical(cluster) + " " + topical(cluster) + " " + common();
    if (vectors) {
      auto v = data.query(q);
      hq.vector.assign(v.begin(), v.end());
      hq.vectorModel = "m";
    }
    hq.namespaces = {"ns1"};
    hq.topK = 10;
    auto a = onSqlite.search(hq);
    auto b = onPg.search(hq);
    std::set<Uuid> sa, sb;
    for (const auto& h : a) sa.insert(h.subjectId);
    for (const auto& h : b) sb.insert(h.subjectId);
    std::size_t common_ = 0;
    for (const auto& id : sa) common_ += sb.count(id);
    const double overlap = sa.empty() && sb.empty() ? 1.0
                                                    : static_cast<double>(common_) /
                                                          static_cast<double>(std::max(sa.size(), sb.size()));
    sum += overlap;
    full += overlap == 1.0;
  }
  const double avg = sum / kQueries;
  std::printf("[ hybrid parity ] %s vs sqlite_file: average top-10 overlap %.3f over %zu queries (%d identical sets; "
              "signals: text%s)\n",
              GetParam().name.c_str(), avg, kQueries, full, vectors ? " + vector" : " only");
  RecordProperty("top10_overlap", fmt::format("{:.3f}", avg));
  EXPECT_GE(avg, 0.8);
}

INSTANTIATE_TEST_SUITE_P(Postgres, HybridParity, ::testing::ValuesIn(postgresCases()), BackendCaseName());

}  // namespace
}  // namespace khive::testing
