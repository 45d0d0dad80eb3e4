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

fs::path binaryOf(const fs::path& text) {
  auto out = text;
  out.replace_extension(".kwv");
  retrieval::WordVectors::convert(text.string(), out.string());
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
  EXPECT_EQ(std::vector<float>(t->commonComponent().begin(), t->commonComponent().end()),
            std::vector<float>(b->commonComponent().begin(), b->commonComponent().end()));
}

TEST(WordVectors, SifWeightsByZipfRankAndRemovesTheCommonComponent) {
  auto wv = retrieval::WordVectors::open(binaryOf(wordsFile()).string());
  // p(rank r) = 1 / ((r + 1) H_10).
  double h = 0;
  for (int r = 1; r <= 10; ++r) h += 1.0 / r;
  EXPECT_DOUBLE_EQ(wv->probability(0), 1 / h);
  EXPECT_DOUBLE_EQ(wv->probability(3), 1 / (4 * h));
  // One known word: c v minus its projection on u, c = a / (a + p).
  const auto u = wv->commonComponent();
  double un = 0;
  for (float x : u) un += x * x;
  EXPECT_NEAR(un, 1.0, 1e-6);
  const double c = retrieval::kSifA / (retrieval::kSifA + wv->probability(3));
  std::vector<double> expect(4);
  double proj = 0;
  for (int i = 0; i < 4; ++i) proj += c * wv->vector(3)[i] * u[i];
  for (int i = 0; i < 4; ++i) expect[i] = c * wv->vector(3)[i] - proj * u[i];
  auto got = wv->sentenceVector("DOG");
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(got[i], expect[i], 1e-6);
  // The frequent word weighs much less than the rare one in the average.
  auto the = wv->sentenceVector("the", retrieval::kSifA, false);
  auto dog = wv->sentenceVector("dog", retrieval::kSifA, false);
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
