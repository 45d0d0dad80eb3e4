// What every backend refuses before writing (khive/storage/record_checks.h): text that is not
// UTF-8 or holds NUL, and JSON values nested deeper than storage::kMaxJsonDepth. Every
// backend refuses the same records with the same error, and stores what it accepts exactly.
#include "contract/contract_fixture.h"
#include <fmt/format.h>

#include "khive/storage/record_checks.h"

namespace khive::testing {
namespace {

class RecordChecksContract : public ContractTest {
 protected:
  // {"a": {"a": ... 1}} nested `depth` objects deep, built without deep copies.
  static Json nested(int depth) {
    Json inner = 1;
    for (int i = 0; i < depth; ++i) {
      Json o = Json::object();
      o["a"] = std::move(inner);
      inner = std::move(o);
    }
    return inner;
  }
  static Entity entityNamed(const std::string& name) {
    Entity e;
    e.id = Uuid::v7();
    e.ns = "ns1";
    e.kind = "concept";
    e.name = name;
    return e;
  }
  static Event eventBy(const std::string& actor) {
    Event ev;
    ev.id = Uuid::v7();
    ev.ns = "ns1";
    ev.verb = "create";
    ev.actor = actor;
    ev.kind = "concept";
    return ev;
  }
  std::int64_t stored() {
    return db->entities().countEntities({.namespaces = {"ns1"}, .includeDeleted = true}) +
           db->notes().countNotes({.namespaces = {"ns1"}, .includeDeleted = true}) +
           db->graph().countEdges({.namespaces = {"ns1"}, .includeDeleted = true}) +
           db->events().countEvents({.namespaces = {"ns1"}});
  }
};

const std::string kBad = "bad\xff" "name";           // 0xFF never occurs in UTF-8
const std::string kSurrogate = "x\xed\xa0\x80y";     // U+D800 encoded: not UTF-8
const std::string kOverlong = "\xc0\xaf";            // '/' in two bytes: not UTF-8
const std::string kNul = std::string("a\0b", 3);

TEST_P(RecordChecksContract, InvalidUtf8IsRefusedByEveryStoreAndNothingIsWritten) {
  auto a = entity("a"), b = entity("b");
  const auto before = stored();
  for (const auto& bad : {kBad, kSurrogate, kOverlong, kNul}) {
    SCOPED_TRACE(::testing::PrintToString(bad));
    EXPECT_NE(refusal([&] { db->entities().upsertEntity(entityNamed(bad)); }).find("entity name"), std::string::npos);
    Entity e = entityNamed("ok");
    e.description = bad;
    EXPECT_NE(refusal([&] { db->entities().upsertEntity(e); }).find("entity description"), std::string::npos);
    e = entityNamed("ok");
    e.tags = {"fine", bad};
    EXPECT_NE(refusal([&] { db->entities().upsertEntity(e); }).find("entity tag"), std::string::npos);
    e = entityNamed("ok");
    e.properties = Json{{"k", Json::array({"fine", bad})}};
    EXPECT_NE(refusal([&] { db->entities().upsertEntity(e); }).find("entity properties.k[1]"), std::string::npos);
    e.properties = Json{{bad, 1}};
    EXPECT_NE(refusal([&] { db->entities().upsertEntity(e); }).find("a key"), std::string::npos);
    // A batch counts the row as failed and writes the others.
    auto summary = db->entities().upsertEntities(std::vector<Entity>{entityNamed(bad)});
    EXPECT_EQ(summary.failed, 1u);

    Note n;
    n.id = Uuid::v7();
    n.ns = "ns1";
    n.kind = "observation";
    n.content = bad;
    EXPECT_NE(refusal([&] { db->notes().upsertNote(n); }).find("note content"), std::string::npos);
    n.content = "fine";
    n.name = bad;
    EXPECT_NE(refusal([&] { db->notes().upsertNote(n); }).find("note name"), std::string::npos);

    Edge ed = edgeOf(a.id, "extends", b.id);
    ed.metadata = Json{{"why", bad}};
    EXPECT_NE(refusal([&] { db->graph().upsertEdge(ed); }).find("edge metadata.why"), std::string::npos);
    ed = edgeOf(a.id, bad, b.id);
    EXPECT_NE(refusal([&] { db->graph().upsertEdge(ed); }).find("edge relation"), std::string::npos);

    EXPECT_NE(refusal([&] { db->events().appendEvent(eventBy(bad)); }).find("event actor"), std::string::npos);
    Event ev = eventBy("agent");
    ev.payload = Json{{"error", bad}};
    EXPECT_NE(refusal([&] { db->events().appendEvent(ev); }).find("event payload.error"), std::string::npos);
  }
  EXPECT_EQ(stored(), before);
  // The store still reads and lists.
  EXPECT_EQ(db->entities().queryEntities({.namespaces = {"ns1"}}).items.size(), 2u);
}

TEST_P(RecordChecksContract, JsonDeeperThanTheCeilingIsRefusedTheSameWayEverywhere) {
  auto a = entity("a"), b = entity("b");
  const auto before = stored();
  const std::string deep = fmt::format("nested deeper than {} levels of objects and arrays, the most khive stores",
                                       storage::kMaxJsonDepth);
  Json tooDeep = nested(5000);
  Entity e = entityNamed("deep");
  e.properties = tooDeep;
  EXPECT_EQ(refusal([&] { db->entities().upsertEntity(e); }), "entity properties: " + deep);
  Note n;
  n.id = Uuid::v7();
  n.ns = "ns1";
  n.kind = "observation";
  n.content = "deep";
  n.properties = tooDeep;
  EXPECT_EQ(refusal([&] { db->notes().upsertNote(n); }), "note properties: " + deep);
  Edge ed = edgeOf(a.id, "extends", b.id);
  ed.metadata = tooDeep;
  EXPECT_EQ(refusal([&] { db->graph().upsertEdge(ed); }), "edge metadata: " + deep);
  // A bulk load refuses it as it is added or counts it failed when it writes.
  auto load = db->graph().beginLoad();
  std::string loadError;
  try {
    load->add(std::vector<Edge>{ed});
    auto summary = load->finish();
    EXPECT_EQ(summary.failed, 1u);
    loadError = summary.firstError.value_or("");
  } catch (const Error& err) {
    loadError = err.message();
  }
  EXPECT_NE(loadError.find("edge metadata: " + deep), std::string::npos) << loadError;
  Event ev = eventBy("agent");
  ev.payload = tooDeep;
  EXPECT_EQ(refusal([&] { db->events().appendEvent(ev); }), "event payload: " + deep);
  // One past the ceiling is refused too.
  e.properties = nested(storage::kMaxJsonDepth + 1);
  EXPECT_EQ(refusal([&] { db->entities().upsertEntity(e); }), "entity properties: " + deep);
  EXPECT_EQ(stored(), before);
}

TEST_P(RecordChecksContract, JsonAtTheCeilingIsStoredAndReadBackExactly) {
  auto a = entity("a"), b = entity("b");
  Json atCeiling = nested(storage::kMaxJsonDepth);
  ASSERT_EQ(storage::jsonDepth(atCeiling), storage::kMaxJsonDepth);
  Entity e = entityNamed("at the ceiling");
  e.properties = atCeiling;
  db->entities().upsertEntity(e);
  auto got = db->entities().getEntity(e.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->properties, atCeiling);
  Edge ed = edgeOf(a.id, "extends", b.id);
  ed.metadata = atCeiling;
  db->graph().upsertEdge(ed);
  auto edge = db->graph().getEdge(ed.id);
  ASSERT_TRUE(edge);
  EXPECT_EQ(edge->metadata, atCeiling);
  Event ev = eventBy("agent");
  ev.payload = atCeiling;
  db->events().appendEvent(ev);
  auto event = db->events().getEvent(ev.id);
  ASSERT_TRUE(event);
  EXPECT_EQ(event->payload, atCeiling);
}

TEST_P(RecordChecksContract, UnicodeBeyondAsciiIsStoredExactly) {
  const std::string text = "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x90\x95 \x7f\x01";  // é, 日本, 🐕, DEL, SOH
  Entity e = entityNamed(text);
  e.description = text;
  e.tags = {text};
  e.properties = Json{{text, text}};
  db->entities().upsertEntity(e);
  auto got = db->entities().getEntity(e.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->name, text);
  EXPECT_EQ(got->description, text);
  EXPECT_EQ(got->tags, std::vector<std::string>{text});
  EXPECT_EQ(got->properties, e.properties);
}

KHIVE_INSTANTIATE_CONTRACT(RecordChecksContract);

}  // namespace
}  // namespace khive::testing
