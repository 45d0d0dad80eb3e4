#include "contract/contract_fixture.h"

namespace khive::testing {
namespace {

using storage::DeleteMode;
using storage::NoteFilter;
using storage::PredicateOp;
using storage::PropertyPredicate;

class NoteContract : public ContractTest {
 protected:
  Note withProps(const std::string& content, Json props, std::optional<double> salience = std::nullopt) {
    Note n;
    n.id = Uuid::v7();
    n.ns = "ns1";
    n.kind = "observation";
    n.content = content;
    n.properties = std::move(props);
    n.salience = salience;
    return db->notes().upsertNote(n);
  }
  std::vector<std::string> contents(const NoteFilter& f, storage::NoteOrder order = {}) {
    std::vector<std::string> out;
    for (auto& n : db->notes().queryNotes(f, {}, order).items) out.push_back(n.content);
    return out;
  }
};

TEST_P(NoteContract, RoundTripsEveryField) {
  Note n;
  n.id = Uuid::v7();
  n.ns = "ns1";
  n.kind = "decision";
  n.status = NoteStatus::Archived;
  n.name = "pick sqlite";
  n.content = "Embedded first.\nMulti-line, with ünïcödé.";
  n.salience = 0.25;
  n.decayFactor = 1.5;
  n.expiresAt = 1'900'000'000'000'000;
  n.properties = Json{{"source", "meeting"}, {"n", 3}};
  auto stored = db->notes().upsertNote(n);
  auto got = db->notes().getNote(n.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, stored);
}

TEST_P(NoteContract, RejectsOutOfRangeValues) {
  Note n;
  n.id = Uuid::v7();
  n.ns = "ns1";
  n.kind = "observation";
  n.content = "x";
  n.salience = 1.5;
  EXPECT_EQ(codeOf([&] { db->notes().upsertNote(n); }), ErrorCode::InvalidInput);
  n.salience = std::nullopt;
  n.decayFactor = -1;
  EXPECT_EQ(codeOf([&] { db->notes().upsertNote(n); }), ErrorCode::InvalidInput);
  n.decayFactor = std::nullopt;
  n.content = "";
  EXPECT_EQ(codeOf([&] { db->notes().upsertNote(n); }), ErrorCode::InvalidInput);
  EXPECT_FALSE(db->notes().getNoteIncludingDeleted(n.id));
}

TEST_P(NoteContract, PropertyPredicatesAreTyped) {
  withProps("a", {{"year", 2020}, {"lang", "en"}, {"ok", true}, {"nested", {{"x", 1.5}}}});
  withProps("b", {{"year", 2021.0}, {"lang", "EN"}, {"ok", false}});
  withProps("c", {{"year", "2020"}, {"lang", "de"}});
  withProps("d", Json::object());
  auto q = [&](std::vector<PropertyPredicate> ps) {
    auto v = contents({.namespaces = {"ns1"}, .properties = std::move(ps)});
    std::sort(v.begin(), v.end());
    return v;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(q({{"year", PredicateOp::Eq, 2020}}), V{"a"}) << "a string \"2020\" is not the number 2020";
  EXPECT_EQ(q({{"year", PredicateOp::Eq, 2021}}), V{"b"}) << "integer literal equals a float of the same value";
  EXPECT_EQ(q({{"year", PredicateOp::Eq, "2020"}}), V{"c"});
  EXPECT_EQ(q({{"year", PredicateOp::Gt, 2020}}), V{"b"});
  EXPECT_EQ(q({{"year", PredicateOp::Ne, 2020}}), (V{"b", "c"})) << "missing property fails Ne";
  EXPECT_EQ(q({{"lang", PredicateOp::In, Json::array({"en", "de"})}}), (V{"a", "c"}));
  EXPECT_EQ(q({{"lang", PredicateOp::In, Json::array()}}), V{});
  EXPECT_EQ(q({{"ok", PredicateOp::Eq, true}}), V{"a"});
  EXPECT_EQ(q({{"ok", PredicateOp::Eq, 1}}), V{}) << "a number is not a boolean";
  EXPECT_EQ(q({{"nested.x", PredicateOp::Range, 1, 2}}), V{"a"});
  EXPECT_EQ(q({{"year", PredicateOp::Range, Json(), 2020.5}}), V{"a"});
  EXPECT_EQ(q({{"year", PredicateOp::Exists, true}}), (V{"a", "b", "c"}));
  EXPECT_EQ(q({{"year", PredicateOp::Exists, false}}), V{"d"});
  EXPECT_EQ(q({{"year", PredicateOp::Ge, 2020}, {"lang", PredicateOp::Eq, "EN"}}), V{"b"});
  EXPECT_EQ(codeOf([&] { q({{"bad path!", PredicateOp::Eq, 1}}); }), ErrorCode::InvalidInput);
  EXPECT_EQ(codeOf([&] { q({{"a..b", PredicateOp::Eq, 1}}); }), ErrorCode::InvalidInput);
  EXPECT_EQ(codeOf([&] { q({{"x", PredicateOp::Eq, Json::object()}}); }), ErrorCode::InvalidInput);
}

TEST_P(NoteContract, OrdersByColumnOrPropertyWithMissingLast) {
  withProps("low", {{"rank", 1}}, 0.1);
  withProps("high", {{"rank", 3}}, 0.9);
  withProps("none", Json::object());
  withProps("mid", {{"rank", 2}}, 0.5);
  using V = std::vector<std::string>;
  NoteFilter f{.namespaces = {"ns1"}};
  EXPECT_EQ(contents(f, {"properties.rank", storage::SortOrder::Asc}), (V{"low", "mid", "high", "none"}));
  EXPECT_EQ(contents(f, {"properties.rank", storage::SortOrder::Desc}), (V{"high", "mid", "low", "none"}));
  EXPECT_EQ(contents(f, {"salience", storage::SortOrder::Desc}), (V{"high", "mid", "low", "none"}));
  EXPECT_EQ(codeOf([&] { contents(f, {"content; DROP", storage::SortOrder::Asc}); }), ErrorCode::InvalidInput);
}

TEST_P(NoteContract, StatusKindsDeletesAndCounts) {
  auto a = note("one");
  auto b = note("two", "ns1", "question");
  Note archived = note("three");
  archived.status = NoteStatus::Archived;
  db->notes().upsertNote(archived);
  EXPECT_EQ(db->notes().countNotes({.namespaces = {"ns1"}}), 3);
  EXPECT_EQ(db->notes().countNotes({.namespaces = {"ns1"}, .status = NoteStatus::Archived}), 1);
  EXPECT_EQ(db->notes().countNotes({.namespaces = {"ns1"}, .kinds = {"question"}}), 1);
  EXPECT_TRUE(db->notes().deleteNote(a.id, DeleteMode::Soft));
  EXPECT_FALSE(db->notes().getNote(a.id));
  EXPECT_TRUE(db->notes().getNoteIncludingDeleted(a.id));
  EXPECT_EQ(db->notes().countNotes({.namespaces = {"ns1"}}), 2);
  auto e = entity("subject");
  auto annot = link(b.id, "annotates", e.id);
  EXPECT_TRUE(db->notes().deleteNote(b.id, DeleteMode::Hard));
  EXPECT_FALSE(db->notes().getNoteIncludingDeleted(b.id));
  EXPECT_FALSE(db->graph().getEdge(annot.id));
  EXPECT_EQ(codeOf([&] { db->notes().countNotes({}); }), ErrorCode::InvalidInput);
}

TEST_P(NoteContract, BatchAccounting) {
  std::vector<Note> batch(4);
  for (int i = 0; i < 4; ++i) {
    batch[i].id = Uuid::v7();
    batch[i].ns = "ns1";
    batch[i].kind = "insight";
    batch[i].content = "c" + std::to_string(i);
  }
  batch[2].salience = -0.1;
  auto s = db->notes().upsertNotes(batch);
  EXPECT_EQ(s.attempted, 4u);
  EXPECT_EQ(s.affected, 3u);
  EXPECT_EQ(s.failed, 1u);
  EXPECT_EQ(db->notes().countNotes({.namespaces = {"ns1"}}), 3);
}

KHIVE_INSTANTIATE_CONTRACT(NoteContract);

}  // namespace
}  // namespace khive::testing
