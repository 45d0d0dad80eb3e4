#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <sstream>

#include "khive/core/error.h"
#include "khive/runtime/backend_factory.h"
#include "khive/runtime/codec.h"
#include "khive/runtime/transfer.h"

using namespace khive;
using namespace khive::runtime;

namespace {

std::unique_ptr<Runtime> memoryRuntime() {
  return std::make_unique<Runtime>(openBackendUrl("sqlite::memory:", {"*"}), RuntimeOptions{});
}

std::string lines(const std::vector<Json>& records) {
  std::string out;
  for (const auto& r : records) out += r.dump() + "\n";
  return out;
}

const std::string kA = "0190a000-0000-7000-8000-000000000001";
const std::string kB = "0190a000-0000-7000-8000-000000000002";
const std::string kN = "0190a000-0000-7000-8000-000000000003";

std::vector<Json> sample() {
  return {Json{{"type", "entity"}, {"id", kA}, {"kind", "concept"}, {"name", "A"}, {"tags", {"x"}}},
          Json{{"type", "entity"}, {"id", kB}, {"kind", "concept"}, {"name", "B"}, {"description", "the b"}},
          Json{{"type", "note"}, {"id", kN}, {"kind", "observation"}, {"content", "A relates to B"}, {"salience", 0.5}},
          Json{{"type", "edge"}, {"source_id", kA}, {"target_id", kB}, {"relation", "extends"}, {"weight", 0.5}},
          Json{{"type", "edge"}, {"source_id", kN}, {"target_id", kA}, {"relation", "annotates"}}};
}

std::int64_t count(Runtime& rt) {
  auto ns = rt.readNamespaces();
  return rt.backend().entities().countEntities({.namespaces = ns}) +
         rt.backend().notes().countNotes({.namespaces = ns}) + rt.backend().graph().countEdges({.namespaces = ns});
}

std::string errorOf(Runtime& rt, const std::string& text, std::size_t batch = 5000) {
  std::istringstream in(text);
  try {
    importJsonl(rt, in, {.batchSize = batch});
  } catch (const Error& e) {
    return e.message();
  }
  return "no error";
}

}  // namespace

TEST(Jsonl, ImportIsIdempotent) {
  auto rt = memoryRuntime();
  std::istringstream in(lines(sample()));
  auto s = importJsonl(*rt, in, {.batchSize = 2});
  EXPECT_EQ(s.entities, 2);
  EXPECT_EQ(s.notes, 1);
  EXPECT_EQ(s.edges, 2);
  EXPECT_EQ(count(*rt), 5);
  std::istringstream again(lines(sample()));
  importJsonl(*rt, again);
  EXPECT_EQ(count(*rt), 5);
  auto hits = rt->search({.text = "b"});
  EXPECT_FALSE(hits.hits.empty());
}

TEST(Jsonl, MalformedLineNamesItAndKeepsEarlierRecords) {
  auto rt = memoryRuntime();
  auto recs = sample();
  std::string text =
      lines({recs[0], recs[1]}) + "{\"type\": \"entity\", \"kind\": \"concept\", \"name\": \n" + lines({recs[2]});
  std::string msg = errorOf(*rt, text);
  EXPECT_NE(msg.find("line 3: malformed JSON"), std::string::npos) << msg;
  // Lines 1-2 committed, nothing from line 3 on.
  EXPECT_EQ(rt->backend().entities().countEntities({.namespaces = {"default"}}), 2);
  EXPECT_EQ(rt->backend().notes().countNotes({.namespaces = {"default"}}), 0);
}

TEST(Jsonl, EdgesBeforeAMalformedLineStayCommitted) {
  // Edges are held by the import's edge load until the end; a failure still writes them.
  for (std::size_t batch : {std::size_t{1}, std::size_t{5000}}) {
    auto rt = memoryRuntime();
    auto recs = sample();
    std::string text = lines({recs[0], recs[1], recs[3]}) + "{\"type\": \"edge\",\n" + lines({recs[4]});
    std::string msg = errorOf(*rt, text, batch);
    EXPECT_NE(msg.find("line 4: malformed JSON"), std::string::npos) << msg;
    EXPECT_EQ(rt->backend().graph().countEdges({.namespaces = {"default"}}), 1) << "batch " << batch;
  }
}

