// The fast edge-line decoder against the general one (codec.cc's edgeFromJson over
// nlohmann::json): every line it takes must decode to the same Edge, and it must take the
// plain lines a large import is made of (or it would be dead code that the import tests
// could not tell from the general path).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "khive/runtime/codec.h"
#include "runtime/edge_line.h"

using namespace khive;
using namespace khive::runtime;

namespace {

const std::string kS = "0190a000-0000-7000-8000-00000000000a";
const std::string kT = "0190a000-0000-7000-8000-00000000000b";
const std::string kE = "0190a000-0000-7000-8000-00000000000e";

void expectSameEdge(const Edge& fast, const Edge& general, bool compareId, const std::string& line) {
  SCOPED_TRACE(line);
  if (compareId) {
    EXPECT_EQ(fast.id, general.id);
  } else {
    EXPECT_FALSE(fast.id.isNil());
  }
  EXPECT_EQ(fast.ns, general.ns);
  EXPECT_EQ(fast.sourceId, general.sourceId);
  EXPECT_EQ(fast.targetId, general.targetId);
  EXPECT_EQ(fast.relation, general.relation);
  EXPECT_EQ(fast.weight, general.weight);
  EXPECT_EQ(fast.metadata, general.metadata);
  EXPECT_EQ(fast.createdAt, general.createdAt);
  EXPECT_EQ(fast.updatedAt, general.updatedAt);
  EXPECT_EQ(fast.deletedAt, general.deletedAt);
}

}  // namespace

TEST(EdgeLine, TakesPlainEdgeLinesAndDecodesThemAsTheGeneralDecoderDoes) {
  const std::string ends = "\"source_id\":\"" + kS + "\",\"target_id\":\"" + kT + "\"";
  const std::vector<std::pair<std::string, bool>> lines = {
      // (line, has an id to compare)
      {"{\"type\":\"edge\",\"id\":\"" + kE + "\"," + ends + ",\"relation\":\"extends\",\"weight\":0.25}", true},
      {"{\"type\":\"edge\"," + ends + ",\"relation\":\"extends\"}", false},
      {"  { \"relation\" : \"part_of\", " + ends + ", \"type\" : \"edge\", \"weight\": 1 }  ", false},
      {"{\"type\":\"edge\",\"id\":\"" + kE + "\",\"namespace\":\"team-a\"," + ends +
           ",\"relation\":\"depends_on\",\"weight\":0.125,\"metadata\":{},\"created_at\":1700000000000000,"
           "\"updated_at\":1700000000000001,\"deleted_at\":1700000000000002}",
       true},
      {"{\"type\":\"edge\",\"id\":\"" + kE + "\"," + ends +
           ",\"relation\":\"r\\u00e9f\\\"\\\\\",\"metadata\":{\"why\":\"a \\\"quote\\\"\",\"n\":[1,2.5,{\"x\":null}]}}",
       true},
      {"{\"type\":\"edge\",\"id\":\"" + kE + "\",\"namespace\":\"名前\"," + ends + ",\"relation\":\"extends\"," +
           "\"weight\":1e-3,\"metadata\":{ }}",
       true},
      // Upper-case and braced UUIDs are accepted by both decoders.
      {"{\"type\":\"edge\",\"id\":\"{0190A000-0000-7000-8000-00000000000E}\"," + ends + ",\"relation\":\"extends\"}",
       true},
  };
  for (const auto& [line, hasId] : lines) {
    std::string scratch;
    Edge fast;
    ASSERT_TRUE(decodePlainEdgeLine(line, scratch, fast)) << line;
    const Edge general = edgeFromJson(Json::parse(line));
    expectSameEdge(fast, general, hasId, line);
  }
}

TEST(EdgeLine, LeavesEverythingElseToTheGeneralDecoder) {
  const std::string ends = "\"source_id\":\"" + kS + "\",\"target_id\":\"" + kT + "\"";
  const std::vector<std::string> lines = {
      "{\"type\":\"entity\",\"kind\":\"concept\",\"name\":\"x\"}",
      "{\"type\":\"edge\"," + ends + "}",                                           // no relation
      "{\"type\":\"edge\",\"source_id\":\"" + kS + "\",\"relation\":\"extends\"}",  // no target
      "{\"type\":\"edge\"," + ends + ",\"relation\":\"extends\",\"colour\":\"red\"}",
      "{\"type\":\"edge\"," + ends + ",\"relation\":\"extends\",\"relation\":\"part_of\"}",
      "{\"type\":\"edge\"," + ends + ",\"relation\":\"extends\",\"weight\":\"high\"}",
      "{\"type\":\"edge\"," + ends + ",\"relation\":\"extends\",\"weight\":null}",
      "{\"type\":\"edge\"," + ends + ",\"relation\":\"extends\",\"namespace\":null}",
      "{\"type\":\"edge\"," + ends + ",\"relation\":\"extends\",\"created_at\":1.5}",
      "{\"type\":\"edge\"," + ends + ",\"relation\":\"extends\",\"created_at\":18446744073709551615}",
      "{\"type\":\"edge\"," + ends + ",\"relation\":\"extends\",\"metadata\":[1]}",
      "{\"type\":\"edge\"," + ends + ",\"relation\":\"extends\",\"id\":\"not-a-uuid\"}",
      "{\"type\":\"edge\"," + ends + ",\"relation\":\"extends\"} trailing",
      "{\"type\":\"edge\"," + ends + ",\"relation\":\"extends\"}{}",
      "{\"type\":\"edge\"," + ends + ",\"relation\":\"extends\"",
      "{\"type\":\"edge\"," + ends + ",\"relation\":\"\xff\xfe\"}",  // not UTF-8
      "[\"edge\"]",
      "\"edge\"",
  };
  for (const auto& line : lines) {
    std::string scratch;
    Edge e;
    EXPECT_FALSE(decodePlainEdgeLine(line, scratch, e)) << line;
  }
}

