// The built-in static engine (SIF over word vectors, khive/retrieval/word_vectors.h) and vectors
// in export/import, end to end on in-memory SQLite. The word vectors are small files written
// here in the GloVe text format and converted into the binary form.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "khive/core/error.h"
#include "khive/retrieval/word_vectors.h"
#include "khive/runtime/backend_factory.h"
#include "khive/runtime/config.h"
#include "khive/runtime/runtime.h"
#include "engine_test_support.h"
#include "khive/runtime/transfer.h"

using namespace khive;
using namespace khive::runtime;
namespace fs = std::filesystem;

namespace {

fs::path workDir() {
  auto dir = fs::temp_directory_path() / fmt::format("khive-static-{}", ::getpid());
  fs::create_directories(dir);
  return dir;
}

// Eight words in two topics (dogs, boats) plus function words, most frequent first, 4-d.
fs::path wordsFile(const std::string& name = "words.txt", int dims = 4) {
  const auto path = workDir() / name;
  std::ofstream out(path);
  const char* lines[] = {
      "the 0.5 0.5 0.5 0.5",    "a 0.4 0.5 0.6 0.5",      "of 0.5 0.4 0.5 0.6",     "dog 1 0.1 0 0.05",
      "boat 0 0.05 1 0.1",      "puppy 0.9 0.2 0.05 0",   "canine 0.95 0 0.1 0.1",  "sloop 0.05 0.1 0.95 0",
      "vessel 0.1 0 0.9 0.2",   "leash 0.8 0.3 0.1 0.1",
  };
  for (const char* l : lines) {
    std::istringstream in(l);
    std::string word;
    in >> word;
    out << word;
    for (int d = 0; d < dims; ++d) {
      double v = 0.01 * d;
      if (!(in >> v)) v = 0.01 * d;
      out << ' ' << v;
    }
    out << '\n';
  }
  return path;
}

fs::path binaryOf(const fs::path& text, const retrieval::SifParams& sif = {}) {
  auto out = text;
  out.replace_extension(".kwv");
  retrieval::WordVectors::convert(text.string(), out.string(), sif);
  return out;
}

std::string staticEngine(const fs::path& path, const std::string& name = "glove") {
  return fmt::format("[[engines]]\nname = \"{}\"\nkind = \"static\"\npath = \"{}\"\n", name, path.string());
}

using khive::testing::errorOf;
using khive::testing::runtimeWith;

TEST(WordVectors, TextAndBinaryFormsGiveTheSameSifVectors) {
  const auto text = wordsFile();
  auto t = retrieval::WordVectors::open(text.string());
  auto b = retrieval::WordVectors::open(binaryOf(text).string());
  EXPECT_EQ(t->size(), 10u);
  EXPECT_EQ(b->size(), 10u);
  EXPECT_EQ(b->dims(), 4);
  EXPECT_EQ(b->rank("dog"), 3);
  EXPECT_EQ(b->rank("cat"), -1);
  for (const char* s : {"the dog", "A Puppy on a leash!", "boat-vessel", "unknown words only", ""})
    EXPECT_EQ(t->sentenceVector(s), b->sentenceVector(s)) << s;
  EXPECT_EQ(std::vector<float>(t->components().begin(), t->components().end()),
            std::vector<float>(b->components().begin(), b->components().end()));
  EXPECT_EQ(t->sif(), b->sif());
  EXPECT_EQ(t->fingerprint(), b->fingerprint());
  EXPECT_EQ(b->fingerprint().size(), 16u);
}

TEST(WordVectors, SifWeightsByZipfRankAndRemovesTheCommonComponent) {
  auto wv = retrieval::WordVectors::open(binaryOf(wordsFile()).string());
  // The defaults: p(rank r) = 1 / ((r + 1) H_10); 4 dimensions keep one component (dims / 4).
  EXPECT_EQ(wv->sif().zipfOffset, 0);
  EXPECT_EQ(wv->sif().zipfExponent, 1);
  EXPECT_EQ(wv->sif().components, 1);
  double h = 0;
  for (int r = 1; r <= 10; ++r) h += 1.0 / r;
  EXPECT_NEAR(wv->probability(0), 1 / h, 1e-15);
  EXPECT_NEAR(wv->probability(3), 1 / (4 * h), 1e-15);
  // One known word: c v minus its projection on u, c = a / (a + p).
  const auto u = wv->components();
  ASSERT_EQ(u.size(), 4u);
  double un = 0;
  for (float x : u) un += x * x;
  EXPECT_NEAR(un, 1.0, 1e-6);
  const double c = wv->sif().a / (wv->sif().a + wv->probability(3));
  std::vector<double> expect(4);
  double proj = 0;
  for (int i = 0; i < 4; ++i) proj += c * wv->vector(3)[i] * u[i];
  for (int i = 0; i < 4; ++i) expect[i] = c * wv->vector(3)[i] - proj * u[i];
  auto got = wv->sentenceVector("DOG");
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(got[i], expect[i], 1e-6);
  // The frequent word weighs much less than the rare one in the average.
  EXPECT_EQ(wv->sentenceVector("the dog", wv->variant(wv->sif(), true)), wv->sentenceVector("the dog"));
  const auto plain = wv->variant(wv->sif(), false);
  auto the = wv->sentenceVector("the", plain);
  auto dog = wv->sentenceVector("dog", plain);
  auto norm = [](const std::vector<float>& v) {
    double s = 0;
    for (float x : v) s += x * x;
    return std::sqrt(s);
  };
  EXPECT_LT(norm(the) * 3, norm(dog));
  // Unknown words get a fixed non-zero vector; no token at all gives zeros.
  EXPECT_EQ(wv->sentenceVector("zyzzyva"), wv->sentenceVector("Zyzzyva"));
  EXPECT_GT(norm(wv->sentenceVector("zyzzyva")), 0);
  EXPECT_EQ(norm(wv->sentenceVector(" ,;! ")), 0);
  EXPECT_EQ(retrieval::WordVectors::tokens("Multi-agent systems, O'Reilly 2"),
            (std::vector<std::string>{"multi", "agent", "systems", "o", "reilly", "2"}));
}

// Five words in 8 dimensions: the components are checked against the second moment of the SIF
// vectors of every possible 3-word sentence, weighted by its probability, and that matrix's
// eigenvectors found by power iteration with deflation.
TEST(WordVectors, CommonComponentsMatchABruteForceOverAllSentences) {
  const auto path = workDir() / "five.txt";
  {
    std::ofstream out(path);
    out << "the 0.9 0.8 0.7 0.9 0.8 0.75 0.85 0.9\n"
           "of 0.7 0.9 0.8 0.6 0.9 0.8 0.7 0.8\n"
           "dog 1.0 -0.2 0.1 0.3 -0.5 0.2 0.0 0.4\n"
           "boat -0.3 0.9 -0.6 0.2 0.1 -0.4 0.7 0.0\n"
           "leash 0.2 0.1 0.9 -0.7 0.3 0.5 -0.2 -0.6\n";
  }
  const retrieval::SifParams p{.a = 0.05, .zipfOffset = 1.5, .zipfExponent = 1.3, .sentenceLength = 3, .components = 2};
  auto wv = retrieval::WordVectors::open(binaryOf(path, p).string());
  EXPECT_EQ(wv->sif(), p);
  const int n = 5, d = 8, l = 3;
  // p(r) = (r + q)^-s / Z for the 1-based rank.
  std::vector<double> prob(n);
  double z = 0;
  for (int r = 0; r < n; ++r) z += prob[r] = std::pow(r + 1 + 1.5, -1.3);
  for (int r = 0; r < n; ++r) {
    prob[r] /= z;
    EXPECT_NEAR(wv->probability(r), prob[r], 1e-12) << r;
  }
  std::vector<double> m2(d * d, 0.0);
  for (int s = 0; s < n * n * n; ++s) {
    const int w[l] = {s % n, s / n % n, s / (n * n)};
    double ps = 1;
    std::vector<double> v(d, 0.0);
    for (int t : w) {
      ps *= prob[t];
      const double c = p.a / (p.a + prob[t]);
      for (int j = 0; j < d; ++j) v[j] += c * wv->vector(t)[j] / l;
    }
    for (int i = 0; i < d; ++i)
      for (int j = 0; j < d; ++j) m2[i * d + j] += ps * v[i] * v[j];
  }
  const auto got = wv->components();
  ASSERT_EQ(got.size(), 2u * d);
  for (int k = 0; k < 2; ++k) {
    std::vector<double> u(d, 1.0), next(d);
    for (int it = 0; it < 20000; ++it) {
      double norm = 0;
      for (int i = 0; i < d; ++i) {
        next[i] = 0;
        for (int j = 0; j < d; ++j) next[i] += m2[i * d + j] * u[j];
        norm += next[i] * next[i];
      }
      for (int i = 0; i < d; ++i) u[i] = next[i] / std::sqrt(norm);
    }
    double lambda = 0, dot = 0;
    for (int i = 0; i < d; ++i) {
      for (int j = 0; j < d; ++j) lambda += u[i] * m2[i * d + j] * u[j];
      dot += u[i] * got[k * d + i];
    }
    EXPECT_NEAR(std::abs(dot), 1.0, 1e-5) << "component " << k;
    for (int i = 0; i < d; ++i)
      for (int j = 0; j < d; ++j) m2[i * d + j] -= lambda * u[i] * u[j];  // deflate
  }
  // A sentence vector keeps nothing along either component.
  auto v = wv->sentenceVector("the dog on a leash");
  for (int k = 0; k < 2; ++k) {
    double dot = 0;
    for (int i = 0; i < d; ++i) dot += v[i] * got[k * d + i];
    EXPECT_NEAR(dot, 0, 1e-6);
  }
  // Other parameters give other components and another fingerprint.
  auto plain = retrieval::WordVectors::open(binaryOf(path).string());
  EXPECT_EQ(plain->sif(), (retrieval::SifParams{.components = 2}));
  EXPECT_NE(plain->fingerprint(), wv->fingerprint());
  EXPECT_NE(plain->sentenceVector("the dog"), wv->sentenceVector("the dog"));
}

TEST(WordVectors, BadFilesFailNamingTheLineOrTheDamage) {
  const auto dir = workDir();
  {
    std::ofstream(dir / "bad.txt") << "2 3\nthe 1 2 3\ndog 1 2\n";
  }
  auto e = errorOf([&] { retrieval::WordVectors::open((dir / "bad.txt").string()); });
  EXPECT_EQ(e.code(), ErrorCode::InvalidInput);
  EXPECT_NE(e.message().find("line 3"), std::string::npos) << e.message();
  {
    std::ofstream(dir / "nan.txt") << "the 1 x 3\n";
  }
  e = errorOf([&] { retrieval::WordVectors::open((dir / "nan.txt").string()); });
  EXPECT_NE(e.message().find("line 1: 'x' is not a number"), std::string::npos) << e.message();
  const auto bin = binaryOf(wordsFile());
  fs::resize_file(bin, fs::file_size(bin) - 7);
  e = errorOf([&] { retrieval::WordVectors::open(bin.string()); });
  EXPECT_NE(e.message().find("damaged or truncated"), std::string::npos) << e.message();
  e = errorOf([&] { retrieval::WordVectors::open((dir / "none.kwv").string()); });
  EXPECT_EQ(e.code(), ErrorCode::NotFound);
  // The binary form of an older version: convert again.
  {
    std::ofstream old(dir / "old.kwv", std::ios::binary);
    old << "KHWVEC01" << std::string(120, '\0');
  }
  e = errorOf([&] { retrieval::WordVectors::open((dir / "old.kwv").string()); });
  EXPECT_EQ(e.code(), ErrorCode::InvalidInput);
  EXPECT_NE(e.message().find("another version (KHWVEC01"), std::string::npos) << e.message();
  EXPECT_NE(e.message().find("scripts/static-model.sh"), std::string::npos) << e.message();
  // A header whose parameters were changed no longer matches its fingerprint.
  const auto edited = binaryOf(wordsFile());
  {
    std::fstream f(edited, std::ios::binary | std::ios::in | std::ios::out);
    const double a = 0.5;
    f.seekp(40);  // the header's a
    f.write(reinterpret_cast<const char*>(&a), sizeof a);
  }
  e = errorOf([&] { retrieval::WordVectors::open(edited.string()); });
  EXPECT_NE(e.message().find("is damaged"), std::string::npos) << e.message();
  e = errorOf([&] { retrieval::WordVectors::parseText(wordsFile().string(), {.a = 0}); });
  EXPECT_EQ(e.code(), ErrorCode::InvalidInput);
  EXPECT_NE(e.message().find("SIF parameters out of range (a 0 > 0"), std::string::npos) << e.message();
}

TEST(SearchConfig, FusionSettingsAreParsedAndCheckedByKeyAndLine) {
  auto c = parseConfig("[search]\nfusion = \"distribution\"\ntext_weight = 0.25\nvector_weight = 2\nrrf_k = 10\n");
  EXPECT_EQ(c.fusion.strategy, retrieval::FusionStrategy::Distribution);
  EXPECT_DOUBLE_EQ(c.fusion.textWeight, 0.25);
  EXPECT_DOUBLE_EQ(c.fusion.vectorWeight, 2);
  EXPECT_DOUBLE_EQ(c.fusion.rrfK, 10);
  EXPECT_EQ(parseConfig("").fusion.strategy, retrieval::FusionStrategy::Rrf);
  auto msg = [](const std::string& toml) { return errorOf([&] { parseConfig(toml, "k.toml"); }).message(); };
  EXPECT_EQ(msg("[search]\nfusion = \"text\"\n"),
            "k.toml:2: 'search.fusion' must be \"rrf\", \"relative\", \"distribution\" or \"weighted\", not \"text\"");
  EXPECT_EQ(msg("[search]\nrrf_k = 0\n"), "k.toml:2: 'search.rrf_k' must be a number > 0");
  EXPECT_EQ(msg("[search]\ntext_weight = -1\n"), "k.toml:2: 'search.text_weight' must be a number >= 0");
  EXPECT_NE(msg("[search]\nk = 1\n").find("k"), std::string::npos);
}

TEST(StaticEngine, ReindexThenHybridSearchFindsBySynonyms) {
  auto rt = runtimeWith(staticEngine(binaryOf(wordsFile())));
  auto rex = rt->createEntity({.kind = "concept", .name = "Rex", .description = "a canine"});
  rt->createEntity({.kind = "concept", .name = "Sloop", .description = "a vessel"});
  // embed_on_write: both have vectors already; reindex replaces them.
  EXPECT_EQ(rt->backend().vectors().countVectors("glove", rt->readNamespaces()), 2);
  auto s = rt->reindex({});
  EXPECT_EQ(s.dimensions, 4);
  EXPECT_EQ(s.entities, 2);
  auto res = rt->search({.text = "puppy leash"});  // words in no record: only vectors can answer
  EXPECT_EQ(res.mode, "hybrid");
  ASSERT_FALSE(res.hits.empty());
  EXPECT_EQ(res.hits[0].subjectId, rex.id);
  EXPECT_EQ(res.hits[0].signals.vector, 1);
  EXPECT_FALSE(res.hits[0].signals.text);

  auto missing = runtimeWith(staticEngine(workDir() / "missing.kwv"));
  auto e = errorOf([&] { missing->reindex({}); });
  EXPECT_EQ(e.code(), ErrorCode::NotFound);
  EXPECT_NE(e.message().find("scripts/static-model.sh"), std::string::npos) << e.message();
}

// Vectors written with one word file and read through another (here: the same words with
// other SIF parameters, under the same engine name) are found by doctor's sample, and a
// reindex makes them agree again.
TEST(StaticEngine, DoctorFindsVectorsWrittenWithOtherSifParameters) {
  const auto db = workDir() / "stale.db";
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db.string() + suffix);
  const auto before = binaryOf(wordsFile());
  const auto after = binaryOf(wordsFile("other.txt"), {.a = 0.3});
  auto open = [&](const fs::path& words) {
    return std::make_unique<Runtime>(openBackendUrl("sqlite://" + db.string(), {"*"}),
                                     RuntimeOptions{parseConfig(staticEngine(words)), std::nullopt, std::nullopt});
  };
  {
    auto rt = open(before);
    rt->createEntity({.kind = "concept", .name = "Rex", .description = "a canine"});
    rt->createEntity({.kind = "concept", .name = "Sloop", .description = "a vessel"});
    auto doc = rt->doctor();
    EXPECT_EQ(doc["engines"][0]["stale_sample"], (Json{{"compared", 2}, {"differ", 0}})) << doc.dump();
    EXPECT_EQ(doc["problems"], Json::array()) << doc.dump();
  }
  auto rt = open(after);
  auto doc = rt->doctor();
  EXPECT_EQ(doc["engines"][0]["stale_sample"], (Json{{"compared", 2}, {"differ", 2}})) << doc.dump();
  ASSERT_EQ(doc["problems"].size(), 1u) << doc.dump();
  EXPECT_NE(doc["problems"][0].get<std::string>().find("for 2 of 2 sampled records"), std::string::npos);
  EXPECT_NE(doc["problems"][0].get<std::string>().find("run `khive reindex --engine glove`"), std::string::npos);
  rt->reindex({});
  EXPECT_EQ(rt->doctor()["engines"][0]["stale_sample"]["differ"], 0);
}

