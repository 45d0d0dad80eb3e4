// Embedding engines end to end, nothing mocked: a fastText model trained here with Debian's
// `fasttext` tool, and a real HTTP server on loopback (tests/support/embed_server.mjs, Node's
// built-in http) speaking the OpenAI embeddings protocol. Records live in in-memory SQLite.

#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "khive/core/error.h"
#include "khive/runtime/backend_factory.h"
#include "khive/runtime/config.h"
#include "khive/runtime/runtime.h"
#include "engine_test_support.h"
#include "support/test_backends.h"

using namespace khive;
using namespace khive::runtime;
namespace fs = std::filesystem;

namespace {

using khive::testing::errorOf;
using khive::testing::runtimeWith;

std::int64_t vectorCount(Runtime& rt, const std::string& model) {
  return rt.backend().vectors().countVectors(model, rt.readNamespaces());
}

// ---- the HTTP fixture ------------------------------------------------------------------

// Runs embed_server.mjs; the server exits when its stdin closes (here, or when this process dies).
class EmbedServer {
 public:
  EmbedServer() {
    int in[2], out[2];
    if (::pipe(in) != 0 || ::pipe(out) != 0) throw std::runtime_error("pipe");
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      ::close(in[1]);
      ::close(out[0]);
      ::execlp("node", "node", KHIVE_EMBED_SERVER, static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    stdin_ = in[1];
    std::string line;
    char c;
    while (::read(out[0], &c, 1) == 1 && c != '\n') line += c;
    ::close(out[0]);
    if (!line.starts_with("PORT ")) throw std::runtime_error("embed server did not start: " + line);
    port_ = std::stoi(line.substr(5));
  }
  ~EmbedServer() { stop(); }
  void stop() {
    if (pid_ <= 0) return;
    ::close(stdin_);
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  std::string url() const { return fmt::format("http://127.0.0.1:{}", port_); }
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  int port_ = 0;
};

std::string httpEngine(const std::string& url, const std::string& model, std::string extra = "") {
  return fmt::format("[[engines]]\nname = \"http\"\nkind = \"openai\"\nurl = \"{}\"\nmodel = \"{}\"\n{}\n", url, model,
                     extra);
}

// ---- the fastText fixture --------------------------------------------------------------

// Trains a 16-dimensional skipgram model on a generated corpus of three topics (seconds), once
// per build tree: the model is moved into place atomically, so parallel test processes at
// worst train it twice.
const fs::path& fastTextModel() {
  static const fs::path model = [] {
    const fs::path shared = fs::path(KHIVE_TEST_WORK) / "fasttext-model-e20.bin";
    if (fs::exists(shared)) return shared;
    const fs::path dir = fs::path(KHIVE_TEST_WORK) / fmt::format("fasttext-{}", ::getpid());
    fs::remove_all(dir);
    fs::create_directories(dir);
    const std::vector<std::vector<std::string>> topics = {
        {"dog", "puppy", "canine", "bark", "leash", "kennel", "wolf", "fetch", "paw", "tail"},
        {"boat", "sail", "harbor", "anchor", "mast", "keel", "ocean", "wave", "deck", "rudder"},
        {"bread", "oven", "flour", "yeast", "dough", "bake", "crust", "loaf", "knead", "butter"}};
    std::mt19937 rng(42);
    std::ofstream corpus(dir / "corpus.txt");
    for (int line = 0; line < 3000; ++line) {
      const auto& words = topics[static_cast<std::size_t>(line) % topics.size()];
      for (int w = 0; w < 10; ++w) corpus << (w ? " " : "") << words[rng() % words.size()];
      corpus << '\n';
    }
    corpus.close();
    std::string cmd = fmt::format(
        "cd '{}' && fasttext skipgram -input corpus.txt -output model -dim 16 -epoch 20 -minCount 1 -bucket 10000 "
        "-thread 1 -seed 1 "
        ">train.log 2>&1",
        dir.string());
    if (std::system(cmd.c_str()) != 0)
      throw std::runtime_error("fasttext training failed: see " + (dir / "train.log").string());
    fs::rename(dir / "model.bin", shared);
    fs::remove_all(dir);
    return shared;
  }();
  return model;
}

std::string fastTextEngine(const fs::path& path, std::string extra = "") {
  return fmt::format("[[engines]]\nname = \"ft\"\nkind = \"fasttext\"\npath = \"{}\"\n{}\n", path.string(), extra);
}

}  // namespace

// ---- config ------------------------------------------------------------------------------

TEST(EngineConfig, ParsesBothKinds) {
  auto c = parseConfig(R"(
[[engines]]
name = "a"
kind = "openai"
url = "http://127.0.0.1:8080"
model = "m"
dimensions = 384
timeout_ms = 500
batch_size = 8
api_key_env = "KEY"

[[engines]]
name = "b"
kind = "fasttext"
path = "/m.bin"
default = true
embed_on_write = false
)");
  ASSERT_EQ(c.engines.size(), 2u);
  EXPECT_EQ(c.engines[0].url, "http://127.0.0.1:8080");
  EXPECT_EQ(c.engines[0].dimensions, 384);
  EXPECT_EQ(c.engines[0].timeoutMs, 500);
  EXPECT_EQ(c.engines[0].batchSize, 8);
  EXPECT_EQ(c.engines[0].apiKeyEnv, "KEY");
  EXPECT_TRUE(c.engines[1].isDefault);
  EXPECT_FALSE(c.engines[1].embedOnWrite);
}

TEST(EngineConfig, BadEntriesNameKeyAndLine) {
  auto msg = [](const std::string& toml) { return errorOf([&] { parseConfig(toml, "k.toml"); }).message(); };
  EXPECT_EQ(msg("[[engines]]\nname = \"a\"\nkind = \"openai\"\nurl = \"http://x\"\nmodel = \"m\"\nflavour = 1\n"),
            "k.toml:6: unknown key 'engines.flavour' (allowed: name, kind, url, model, path, dimensions, timeout_ms, "
            "batch_size, "
            "api_key_env, default, embed_on_write)");
  EXPECT_EQ(msg("[[engines]]\nname = \"a\"\nkind = \"word2vec\"\n"),
            "k.toml:3: 'engines.kind' must be \"openai\", \"fasttext\" or \"static\", not \"word2vec\"");
  EXPECT_EQ(msg("[[engines]]\nname = \"a\"\nkind = \"fasttext\"\npath = \"/m\"\nurl = \"http://x\"\n"),
            "k.toml:5: 'engines.url' is for kind = \"openai\"");
  EXPECT_EQ(msg("[[engines]]\nname = \"a\"\nkind = \"fasttext\"\npath = \"/m\"\ndimensions = 0\n"),
            "k.toml:5: 'engines.dimensions' must be an integer in 1..65536");
  EXPECT_EQ(msg("[[engines]]\nname = \"a\"\nkind = \"openai\"\nurl = \"127.0.0.1:8080\"\nmodel = \"m\"\n"),
            "k.toml:4: 'engines.url' must start with http:// or https://, not \"127.0.0.1:8080\"");
  EXPECT_NE(
      msg("[[engines]]\nname = \"a\"\nkind = \"openai\"\nurl = \"http://x\"\n").find("'engines.model' is required"),
      std::string::npos);
  EXPECT_NE(msg("[[engines]]\nname = \"a\"\nkind = \"fasttext\"\npath = \"/m\"\n[[engines]]\nname = \"a\"\nkind = "
                "\"fasttext\"\npath = \"/n\"\n")
                .find("k.toml:6: 'engines.name' \"a\" is used twice"),
            std::string::npos);
  EXPECT_NE(msg("[[engines]]\nname = \"a\"\nkind = \"fasttext\"\npath = \"/m\"\ndefault = \"yes\"\n")
                .find("k.toml:5: 'engines.default' must be true or false"),
            std::string::npos);
}

// ---- fastText ----------------------------------------------------------------------------

TEST(FastTextEngine, ReindexThenVectorSearchFindsTheRecord) {
  auto rt = runtimeWith(fastTextEngine(fastTextModel(), "embed_on_write = false"));
  auto dog = rt->createEntity({.kind = "concept", .name = "Rex", .description = "a loyal canine that likes to fetch"});
  rt->createEntity({.kind = "concept", .name = "Sloop", .description = "a small vessel with one mast and a keel"});
  rt->createNote({.kind = "observation", .content = "knead the dough before it goes in the oven"});
  EXPECT_EQ(vectorCount(*rt, "ft"), 0) << "embed_on_write = false: nothing embedded on create";

  std::vector<ReindexProgress> seen;
  auto s = rt->reindex({.batchSize = 2, .progress = [&](const ReindexProgress& p) { seen.push_back(p); }});
  EXPECT_EQ(s.engine, "ft");
  EXPECT_EQ(s.dimensions, 16);
  EXPECT_EQ(s.entities, 2);
  EXPECT_EQ(s.notes, 1);
  EXPECT_EQ(vectorCount(*rt, "ft"), 3);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().done, 3);
  EXPECT_EQ(seen.back().total, 3);