// Seeded random lines built from edge fields, each valid or not, with random types, escapes,
// whitespace, extra and repeated keys: whenever the fast decoder takes a line, the general one
// must decode it to the same Edge.
TEST(EdgeLine, AgreesWithTheGeneralDecoderOnRandomLines) {
  std::mt19937 rng(20261126);
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  const std::vector<std::string> uuids = {"\"" + kS + "\"", "\"" + kT + "\"",
                                          "\"" + kE + "\"", "\"0190A000-0000-7000-8000-00000000000F\"",
                                          "\"not-a-uuid\"", "\"\""};
  const std::vector<std::string> texts = {"\"extends\"", "\"part_of\"", "\"caf\\u00e9\"", "\"a\\\"b\\\\c\"",
                                          "\"名前\"",    "\"\"",        "\"tab\\there\""};
  const std::vector<std::string> numbers = {
      "0", "1", "0.5", "1e-3", "-2", "3.25", "9007199254740993", "18446744073709551615", "1700000000000000"};
  const std::vector<std::string> others = {
      "null", "true", "[]", "[1,\"x\"]", "{}", "{ }", "{\"a\":1,\"b\":[null,{\"c\":\"d\"}]}"};
  auto value = [&](const std::string& key) -> std::string {
    const std::size_t kind = pick(40);
    if (kind < 36) {  // mostly the right type for the key
      if (key == "id" || key == "source_id" || key == "target_id") return uuids[pick(4)];
      if (key == "namespace" || key == "relation") return texts[pick(texts.size())];
      if (key == "type") return pick(8) ? "\"edge\"" : "\"entity\"";
      if (key == "metadata") return others[4 + pick(3)];
      return numbers[pick(numbers.size())];
    }
    if (kind < 37) return uuids[pick(uuids.size())];
    if (kind < 38) return texts[pick(texts.size())];
    if (kind < 39) return numbers[pick(numbers.size())];
    return others[pick(others.size())];
  };
  const std::vector<std::string> keys = {"type",   "id",       "namespace",  "source_id",  "target_id", "relation",
                                         "weight", "metadata", "created_at", "updated_at", "deleted_at"};
  int taken = 0;
  for (int n = 0; n < 20000; ++n) {
    std::vector<std::string> chosen = {"type", "source_id", "target_id", "relation"};
    for (const auto& k : keys)
      if (pick(2) && std::find(chosen.begin(), chosen.end(), k) == chosen.end()) chosen.push_back(k);
    if (pick(20) == 0) chosen.erase(chosen.begin() + static_cast<std::ptrdiff_t>(pick(chosen.size())));
    if (pick(20) == 0) chosen.push_back(keys[pick(keys.size())]);  // maybe a repeat
    if (pick(30) == 0) chosen.push_back("colour");
    std::shuffle(chosen.begin(), chosen.end(), rng);
    std::string line = pick(4) ? "{" : " { ";
    for (std::size_t i = 0; i < chosen.size(); ++i) {
      line +=
          (i ? (pick(3) ? "," : " , ") : "") + ("\"" + chosen[i] + "\"") + (pick(3) ? ":" : " : ") + value(chosen[i]);
    }
    line += pick(4) ? "}" : "} ";
    if (pick(50) == 0) line += "x";
    std::string scratch;
    Edge fast;
    if (!decodePlainEdgeLine(line, scratch, fast)) continue;
    ++taken;
    Edge general;
    try {
      general = edgeFromJson(Json::parse(line));
    } catch (const std::exception& e) {
      ADD_FAILURE() << "the fast decoder took a line the general one rejects (" << e.what() << "): " << line;
      continue;
    }
    expectSameEdge(fast, general, line.find("\"id\"") != std::string::npos, line);
  }
  EXPECT_GT(taken, 1000) << "the generator should make many lines the fast decoder takes";
}