TEST(VectorTransfer, ExportImportRoundTripKeepsVectorsWithoutReindex) {
  const auto words = binaryOf(wordsFile());
  auto a = runtimeWith(staticEngine(words));
  auto rex = a->createEntity({.kind = "concept", .name = "Rex", .description = "a canine"});
  a->createEntity({.kind = "concept", .name = "Sloop", .description = "a vessel"});
  a->createNote({.kind = "observation", .content = "the puppy pulls on its leash"});
  std::stringstream file;
  auto out = exportJsonl(*a, file);
  EXPECT_EQ(out.vectors, 3);
  EXPECT_NE(file.str().find("\"vectors\":[{\"dims\":4,\"engine\":\"glove\",\"values\":["), std::string::npos)
      << file.str();

  auto b = runtimeWith(staticEngine(words));
  auto in = importJsonl(*b, file);
  EXPECT_EQ(in.vectors, 3);
  std::vector<Uuid> ids = {rex.id};
  auto before = a->backend().vectors().vectorsOf(ids);
  auto after = b->backend().vectors().vectorsOf(ids);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].values, before[0].values) << "the values come back bit for bit";
  auto res = b->search({.text = "puppy"});
  EXPECT_EQ(res.mode, "hybrid");
  ASSERT_FALSE(res.hits.empty());
  EXPECT_TRUE(res.hits[0].signals.vector.has_value());

  // Without vectors on request.
  std::stringstream plain;
  exportJsonl(*a, plain, {.withVectors = false});
  EXPECT_EQ(plain.str().find("\"vectors\""), std::string::npos);
}

