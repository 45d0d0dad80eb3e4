// Validation at the boundary, through the verbs and import, on every backend: text that is not
// UTF-8, the [limits] of khive.toml, ids unique across record types, JSONL lines that nest too
// deep or run too long. Each refusal is an Error naming the field (and the line), and nothing
// of the refused record is written.
#include <gtest/gtest.h>

#include <sstream>

#include "khive/core/error.h"
#include "khive/runtime/codec.h"
#include "khive/runtime/indexing.h"
#include "khive/runtime/runtime.h"
#include "khive/runtime/transfer.h"
#include "khive/storage/record_checks.h"
#include "support/test_backends.h"

namespace khive::testing {
namespace {

using runtime::Runtime;

class Boundary : public ::testing::TestWithParam<BackendCase> {
 protected:
  void SetUp() override { KHIVE_SKIP_UNAVAILABLE_BACKEND(GetParam()); }

  std::unique_ptr<Runtime> open(Limits limits = {}) {
    runtime::Config config;
    config.limits = limits;
    return std::make_unique<Runtime>(GetParam().make(), runtime::RuntimeOptions{config, std::nullopt, std::nullopt});
  }
  // The Error f throws; a test failure when it throws none.
  static Error errorOf(const std::function<void()>& f) {
    try {
      f();
    } catch (const Error& e) {
      return e;
    }
    ADD_FAILURE() << "expected an Error";
    return Error(ErrorCode::Driver, "", "", "none");
  }
  static std::int64_t records(Runtime& rt) {
    auto ns = rt.readNamespaces();
    auto& b = rt.backend();
    return b.entities().countEntities({.namespaces = ns, .includeDeleted = true}) +
           b.notes().countNotes({.namespaces = ns, .includeDeleted = true}) +
           b.graph().countEdges({.namespaces = ns, .includeDeleted = true});
  }
  static Error importError(Runtime& rt, const std::string& text, runtime::TransferOptions options = {}) {
    std::istringstream in(text);
    return errorOf([&] { runtime::importJsonl(rt, in, options); });
  }
  // {"a": {"a": ... 1}} nested `depth` objects deep, as JSON text.
  static std::string nestedText(int depth) {
    std::string s;
    for (int i = 0; i < depth; ++i) s += "{\"a\":";
    s += "1";
    s += std::string(static_cast<std::size_t>(depth), '}');
    return s;
  }
  static void expectHas(const Error& e, ErrorCode code, const std::string& text) {
    EXPECT_EQ(e.code(), code) << e.what();
    EXPECT_NE(e.message().find(text), std::string::npos) << e.message();
  }
};

const std::string kBad = "bad\xff" "name";

TEST_P(Boundary, VerbsRefuseInvalidUtf8AndNothingIsWritten) {
  auto rt = open();
  auto ok = rt->createEntity({.kind = "concept", .name = "ok"});
  expectHas(errorOf([&] { rt->createEntity({.kind = "concept", .name = kBad}); }), ErrorCode::InvalidInput,
            "entity name is not valid UTF-8 (byte 3 is 0xFF)");
  expectHas(errorOf([&] { rt->createEntity({.kind = "concept", .name = "x", .tags = {kBad}}); }),
            ErrorCode::InvalidInput, "entity tag");
  expectHas(errorOf([&] { rt->createEntity({.kind = "concept", .name = "x", .properties = Json{{"k", kBad}}}); }),
            ErrorCode::InvalidInput, "entity properties.k");
  expectHas(errorOf([&] { rt->createNote({.kind = "observation", .content = kBad}); }), ErrorCode::InvalidInput,
            "note content");
  expectHas(errorOf([&] { rt->createNote({.kind = "observation", .content = std::string("a\0b", 3)}); }),
            ErrorCode::InvalidInput, "NUL");
  auto other = rt->createEntity({.kind = "concept", .name = "other"});
  expectHas(errorOf([&] { rt->link({.source = ok.id, .target = other.id, .relation = "extends", .metadata = Json{{kBad, 1}}}); }),
            ErrorCode::InvalidInput, "edge metadata: a key");
  expectHas(errorOf([&] { rt->update(ok.id, {.name = kBad}); }), ErrorCode::InvalidInput, "entity name");
  EXPECT_EQ(records(*rt), 2);
  EXPECT_EQ(std::get<Entity>(*rt->get(ok.id)).name, "ok");
  // The refusals were logged, and everything reads and serialises.
  auto events = rt->list({.type = "event", .limit = 100});
  EXPECT_GE(events.items.size(), 7u);
  EXPECT_NO_THROW((void)runtime::toJson(events).dump());
  std::ostringstream out;
  runtime::exportJsonl(*rt, out);
  std::istringstream lines(out.str());
  for (std::string l; std::getline(lines, l);) EXPECT_TRUE(Json::accept(l)) << l;
}

TEST_P(Boundary, VerbsEnforceTheConfiguredLimits) {
  Limits l;
  l.maxNameBytes = 16;
  l.maxTextBytes = 64;
  l.maxTags = 2;
  l.maxJsonBytes = 100;
  l.maxJsonDepth = 3;
  auto rt = open(l);
  const std::string name17(17, 'n'), text65(65, 't');
  expectHas(errorOf([&] { rt->createEntity({.kind = "concept", .name = name17}); }), ErrorCode::InvalidInput,
            "entity name is 17 bytes; the limit is 16 (raise [limits] max_name_bytes");
  expectHas(errorOf([&] { rt->createEntity({.kind = "concept", .name = "x", .description = text65}); }),
            ErrorCode::InvalidInput, "max_text_bytes");
  expectHas(errorOf([&] { rt->createEntity({.kind = "concept", .name = "x", .tags = {"a", "b", "c"}}); }),
            ErrorCode::InvalidInput, "entity tags is 3 entries; the limit is 2 (raise [limits] max_tags");
  expectHas(errorOf([&] { rt->createEntity({.kind = "concept", .name = "x", .tags = {name17}}); }),
            ErrorCode::InvalidInput, "entity tag is 17 bytes");
  expectHas(errorOf([&] {
              rt->createEntity({.kind = "concept", .name = "x", .properties = Json{{"k", std::string(120, 'v')}}});
            }),
            ErrorCode::InvalidInput, "max_json_bytes");
  expectHas(errorOf([&] { rt->createEntity({.kind = "concept", .name = "x", .properties = Json::parse(nestedText(4))}); }),
            ErrorCode::InvalidInput, "entity properties: nested deeper than 3 levels of objects and arrays; raise [limits] max_json_depth");
  expectHas(errorOf([&] { rt->createNote({.kind = "observation", .content = text65}); }), ErrorCode::InvalidInput,
            "note content is 65 bytes");
  auto a = rt->createEntity({.kind = "concept", .name = "a", .properties = Json::parse(nestedText(3))});
  auto b = rt->createEntity({.kind = "concept", .name = "b", .tags = {"t1", "t2"}});
  expectHas(errorOf([&] { rt->link({.source = a.id, .target = b.id, .relation = "extends", .metadata = Json::parse(nestedText(4))}); }),
            ErrorCode::InvalidInput, "edge metadata: nested deeper than 3");
  expectHas(errorOf([&] { rt->update(a.id, {.description = text65}); }), ErrorCode::InvalidInput, "max_text_bytes");
  EXPECT_EQ(records(*rt), 2);
}

TEST_P(Boundary, VerbsRefuseAnIdOfAnotherRecordType) {
  auto rt = open();
  auto e = rt->createEntity({.kind = "concept", .name = "e"});
  auto n = rt->createNote({.kind = "observation", .content = "n"});
  auto ed = rt->link({.source = n.id, .target = e.id, .relation = "annotates"});
  auto ev = rt->list({.type = "event", .limit = 1}).items.at(0);
  const Uuid eventId = std::get<Event>(ev).id;
  expectHas(errorOf([&] { rt->createNote({.id = e.id, .kind = "observation", .content = "x"}); }), ErrorCode::Conflict,
            "is already used by an entity, so a note cannot have it");
  expectHas(errorOf([&] { rt->createEntity({.id = n.id, .kind = "concept", .name = "x"}); }), ErrorCode::Conflict,
            "already used by a note, so an entity cannot have it");
  expectHas(errorOf([&] { rt->createEntity({.id = ed.id, .kind = "concept", .name = "x"}); }), ErrorCode::Conflict,
            "already used by an edge");
  expectHas(errorOf([&] { rt->createNote({.id = eventId, .kind = "observation", .content = "x"}); }), ErrorCode::Conflict,
            "already used by an event");
  EXPECT_EQ(errorOf([&] { rt->createEntity({.id = e.id, .kind = "concept", .name = "x"}); }).code(), ErrorCode::AlreadyExists);
  EXPECT_EQ(records(*rt), 3);
}

TEST_P(Boundary, ImportRefusesAnIdOfAnotherRecordTypeNamingTheLine) {
  const std::string a = "0190a000-0000-7000-8000-00000000000a", b = "0190a000-0000-7000-8000-00000000000b",
                    c = "0190a000-0000-7000-8000-00000000000c";
  auto entityLine = [](const std::string& id, const std::string& name) {
    return Json{{"type", "entity"}, {"id", id}, {"kind", "concept"}, {"name", name}}.dump() + "\n";
  };
  for (std::int64_t preload : {std::int64_t{100'000}, std::int64_t{0}}) {  // ids read at the start, or asked per chunk
    SCOPED_TRACE(preload);
    runtime::TransferOptions o{.batchSize = 2, .progress = {}, .idPreloadRows = preload};
    {  // an entity and a note on two lines of one file
      auto rt = open();
      auto e = importError(*rt, entityLine(a, "A") + Json{{"type", "note"}, {"id", a}, {"kind", "observation"}, {"content", "x"}}.dump() + "\n", o);
      expectHas(e, ErrorCode::Conflict, "line 2: id " + a + " is already used by an entity, so a note cannot have it");
      EXPECT_EQ(records(*rt), 1);
    }
    {  // an edge reusing an entity's id of the same file
      auto rt = open();
      auto e = importError(*rt,
                           entityLine(a, "A") + entityLine(b, "B") +
                               Json{{"type", "edge"}, {"id", b}, {"source_id", a}, {"target_id", b}, {"relation", "extends"}}.dump() + "\n",
                           o);
      expectHas(e, ErrorCode::Conflict, "line 3: id " + b + " is already used by an entity, so an edge cannot have it");
      EXPECT_EQ(records(*rt), 2);
    }
    {  // stored before the import: an edge's id for an entity, an entity's id for an edge and an event
      auto rt = open();
      std::istringstream first(entityLine(a, "A") + entityLine(b, "B") +
                               Json{{"type", "edge"}, {"id", c}, {"source_id", a}, {"target_id", b}, {"relation", "extends"}}.dump() + "\n");
      runtime::importJsonl(*rt, first, o);
      expectHas(importError(*rt, entityLine(c, "C"), o), ErrorCode::Conflict, "line 1: id " + c + " is already used by an edge");
      expectHas(importError(*rt,
                            Json{{"type", "edge"}, {"id", a}, {"source_id", b}, {"target_id", a}, {"relation", "extends"}}.dump() + "\n",
                            o),
                ErrorCode::Conflict, "is already used by an entity, so an edge cannot have it");
      expectHas(importError(*rt,
                            Json{{"type", "event"}, {"id", b}, {"verb", "create"}, {"substrate", "entity"}, {"actor", "x"}}.dump() + "\n",
                            o),
                ErrorCode::Conflict, "is already used by an entity, so an event cannot have it");
      EXPECT_EQ(records(*rt), 3);
      // The same file again is an upsert of the same types.
      std::istringstream again(entityLine(a, "A") + entityLine(b, "B"));
      EXPECT_NO_THROW(runtime::importJsonl(*rt, again, o));
    }
  }
}

TEST_P(Boundary, ImportRefusesDeepJsonNamingTheLineAndKeepsTheEdgesBefore) {
  const std::string a = "0190a000-0000-7000-8000-00000000000a", b = "0190a000-0000-7000-8000-00000000000b",
                    c = "0190a000-0000-7000-8000-00000000000c";
  std::string head;
  for (const auto& [id, name] : {std::pair{a, "A"}, std::pair{b, "B"}, std::pair{c, "C"}})
    head += Json{{"type", "entity"}, {"id", id}, {"kind", "concept"}, {"name", name}}.dump() + "\n";
  head += R"({"type":"edge","source_id":")" + a + R"(","target_id":")" + b + R"(","relation":"extends"})" "\n";
  head += R"({"type":"edge","source_id":")" + b + R"(","target_id":")" + c + R"(","relation":"extends"})" "\n";
  auto edgeWith = [&](int depth) {
    return R"({"type":"edge","source_id":")" + a + R"(","target_id":")" + c + R"(","relation":"extends","metadata":)" +
           nestedText(depth) + "}\n";
  };
  {  // past what any backend stores: refused before it is parsed
    auto rt = open();
    auto e = importError(*rt, head + edgeWith(5000));
    expectHas(e, ErrorCode::InvalidInput, "line 6: JSON nested deeper than 512 levels");
    EXPECT_EQ(rt->backend().graph().countEdges({.namespaces = rt->readNamespaces()}), 2);
    EXPECT_EQ(records(*rt), 5);
  }
  {  // past [limits] max_json_depth: the field and the key to raise
    auto rt = open();
    auto e = importError(*rt, head + edgeWith(100));
    expectHas(e, ErrorCode::InvalidInput, "line 6: edge metadata: nested deeper than 64 levels");
    expectHas(e, ErrorCode::InvalidInput, "max_json_depth");
    EXPECT_EQ(rt->backend().graph().countEdges({.namespaces = rt->readNamespaces()}), 2);
  }
  {  // within the limits: stored
    auto rt = open();
    std::istringstream in(head + edgeWith(64));
    runtime::importJsonl(*rt, in);
    EXPECT_EQ(rt->backend().graph().countEdges({.namespaces = rt->readNamespaces()}), 3);
  }
}

TEST_P(Boundary, ImportRefusesLongLinesAndInvalidTextNamingTheLine) {
  Limits l;
  l.maxImportLineBytes = 2000;
  auto rt = open(l);
  auto line = [](const std::string& name, std::size_t description) {
    return Json{{"type", "entity"}, {"kind", "concept"}, {"name", name}, {"description", std::string(description, 'd')}}.dump() + "\n";
  };
  auto e = importError(*rt, line("one", 10) + line("two", 10) + line("long", 50'000) + line("after", 10));
  expectHas(e, ErrorCode::InvalidInput, "line 3: the line is 50");
  expectHas(e, ErrorCode::InvalidInput, "the limit is 2000 (raise [limits] max_import_line_bytes");
  EXPECT_EQ(records(*rt), 2);
  // A line exactly at the limit is read whole.
  std::string exact = line("exact", 0);
  exact = line("exact", 2000 - exact.size() + 1);
  ASSERT_EQ(exact.size(), 2001u);
  std::istringstream in(exact);
  runtime::importJsonl(*rt, in);
  EXPECT_EQ(records(*rt), 3);
  // Lines longer than the read buffer (64 KiB) are read in pieces: whole when under the limit,
  // through and refused when over it, also as the last line without a newline.
  Limits wide;
  wide.maxImportLineBytes = 300'000;
  wide.maxTextBytes = 1 << 20;
  auto rt2 = open(wide);
  std::istringstream big(line("big", 200'000) + line("bigger", 65536 * 3 - 58));
  runtime::importJsonl(*rt2, big);
  EXPECT_EQ(records(*rt2), 2);
  std::string last = line("huge", 400'000);
  last.pop_back();  // no newline at the end of the input
  expectHas(importError(*rt2, line("fine", 1) + last), ErrorCode::InvalidInput, "line 2: the line is 400");
  EXPECT_EQ(records(*rt2), 3);
  // Bytes that are not UTF-8, and a lone surrogate escape.
  expectHas(importError(*rt, line("fine", 1) + "{\"type\":\"entity\",\"kind\":\"concept\",\"name\":\"" + kBad + "\"}\n"),
            ErrorCode::InvalidInput, "line 2:");
  expectHas(importError(*rt, "{\"type\":\"entity\",\"kind\":\"concept\",\"name\":\"x\\ud800y\"}\n"), ErrorCode::InvalidInput,
            "line 1:");
  expectHas(importError(*rt, "{\"type\":\"entity\",\"kind\":\"concept\",\"name\":\"x\\u0000y\"}\n"), ErrorCode::InvalidInput,
            "line 1: entity name contains a NUL");
  EXPECT_EQ(records(*rt), 4);
  std::ostringstream out;
  runtime::exportJsonl(*rt, out);
  std::istringstream back(out.str());
  for (std::string l2; std::getline(back, l2);) EXPECT_TRUE(Json::accept(l2)) << l2;
}

// Every text argument of a read reaches a store only as UTF-8 without NUL and within its limit,
// and every number within its bound (khive/runtime/bounds.h): khive names the argument, on
// PostgreSQL too (whose own refusal of invalid UTF-8 names none). A refused write's audit event
// keeps an excerpt of the bad kind that exports and imports again.
TEST_P(Boundary, ReadArgumentsAreCheckedBeforeTheyReachAStore) {
  Limits l;
  l.maxSearchBytes = 64;
  l.maxQueryBytes = 128;
  auto rt = open(l);
  auto a = rt->createEntity({.kind = "concept", .name = "a"});
  auto b = rt->createEntity({.kind = "concept", .name = "b"});
  rt->link({.source = a.id, .target = b.id, .relation = "extends"});
  const std::string nul("a\0b", 3);
  const auto bad = ErrorCode::InvalidInput;
  expectHas(errorOf([&] { rt->search({.text = kBad}); }), bad, "search text is not valid UTF-8");
  expectHas(errorOf([&] { rt->search({.text = nul}); }), bad, "search text contains a NUL");
  expectHas(errorOf([&] { rt->search({.text = std::string(65, 'w')}); }), bad,
            "search text is 65 bytes; the limit is 64 (raise [limits] max_search_bytes");
  expectHas(errorOf([&] { rt->search({.text = "a", .kinds = {kBad}}); }), bad, "search kinds is not valid UTF-8");
  expectHas(errorOf([&] { rt->search({.text = "a", .topK = 0}); }), bad, "limit must be 1..1000, got 0");
  expectHas(errorOf([&] { rt->query({.text = "MATCH (x {name: '" + kBad + "'}) RETURN x.name"}); }), bad,
            "query text is not valid UTF-8");
  expectHas(errorOf([&] { rt->query({.text = "MATCH (x) RETURN x.name" + nul}); }), bad, "query text contains a NUL");
  expectHas(errorOf([&] { rt->query({.text = std::string(129, ' ')}); }), bad, "max_query_bytes");
  expectHas(errorOf([&] { rt->query({.text = "MATCH (x) WHERE x.name = $p RETURN x.name", .parameters = Json{{"p", kBad}}}); }),
            bad, "query parameters.p");
  expectHas(errorOf([&] { rt->query({.text = "MATCH (x) RETURN x.name", .rowCap = 10001}); }), bad,
            "cap must be 1..10000, got 10001");
  expectHas(errorOf([&] { rt->list({.namePrefix = kBad}); }), bad, "list name_prefix is not valid UTF-8");
  expectHas(errorOf([&] { rt->list({.namePrefix = nul}); }), bad, "list name_prefix contains a NUL");
  expectHas(errorOf([&] { rt->list({.tags = {kBad}}); }), bad, "list tags");
  for (const char* type : {"entity", "note", "edge", "event"})
    expectHas(errorOf([&] { rt->list({.type = type, .kinds = {kBad}}); }), bad, "list kinds is not valid UTF-8");
  expectHas(errorOf([&] { rt->list({.kinds = std::vector<std::string>(1001, "concept")}); }), bad,
            "list kinds has 1001 values; at most 1000");
  expectHas(errorOf([&] { rt->list({.limit = 0}); }), bad, "limit must be 1..10000, got 0");
  expectHas(errorOf([&] { rt->list({.offset = -1}); }), bad, "offset must be 0..1000000000, got -1");
  expectHas(errorOf([&] { rt->list({.type = std::string(100000, 't')}); }), bad, "list type is 100000 bytes");
  expectHas(errorOf([&] { rt->neighbors(a.id, storage::Direction::Both, {kBad}, 10); }), bad, "relations is not valid UTF-8");
  expectHas(errorOf([&] { rt->neighbors(a.id, storage::Direction::Both, {}, 10001); }), bad, "limit must be 1..10000");
  expectHas(errorOf([&] { rt->traverse({a.id}, 3, storage::Direction::Out, {nul}, 10); }), bad, "relations contains a NUL");
  expectHas(errorOf([&] { rt->traverse({a.id}, 11, storage::Direction::Out, {}, 10); }), bad, "depth must be 1..10, got 11");
  expectHas(errorOf([&] { rt->traverse({a.id}, 3, storage::Direction::Out, {}, 0); }), bad, "limit must be 1..100000, got 0");
  expectHas(errorOf([&] { rt->traverse({}, 3, storage::Direction::Out, {}, 10); }), bad, "the number of roots must be 1..1000");
  expectHas(errorOf([&] { rt->path(a.id, b.id, 0, storage::Direction::Out, {}); }), bad, "depth must be 1..10, got 0");
  expectHas(errorOf([&] { rt->path(a.id, b.id, 3, storage::Direction::Out, {std::string(5000, 'r')}); }), bad,
            "relations is 5000 bytes");
  expectHas(errorOf([&] { rt->indexing().embeddingEngine(kBad); }), bad, "engine name is not valid UTF-8");
  // Messages quote an excerpt of the input, never all of it.
  const std::string longId(100000, 'f');
  auto e = errorOf([&] { rt->resolveId(longId); });
  expectHas(e, bad, "is not an id");
  EXPECT_LT(e.message().size(), 300u);
  // A refused write with a kind holding NUL and far past the limits: the error event holds an
  // excerpt, and the export imports into another store.
  expectHas(errorOf([&] { rt->createEntity({.kind = nul + std::string(100000, 'k'), .name = "x"}); }), bad, "entity kind");
  auto events = rt->list({.type = "event", .limit = 100});
  bool found = false;
  for (const auto& r : events.items) {
    const auto& ev = std::get<Event>(r);
    if (ev.outcome != Outcome::Error) continue;
    found = found || ev.kind.starts_with("a\\x00b");
    EXPECT_LE(ev.kind.size(), 200u);
    EXPECT_EQ(ev.kind.find('\0'), std::string::npos);
  }
  EXPECT_TRUE(found);
  std::ostringstream out;
  runtime::exportJsonl(*rt, out);
  runtime::Runtime again(backendCases().front().make(), runtime::RuntimeOptions{});
  std::istringstream in(out.str());
  EXPECT_NO_THROW(runtime::importJsonl(again, in));
}

INSTANTIATE_TEST_SUITE_P(Backends, Boundary, ::testing::ValuesIn(backendCases()), BackendCaseName());

}  // namespace
}  // namespace khive::testing
