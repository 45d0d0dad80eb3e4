#include "contract/contract_fixture.h"

namespace khive::testing {
namespace {

class EventContract : public ContractTest {
 protected:
  Event event(const std::string& verb, const std::string& actor, Micros at, const std::string& ns = "ns1") {
    Event e;
    e.id = Uuid::v7();
    e.ns = ns;
    e.verb = verb;
    e.substrate = verb == "remember" ? Substrate::Note : Substrate::Entity;
    e.actor = actor;
    e.kind = "audit";
    e.outcome = Outcome::Success;
    e.payload = Json{{"n", at}};
    e.durationUs = 12;
    e.createdAt = at;
    return e;
  }
};

TEST_P(EventContract, AppendGetRoundTrip) {
  auto e = event("create", "agent-1", 0);
  e.targetId = Uuid::v7();
  e.sessionId = "s-1";
  e.outcome = Outcome::Denied;
  auto stored = db->events().appendEvent(e);
  EXPECT_GT(stored.createdAt, 0);
  auto got = db->events().getEvent(e.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, stored);
  EXPECT_FALSE(db->events().getEvent(Uuid::v7()));
}

TEST_P(EventContract, DuplicateIdIsAlreadyExists) {
  auto e = event("create", "a", 100);
  db->events().appendEvent(e);
  e.verb = "changed";
  EXPECT_EQ(codeOf([&] { db->events().appendEvent(e); }), ErrorCode::AlreadyExists);
  EXPECT_EQ(db->events().getEvent(e.id)->verb, "create");
}

TEST_P(EventContract, AppendOnlyEvenThroughRawSql) {
  auto e = event("create", "a", 100);
  db->events().appendEvent(e);
  auto w = db->sql().writer();
  EXPECT_THROW(w->execute("UPDATE events SET verb = 'x'"), Error);
  EXPECT_THROW(w->execute("DELETE FROM events"), Error);
  EXPECT_EQ(db->events().getEvent(e.id)->verb, "create");
}

TEST_P(EventContract, QueryFiltersAndOrder) {
  std::vector<Event> batch;
  for (int i = 0; i < 10; ++i) {
    auto e = event(i % 2 ? "link" : "remember", i < 5 ? "alice" : "bob", 1000 + i);
    if (i == 3) e.sessionId = "s";
    batch.push_back(e);
  }
  batch.push_back(event("create", "carol", 5000, "ns2"));
  auto s = db->events().appendEvents(batch);
  EXPECT_EQ(s.affected, 11u);
  auto& ev = db->events();
  EXPECT_EQ(ev.countEvents({.namespaces = {"ns1"}}), 10);
  EXPECT_EQ(ev.countEvents({.namespaces = {"ns1", "ns2"}}), 11);
  EXPECT_EQ(ev.countEvents({.namespaces = {"ns1"}, .verbs = {"link"}}), 5);
  EXPECT_EQ(ev.countEvents({.namespaces = {"ns1"}, .actors = {"bob"}}), 5);
  EXPECT_EQ(ev.countEvents({.namespaces = {"ns1"}, .substrate = Substrate::Note}), 5);
  EXPECT_EQ(ev.countEvents({.namespaces = {"ns1"}, .sessionId = "s"}), 1);
  EXPECT_EQ(ev.countEvents({.namespaces = {"ns1"}, .createdAfter = 1003, .createdBefore = 1006}), 3);
  EXPECT_EQ(ev.countEvents({.namespaces = {"ns1"}, .kinds = {"other"}}), 0);
  auto desc = ev.queryEvents({.namespaces = {"ns1"}, .order = storage::SortOrder::Desc}, {0, 3});
  ASSERT_EQ(desc.items.size(), 3u);
  EXPECT_EQ(desc.items[0].createdAt, 1009);
  EXPECT_EQ(desc.nextOffset, 3);
  EXPECT_EQ(codeOf([&] { ev.countEvents({}); }), ErrorCode::InvalidInput);
  Event bad = event("x", "a", 1);
  bad.payload = Json::array();
  EXPECT_EQ(codeOf([&] { ev.appendEvent(bad); }), ErrorCode::InvalidInput);
}

KHIVE_INSTANTIATE_CONTRACT(EventContract);

}  // namespace
}  // namespace khive::testing