TEST(VectorTransfer, EngineOrDimensionMismatchIsAnErrorNamingTheLine) {
  auto a = runtimeWith(staticEngine(binaryOf(wordsFile())));
  a->createEntity({.kind = "concept", .name = "Rex", .description = "a canine"});
  a->createEntity({.kind = "concept", .name = "Sloop", .description = "a vessel"});
  std::stringstream file;
  exportJsonl(*a, file);
  const std::string text = file.str();

  auto import = [&](Runtime& rt, const std::string& jsonl) {
    std::istringstream in(jsonl);
    return errorOf([&] { importJsonl(rt, in); });
  };
  // Another dimension under the same engine name.
  auto other = runtimeWith(staticEngine(binaryOf(wordsFile("words3.txt", 3))));
  auto e = import(*other, text);
  EXPECT_EQ(e.code(), ErrorCode::InvalidInput);
  EXPECT_NE(e.message().find("line 1: a 4-dimensional vector of engine 'glove', which gives 3 dimensions"),
            std::string::npos)
      << e.message();
  EXPECT_EQ(other->backend().vectors().countVectors("glove", other->readNamespaces()), 0);
  // An engine that is not configured.
  auto unnamed = runtimeWith(staticEngine(binaryOf(wordsFile()), "other"));
  e = import(*unnamed, text);
  EXPECT_NE(e.message().find("line 1: vectors of engine 'glove', which is not configured (configured: other)"),
            std::string::npos)
      << e.message();
  // A malformed field: dims and values disagree, on the second line.
  auto fresh = runtimeWith(staticEngine(binaryOf(wordsFile())));
  const auto second = text.find('\n') + 1;
  std::string broken = text.substr(0, second) +
                       R"({"type":"entity","kind":"concept","name":"X","vectors":[{"engine":"glove","dims":4,"values":[1,2]}]})" +
                       "\n";
  e = import(*fresh, broken);
  EXPECT_NE(e.message().find("line 2: vectors[0] says dims 4 but has 2 values"), std::string::npos) << e.message();
}

}  // namespace