TEST(Jsonl, AFailedBatchWritesTheEdgesBeforeItAndNoneAfter) {
  // The decoders hand edges to the load ahead of the main thread's writes. When a batch then
  // fails to write (an entity id already stored in another namespace), the held edges of its
  // lines and every later line are dropped; those before it are written.
  auto rt = memoryRuntime();
  const std::string kX = "0190a000-0000-7000-8000-0000000000ff";
  const std::string kC = "0190a000-0000-7000-8000-0000000000cc";
  Entity elsewhere;
  elsewhere.id = Uuid::parse(kX);
  elsewhere.ns = "other";
  elsewhere.kind = "concept";
  elsewhere.name = "X elsewhere";
  rt->backend().entities().upsertEntity(elsewhere);
  auto recs = sample();
  std::vector<Json> file = {recs[0], recs[1], recs[3],
                            Json{{"type", "entity"}, {"id", kX}, {"kind", "concept"}, {"name", "X"}},
                            Json{{"type", "entity"}, {"id", kC}, {"kind", "concept"}, {"name", "C"}}};
  for (int i = 0; i < 3000; ++i) {
    file.push_back(Json{{"type", "edge"},
                        {"source_id", i % 2 ? kA : kB},
                        {"target_id", kC},
                        {"relation", "extends"},
                        {"weight", (i % 100) / 100.0}});
  }
  std::string msg = errorOf(*rt, lines(file), 2);
  EXPECT_NE(msg.find("entities of the batch ending at line 5 failed"), std::string::npos) << msg;
  EXPECT_EQ(rt->backend().graph().countEdges({.namespaces = {"default"}}), 1) << "only the edge on line 3";
  auto kept = rt->backend().graph().queryEdges({.namespaces = {"default"}}).items;
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].targetId, Uuid::parse(kB));
}

TEST(Jsonl, AFailedEdgeNamesTheImportAndKeepsTheOthers) {
  // An edge whose id already names another edge fails when the load is written; the rest of
  // the import stays, and the error says how many failed and why.
  auto rt = memoryRuntime();
  auto recs = sample();
  std::istringstream first(lines({recs[0], recs[1], recs[2], recs[3]}));
  importJsonl(*rt, first);
  auto stored = rt->backend().graph().queryEdges({.namespaces = {"default"}}).items;
  ASSERT_EQ(stored.size(), 1u);
  Json clash = recs[4];
  clash["id"] = stored[0].id.str();
  std::string msg = errorOf(
      *rt, lines({clash, Json{{"type", "edge"}, {"source_id", kB}, {"target_id", kA}, {"relation", "depends_on"}}}));
  EXPECT_NE(msg.find("1 edges of the import ending at line 2 failed"), std::string::npos) << msg;
  EXPECT_EQ(rt->backend().graph().countEdges({.namespaces = {"default"}}), 2);
}

TEST(Jsonl, InvalidRecordsNameTheLine) {
  auto rt = memoryRuntime();
  auto recs = sample();
  EXPECT_NE(errorOf(*rt, lines({Json{{"type", "entity"}, {"kind", "spaceship"}, {"name", "x"}}}))
                .find("line 1: unknown entity kind"),
            std::string::npos);
  EXPECT_NE(errorOf(*rt, "\n" + lines({Json{{"type", "blob"}}})).find("line 2: unknown type 'blob'"),
            std::string::npos);
  EXPECT_NE(errorOf(*rt, lines({Json{{"type", "entity"}, {"kind", "concept"}}}))
                .find("line 1: entity: field 'name' is required"),
            std::string::npos);
  EXPECT_NE(
      errorOf(
          *rt,
          lines({recs[0], recs[1],
                 Json{{"type", "edge"}, {"source_id", kA}, {"target_id", kB}, {"relation", "extends"}, {"weight", 3}}}))
          .find("line 3: edge weight 3 is outside"),
      std::string::npos);
  // annotates must start at a note (endpoints known from the database or earlier lines)
  EXPECT_NE(
      errorOf(*rt, lines({Json{{"type", "edge"}, {"source_id", kA}, {"target_id", kB}, {"relation", "annotates"}}}))
          .find("line 1: 'annotates' starts at a note"),
      std::string::npos);
  EXPECT_NE(errorOf(*rt, lines({Json{{"type", "entity"}, {"kind", "concept"}, {"name", "x"}, {"colour", "red"}}}))
                .find("field 'colour' is not a field"),
            std::string::npos);
}

TEST(Jsonl, ExportImportRoundTripsExactly) {
  auto src = memoryRuntime();
  std::istringstream in(lines(sample()));
  importJsonl(*src, in);
  auto extra = src->createEntity({.kind = "person", .name = "Ada", .properties = {{"born", 1815}}});
  src->remove(extra.id, false);  // a soft-deleted record travels too
  std::ostringstream out;
  auto s = exportJsonl(*src, out);
  EXPECT_EQ(s.entities, 3);
  EXPECT_EQ(s.edges, 2);

  auto dst = memoryRuntime();
  std::istringstream back(out.str());
  importJsonl(*dst, back);
  std::ostringstream out2;
  exportJsonl(*dst, out2);
  // Same records; the destination also holds the events of its own import run.
  std::istringstream a(out.str()), b(out2.str());
  std::vector<std::string> la, lb;
  for (std::string l; std::getline(a, l);) la.push_back(l);
  for (std::string l; std::getline(b, l);)
    if (Json::parse(l).value("verb", "") != "import" || la.end() != std::find(la.begin(), la.end(), l)) lb.push_back(l);
  EXPECT_EQ(la, lb);
}