  // Words that appear in no record's text: only the vector signal can find the dog.
  auto res = rt->search({.text = "puppy bark leash"});
  EXPECT_EQ(res.mode, "hybrid");
  EXPECT_EQ(res.engine, "ft");
  EXPECT_FALSE(res.notice);
  ASSERT_FALSE(res.hits.empty());
  EXPECT_EQ(res.hits[0].subjectId, dog.id);
  EXPECT_TRUE(res.hits[0].signals.vector.has_value());
  EXPECT_FALSE(res.hits[0].signals.text.has_value());

  // A rerun replaces the vectors: the count stays.
  rt->reindex({});
  EXPECT_EQ(vectorCount(*rt, "ft"), 3);
}

TEST(FastTextEngine, EmbedsOnCreateAndUpdate) {
  auto rt = runtimeWith(fastTextEngine(fastTextModel()));
  auto boat = rt->createEntity({.kind = "concept", .name = "Sloop", .description = "sail and anchor"});
  auto bread = rt->createEntity({.kind = "concept", .name = "Loaf", .description = "flour yeast oven"});
  EXPECT_EQ(vectorCount(*rt, "ft"), 2);
  EXPECT_EQ(rt->search({.text = "harbor ocean wave"}).hits.at(0).subjectId, boat.id);
  // The update changes the text, so the vector follows it.
  rt->update(bread.id, {.description = std::string("ocean harbor deck rudder")});
  auto hits = rt->search({.text = "wave keel mast", .scope = retrieval::Scope::Entities}).hits;
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_TRUE(hits[0].signals.vector && hits[1].signals.vector);
}

TEST(FastTextEngine, DimensionsAndMissingModel) {
  auto ok = retrieval::makeEmbeddingEngine({.name = "ft", .kind = "fasttext", .path = fastTextModel().string()});
  EXPECT_EQ(ok->dimension(), 16);
  std::vector<std::string> texts = {"dog puppy", "boat sail", "bread"};
  auto v = ok->embed(texts);
  ASSERT_EQ(v.size(), 3u);
  for (const auto& x : v) EXPECT_EQ(x.size(), 16u);

  auto wrong = retrieval::makeEmbeddingEngine(
      {.name = "ft", .kind = "fasttext", .path = fastTextModel().string(), .dimensions = 32});
  auto e = errorOf([&] { wrong->dimension(); });
  EXPECT_EQ(e.code(), ErrorCode::InvalidInput);
  EXPECT_NE(e.message().find("has 16 dimensions; the engine's 'dimensions' says 32"), std::string::npos) << e.message();

  // A truncated model file (fastText's own loader would loop forever) and a file that is no model.
  const fs::path cut = fs::path(KHIVE_TEST_WORK) / fmt::format("truncated-{}.bin", ::getpid());
  const fs::path text = fs::path(KHIVE_TEST_WORK) / fmt::format("text-{}.bin", ::getpid());
  {
    std::ifstream in(fastTextModel(), std::ios::binary);
    std::string head(300, '\0');
    in.read(head.data(), 300);
    std::ofstream(cut, std::ios::binary) << head;
    std::ofstream(text) << "not a model\n";
  }
  for (const auto& [file, why] : {std::pair{cut, "the file ends early"}, std::pair{text, "not a fastText model"}}) {
    auto broken = retrieval::makeEmbeddingEngine({.name = "ft", .kind = "fasttext", .path = file.string()});
    e = errorOf([&] { broken->dimension(); });
    EXPECT_EQ(e.code(), ErrorCode::InvalidInput);
    EXPECT_NE(e.message().find(why), std::string::npos) << e.message();
    fs::remove(file);
  }

  auto rt = runtimeWith(fastTextEngine("/nonexistent/model.bin"));
  e = errorOf([&] { rt->reindex({}); });
  EXPECT_EQ(e.code(), ErrorCode::NotFound);
  EXPECT_NE(e.message().find("engine 'ft': fastText model file /nonexistent/model.bin does not exist"),
            std::string::npos)
      << e.message();
  // Writes with embed_on_write fail with nothing written; search falls back to text and says why.
  e = errorOf([&] { rt->createEntity({.kind = "concept", .name = "x"}); });
  EXPECT_NE(e.message().find("nothing was written"), std::string::npos) << e.message();
  EXPECT_EQ(rt->backend().entities().countEntities({.namespaces = {"default"}}), 0);
  auto res = rt->search({.text = "x"});
  EXPECT_EQ(res.mode, "text");
  ASSERT_TRUE(res.notice);
  EXPECT_NE(res.notice->find("does not exist"), std::string::npos) << *res.notice;
  EXPECT_TRUE(res.notice->ends_with("; text-only search")) << *res.notice;
}

// ---- HTTP (OpenAI-compatible) ------------------------------------------------------------

TEST(HttpEngine, ReindexAndSearch) {
  EmbedServer server;
  auto rt = runtimeWith(httpEngine(server.url(), "hash-16", "embed_on_write = false"));
  auto a = rt->createEntity({.kind = "concept", .name = "alpha", .description = "red green blue"});
  rt->createEntity({.kind = "concept", .name = "beta", .description = "cyan magenta yellow"});
  auto s = rt->reindex({});
  EXPECT_EQ(s.dimensions, 16);
  EXPECT_EQ(s.entities, 2);
  EXPECT_EQ(vectorCount(*rt, "http"), 2);
  auto res = rt->search({.text = "green red"});
  EXPECT_EQ(res.mode, "hybrid");
  ASSERT_FALSE(res.hits.empty());
  EXPECT_EQ(res.hits[0].subjectId, a.id);
  EXPECT_EQ(res.hits[0].signals.vector, 1);

  auto doc = rt->doctor();
  ASSERT_EQ(doc["engines"].size(), 1u);
  EXPECT_EQ(doc["engines"][0]["ok"], true);
  EXPECT_EQ(doc["engines"][0]["dimensions"], 16);
  EXPECT_EQ(doc["engines"][0]["vectors"], 2);
  EXPECT_EQ(doc["engines"][0]["missing"], 0);
  EXPECT_EQ(doc["index"]["text"]["in_sync"], true);
}

TEST(HttpEngine, BatchesRespectBatchSize) {
  EmbedServer server;
  auto texts = std::vector<std::string>{"a", "b", "c", "d", "e"};
  // The server refuses requests of more than 2 inputs.
  auto small = retrieval::makeEmbeddingEngine(
      {.name = "h", .kind = "openai", .url = server.url(), .model = "max2-hash-8", .batchSize = 2});
  auto v = small->embed(texts);
  ASSERT_EQ(v.size(), 5u);
  EXPECT_EQ(v[4], small->embed(std::vector<std::string>{"e"}).at(0)) << "order kept across batches";
  auto big = retrieval::makeEmbeddingEngine(
      {.name = "h", .kind = "openai", .url = server.url(), .model = "max2-hash-8", .batchSize = 3});
  auto e = errorOf([&] { big->embed(texts); });
  EXPECT_NE(e.message().find("HTTP 400"), std::string::npos) << e.message();
  EXPECT_NE(e.message().find("batch of 3 exceeds 2"), std::string::npos) << e.message();

  // Reindex goes through the same batching.
  auto rt = runtimeWith(httpEngine(server.url(), "max2-hash-8", "batch_size = 2\nembed_on_write = false"));
  for (int i = 0; i < 7; ++i) rt->createEntity({.kind = "concept", .name = fmt::format("n{}", i)});
  EXPECT_EQ(rt->reindex({.batchSize = 5}).entities, 7);
  EXPECT_EQ(vectorCount(*rt, "http"), 7);
}

TEST(HttpEngine, ServerDownFailsClearlyAndWritesNothing) {
  std::string url;
  {
    EmbedServer server;
    url = server.url();
  }  // stopped: the port now refuses connections
  auto rt = runtimeWith(httpEngine(url, "hash-8"));
  auto e = errorOf([&] { rt->createEntity({.kind = "concept", .name = "x"}); });
  EXPECT_EQ(e.code(), ErrorCode::Driver);
  EXPECT_NE(e.message().find(fmt::format("embedding engine 'http': cannot connect to {}/v1/embeddings", url)),
            std::string::npos)
      << e.message();
  EXPECT_EQ(e.message().find('\n'), std::string::npos);
  EXPECT_EQ(rt->backend().entities().countEntities({.namespaces = {"default"}}), 0);

  auto quiet = runtimeWith(httpEngine(url, "hash-8", "embed_on_write = false"));
  quiet->createEntity({.kind = "concept", .name = "x"});
  e = errorOf([&] { quiet->reindex({}); });
  EXPECT_NE(e.message().find("cannot connect"), std::string::npos) << e.message();
  EXPECT_EQ(vectorCount(*quiet, "http"), 0);
  auto res = quiet->search({.text = "x"});
  EXPECT_EQ(res.mode, "text");
  EXPECT_EQ(res.hits.size(), 1u);
  ASSERT_TRUE(res.notice);
  EXPECT_NE(res.notice->find("cannot connect"), std::string::npos);
  auto doc = quiet->doctor();
  EXPECT_EQ(doc["engines"][0]["ok"], false);
  EXPECT_EQ(doc["ok"], false);
}

TEST(HttpEngine, Http500AndWrongDimensionAndTimeout) {
  EmbedServer server;
  auto rt = runtimeWith(httpEngine(server.url(), "fail-500"));
  auto e = errorOf([&] { rt->createEntity({.kind = "concept", .name = "x"}); });
  EXPECT_NE(e.message().find(
                fmt::format("HTTP 500 from {}/v1/embeddings: {{\"error\":{{\"message\":\"model crashed", server.url())),
            std::string::npos)
      << e.message();
  EXPECT_EQ(rt->backend().entities().countEntities({.namespaces = {"default"}}), 0);

  auto wrong =
      retrieval::makeEmbeddingEngine({.name = "h", .kind = "openai", .url = server.url(), .model = "wrong-dim"});
  e = errorOf([&] { wrong->embed(std::vector<std::string>{"a", "b"}); });
  EXPECT_EQ(e.code(), ErrorCode::InvalidInput);
  EXPECT_NE(e.message().find("returned a 11-dimensional vector; expected 8"), std::string::npos) << e.message();

  auto declared = retrieval::makeEmbeddingEngine(
      {.name = "h", .kind = "openai", .url = server.url(), .model = "hash-8", .dimensions = 12});
  e = errorOf([&] { declared->embed(std::vector<std::string>{"a"}); });
  EXPECT_NE(e.message().find("returned a 8-dimensional vector; expected 12 (the engine's 'dimensions')"),
            std::string::npos)
      << e.message();

  auto slow = retrieval::makeEmbeddingEngine(
      {.name = "h", .kind = "openai", .url = server.url(), .model = "slow", .timeoutMs = 300});
  e = errorOf([&] { slow->embed(std::vector<std::string>{"a"}); });
  EXPECT_EQ(e.code(), ErrorCode::Timeout);
}

TEST(Search, WithoutEngineFallsBackToTextAndSaysSo) {
  auto rt = runtimeWith("");
  rt->createEntity({.kind = "concept", .name = "canine"});
  auto res = rt->search({.text = "canine"});
  EXPECT_EQ(res.mode, "text");
  ASSERT_TRUE(res.notice);
  EXPECT_NE(res.notice->find("no embedding engine configured"), std::string::npos);
  EXPECT_EQ(res.hits.size(), 1u);
  auto e = errorOf([&] { rt->reindex({}); });
  EXPECT_EQ(e.code(), ErrorCode::InvalidInput);
  EXPECT_NE(e.message().find("no embedding engine configured"), std::string::npos);
}

// ---- every backend -----------------------------------------------------------------------

class EngineOnBackend : public ::testing::TestWithParam<khive::testing::BackendCase> {};

// The fastText engine through each backend the contract suites run on: vectors where the
// backend has the capability, a clear fallback (and doctor's pgvector hint) where it has not.
TEST_P(EngineOnBackend, ReindexSearchDoctor) {
  const auto& c = GetParam();
  KHIVE_SKIP_UNAVAILABLE_BACKEND(c);
  Runtime rt(c.make(), RuntimeOptions{parseConfig(fastTextEngine(fastTextModel())), std::nullopt, std::nullopt});
  auto dog = rt.createEntity({.kind = "concept", .name = "Rex", .description = "canine puppy fetch paw"});
  rt.createEntity({.kind = "concept", .name = "Sloop", .description = "sail mast keel deck"});
  auto doc = rt.doctor();
  EXPECT_EQ(doc["engines"][0]["ok"], true) << doc.dump();
  EXPECT_EQ(doc["index"]["live_records"], 2);
  if (c.hasVectors) {
    EXPECT_EQ(vectorCount(rt, "ft"), 2) << "embedded on create";
    EXPECT_EQ(rt.reindex({}).entities, 2);
    auto res = rt.search({.text = "bark leash kennel"});
    EXPECT_EQ(res.mode, "hybrid");
    ASSERT_FALSE(res.hits.empty());
    EXPECT_EQ(res.hits[0].subjectId, dog.id);
    EXPECT_EQ(rt.doctor()["engines"][0]["missing"], 0);

    // A soft-deleted record keeps its text document and vector, but they are not indexed live
    // data: Sloop is deleted and Rex loses its vector, so one of one live record lacks one.
    auto sloop = rt.search({.text = "sail mast keel"}).hits.at(0).subjectId;
    ASSERT_NE(sloop, dog.id);
    rt.remove(sloop, false);
    rt.backend().vectors().deleteVectors(dog.id);
    doc = rt.doctor();
    EXPECT_EQ(doc["index"]["live_records"], 1) << doc.dump();
    EXPECT_EQ(doc["index"]["text"]["documents"], 1) << doc.dump();
    EXPECT_EQ(doc["index"]["text"]["deleted_records"], 1) << doc.dump();
    EXPECT_EQ(doc["index"]["text"]["in_sync"], true) << doc.dump();
    EXPECT_EQ(doc["engines"][0]["vectors"], 0) << doc.dump();
    EXPECT_EQ(doc["engines"][0]["missing"], 1) << doc.dump();
    EXPECT_EQ(doc["engines"][0]["deleted_records"], 1) << doc.dump();
    EXPECT_EQ(doc["problems"].size(), 1u) << doc.dump();
    EXPECT_NE(doc["problems"][0].get<std::string>().find("has vectors for 0 of 1 live records"), std::string::npos)
        << doc.dump();
    EXPECT_EQ(rt.reindex({}).entities, 1);
    doc = rt.doctor();
    EXPECT_EQ(doc["engines"][0]["vectors"], 1) << doc.dump();
    EXPECT_EQ(doc["engines"][0]["missing"], 0) << doc.dump();
    EXPECT_EQ(doc["ok"], true) << doc.dump();
  } else {
    EXPECT_EQ(errorOf([&] { rt.reindex({}); }).code(), ErrorCode::Unsupported);
    auto res = rt.search({.text = "canine"});
    EXPECT_EQ(res.mode, "text");
    ASSERT_TRUE(res.notice);
    EXPECT_NE(res.notice->find("no vector capability"), std::string::npos);
    if (doc["engine"] == "postgres") {
      EXPECT_EQ(doc["extensions"]["vector"]["present"], false);
      EXPECT_NE(doc["extensions"]["vector"]["hint"].get<std::string>().find("CREATE EXTENSION vector"),
                std::string::npos);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, EngineOnBackend, ::testing::ValuesIn(khive::testing::backendCases()),
                         khive::testing::BackendCaseName());

TEST(Reindex, AnotherDimensionUnderTheSameNameIsRefusedBeforeWriting) {
  EmbedServer server;
  const fs::path db = fs::path(KHIVE_TEST_WORK) / fmt::format("dims-{}.db", ::getpid());
  fs::remove(db);
  auto open = [&](const std::string& model) {
    return std::make_unique<Runtime>(
        openSqliteFile(db.string()),
        RuntimeOptions{parseConfig(httpEngine(server.url(), model)), std::nullopt, std::nullopt});
  };
  open("hash-8")->createEntity({.kind = "concept", .name = "a"});
  auto rt = open("hash-16");  // the model behind engine "http" changed its dimension
  EXPECT_EQ(vectorCount(*rt, "http"), 1);
  auto e = errorOf([&] { rt->reindex({}); });
  EXPECT_EQ(e.code(), ErrorCode::InvalidInput);
  EXPECT_NE(e.message().find("engine 'http' gives 16-dimensional vectors but the database holds 8-dimensional ones"),
            std::string::npos)
      << e.message();
  auto doc = rt->doctor();
  EXPECT_NE(doc["problems"].dump().find("gives 16-dimensional vectors"), std::string::npos) << doc.dump();
  // Search does not fail: it answers from text and says why.
  auto res = rt->search({.text = "a"});
  EXPECT_EQ(res.mode, "text");
  EXPECT_FALSE(res.engine);
  ASSERT_TRUE(res.notice);
  EXPECT_NE(res.notice->find("engine 'http' gives 16-dimensional vectors but the database holds 8-dimensional ones"),
            std::string::npos)
      << *res.notice;
  EXPECT_NE(res.notice->find("text-only search"), std::string::npos) << *res.notice;
  ASSERT_EQ(res.hits.size(), 1u);
  EXPECT_FALSE(res.hits[0].signals.vector);
  rt.reset();
  fs::remove(db);
}