TEST(Wordnet, ImportsSynsetsAndHypernyms) {
  if (!std::filesystem::exists(std::string(KHIVE_WORDNET_DIR) + "/data.noun"))
    FAIL() << "WordNet data missing: apt-get install wordnet-base (listed in scripts/debian-packages.txt)";
  auto rt = std::make_unique<Runtime>(openBackendUrl("sqlite::memory:", {"*"}), RuntimeOptions{});
  auto s = importWordnet(*rt, KHIVE_WORDNET_DIR);
  EXPECT_EQ(s.entities, 117659);  // WordNet 3.0 synsets
  auto dog = rt->backend().entities().getEntity(wordnetEntityId("02084071-n"));
  ASSERT_TRUE(dog);
  EXPECT_EQ(dog->name, "dog");
  EXPECT_EQ(dog->properties["lexname"], "noun.animal");
  EXPECT_EQ(dog->properties["lemmas"], (Json{"dog", "domestic dog", "Canis familiaris"}));
  auto up = rt->traverse({dog->id}, 3, storage::Direction::Out, {"instance_of"}, 100);
  std::vector<std::string> names;
  for (const auto& n : up[0].nodes) names.push_back(n.node.name);
  // wn dog -hypen, sense 1: canine, then domestic animal; carnivore
  EXPECT_NE(std::find(names.begin(), names.end(), "canine"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "domestic animal"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "carnivore"), names.end());
  // part_of (wn dog -holon / -meron): a member of genus Canis and of a pack; a flag is part of a dog
  std::set<std::string> wholes, parts;
  for (const auto& n : rt->neighbors(dog->id, storage::Direction::Out, {"part_of"}, 10)) wholes.insert(n.node.name);
  for (const auto& n : rt->neighbors(dog->id, storage::Direction::In, {"part_of"}, 10)) parts.insert(n.node.name);
  EXPECT_EQ(wholes, (std::set<std::string>{"Canis", "pack"}));
  EXPECT_EQ(parts, (std::set<std::string>{"flag"}));
  // Re-running adds nothing.
  auto before = rt->stats();
  importWordnet(*rt, KHIVE_WORDNET_DIR);
  auto after = rt->stats();
  EXPECT_EQ(before.entities, after.entities);
  EXPECT_EQ(before.edges, after.edges);
}

// Files of many chunks: lines are decoded on several threads but checked and written in file
// order, so an edge sees exactly the nodes of earlier lines and errors name the right line.
TEST(Jsonl, ManyChunksAreCheckedAndWrittenInFileOrder) {
  constexpr int kNodes = 5'000;
  std::vector<std::string> ids;
  for (int i = 0; i < kNodes; ++i) ids.push_back(Uuid::v7().str());
  auto entity = [&](int i) {
    return Json{{"type", "entity"}, {"id", ids[i]}, {"kind", "concept"}, {"name", "n" + std::to_string(i)}};
  };
  auto edge = [&](int from, int to) {
    return Json{{"type", "edge"}, {"source_id", ids[from]}, {"target_id", ids[to]}, {"relation", "extends"}};
  };
  {
    // Every edge follows both of its endpoints, several chunks earlier.
    std::vector<Json> recs;
    for (int i = 0; i < kNodes; ++i) recs.push_back(entity(i));
    for (int i = 0; i < kNodes; ++i) recs.push_back(edge(i, (i + 1) % kNodes));
    auto rt = memoryRuntime();
    std::istringstream in(lines(recs));
    auto s = importJsonl(*rt, in, {.batchSize = 700});
    EXPECT_EQ(s.entities, kNodes);
    EXPECT_EQ(s.edges, kNodes);
    EXPECT_EQ(count(*rt), 2 * kNodes);
  }
  {
    // Line 3,001 links to the entity of line 4,500: not yet written, so the import stops there.
    std::vector<Json> recs;
    for (int i = 0; i < 3'000; ++i) recs.push_back(entity(i));
    recs.push_back(edge(0, 4'499));
    for (int i = 3'000; i < kNodes; ++i) recs.push_back(entity(i));
    auto rt = memoryRuntime();
    std::string msg = errorOf(*rt, lines(recs), 700);
    EXPECT_NE(msg.find("line 3001: "), std::string::npos) << msg;
    EXPECT_NE(msg.find("is not a live entity or note"), std::string::npos) << msg;
    EXPECT_EQ(rt->backend().entities().countEntities({.namespaces = {"default"}}), 3'000);
  }
  {
    // A malformed line deep in the file: everything before it is committed, nothing after.
    std::string text;
    for (int i = 0; i < kNodes; ++i) {
      text += entity(i).dump() + "\n";
      if (i == 3'776) text += "{\"type\": \"entity\",\n";
    }
    auto rt = memoryRuntime();
    std::string msg = errorOf(*rt, text, 1'000);
    EXPECT_NE(msg.find("line 3778: malformed JSON"), std::string::npos) << msg;
    EXPECT_EQ(rt->backend().entities().countEntities({.namespaces = {"default"}}), 3'777);
  }
}
