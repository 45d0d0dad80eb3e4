// Namespace isolation through the runtime on every backend: every id lookup applies the read
// scope (a record outside it is NotFound, worded as a missing one), every write is checked in
// the namespace it changes (PermissionDenied), audit events land in the namespace of the
// record they describe, and an import cannot write a namespace its importer may not.
#include <gtest/gtest.h>

#include <functional>
#include <set>
#include <sstream>

#include "khive/core/error.h"
#include "khive/runtime/codec.h"
#include "khive/runtime/policy.h"
#include "khive/runtime/transfer.h"
#include "runtime/isolation_fixture.h"

using namespace khive;
using namespace khive::runtime;
using khive::testing::ActorSpec;
using khive::testing::BackendCase;
using khive::testing::SharedStore;

namespace {

const std::vector<std::string> kAll = {"alpha", "beta", "gamma"};

struct Failure {
  ErrorCode code = ErrorCode::Driver;
  std::string message;  // with `id` replaced by <id>
};

std::string replaceAll(std::string s, const std::string& what, const std::string& with) {
  for (std::size_t at = 0; !what.empty() && (at = s.find(what, at)) != std::string::npos; at += with.size())
    s.replace(at, what.size(), with);
  return s;
}

// The error `f` throws, its message with `id` written as <id> (to compare the wording for two ids).
Failure failure(const std::function<void()>& f, const Uuid& id) {
  try {
    f();
  } catch (const Error& e) {
    return {e.code(), replaceAll(e.message(), id.str(), "<id>")};
  }
  ADD_FAILURE() << "no error";
  return {};
}

// What the store holds per namespace, read by the privileged reader.
struct Counts {
  std::int64_t entities = 0, notes = 0, edges = 0, events = 0;
  bool operator==(const Counts&) const = default;
};

class Isolation : public ::testing::TestWithParam<BackendCase> {
 protected:
  void SetUp() override {
    KHIVE_SKIP_UNAVAILABLE_BACKEND(GetParam());
    store_ = std::make_unique<SharedStore>(GetParam());
    root_ = store_->privileged(kAll);
    // Each namespace's owner (sees only its own) writes two entities, a note and an edge.
    for (const auto& ns : kAll) {
      auto owner = actor({.id = ns + "-owner", .writeNs = ns});
      Data d;
      d.e1 = owner->createEntity({.kind = "concept", .name = ns + " one", .description = "shared word zebra"}).id;
      d.e2 = owner->createEntity({.kind = "concept", .name = ns + " two"}).id;
      d.note = owner->createNote({.kind = "observation", .content = ns + " note zebra"}).id;
      d.edge = owner->link({.source = d.e1, .target = d.e2, .relation = "extends"}).id;
      d.event = std::get<Event>(owner->list({.type = "event"}).items.at(0)).id;
      data_[ns] = d;
    }
  }

  std::unique_ptr<Runtime> actor(const ActorSpec& a) { return store_->runtime(a); }

  Counts counts(const std::string& ns, bool includeDeleted = true) {
    auto& b = root_->backend();
    Counts c;
    c.entities = b.entities().countEntities({.namespaces = {ns}, .includeDeleted = includeDeleted});
    c.notes = b.notes().countNotes({.namespaces = {ns}, .includeDeleted = includeDeleted});
    c.edges = b.graph().countEdges({.namespaces = {ns}, .includeDeleted = includeDeleted});
    c.events = b.events().countEvents({.namespaces = {ns}});
    return c;
  }
  std::vector<Event> events(const std::string& ns, const std::string& verb) {
    return root_->backend().events().queryEvents({.namespaces = {ns}, .verbs = {verb}}, {.offset = 0, .limit = 1000}).items;
  }

  struct Data {
    Uuid e1, e2, note, edge, event;
  };
  std::map<std::string, Data> data_;
  std::unique_ptr<SharedStore> store_;
  std::unique_ptr<Runtime> root_;
};

Grant grant(std::string actor, std::vector<std::string> verbs, std::vector<std::string> nss) {
  return Grant{.actor = std::move(actor), .verbs = std::move(verbs), .namespaces = std::move(nss)};
}

TEST_P(Isolation, GetOutsideTheScopeIsNotFound) {
  auto beta = actor({.id = "b", .writeNs = "beta"});
  // The same with an actor whose visible namespaces and grants are only beta.
  auto granted = actor({.id = "g", .writeNs = "beta", .visible = {"beta"}, .grants = {grant("g", {"*"}, {"beta"})}});
  const auto& a = data_["alpha"];
  for (auto* rt : {beta.get(), granted.get()}) {
    for (const Uuid& id : {a.e1, a.note, a.edge, a.event}) EXPECT_FALSE(rt->get(id)) << id.str();
    EXPECT_TRUE(rt->get(data_["beta"].e1));
    EXPECT_TRUE(rt->get(data_["beta"].edge));
    EXPECT_TRUE(rt->get(data_["beta"].note));
    // The entry points resolve a full id as given and then get it: NotFound either way.
    EXPECT_EQ(rt->resolveId(a.e1.str()), a.e1);
  }
  // A soft-deleted alpha record is not found either (get returns deleted records in scope).
  actor({.id = "alpha-owner", .writeNs = "alpha"})->remove(a.e2, false);
  EXPECT_FALSE(beta->get(a.e2));
  EXPECT_TRUE(actor({.writeNs = "alpha"})->get(a.e2));
}

TEST_P(Isolation, PrefixResolutionFindsOnlyVisibleIds) {
  auto alpha = actor({.id = "alpha-owner", .writeNs = "alpha"});
  auto beta = actor({.id = "beta-owner", .writeNs = "beta"});
  const Uuid a1 = Uuid::parse("abcdef01-0000-7000-8000-000000000001");
  const Uuid b1 = Uuid::parse("abcdef01-0000-7000-8000-000000000002");
  const Uuid b2 = Uuid::parse("abcdef01-1000-7000-8000-000000000003");
  const Uuid onlyAlpha = Uuid::parse("a1a1a1a1-0000-7000-8000-000000000004");
  alpha->createEntity({.id = a1, .kind = "concept", .name = "a1"});
  alpha->createNote({.id = onlyAlpha, .kind = "observation", .content = "only alpha"});
  beta->createEntity({.id = b1, .kind = "concept", .name = "b1"});
  // Unique among beta's ids although alpha holds one with the same prefix.
  EXPECT_EQ(beta->resolveId("abcdef01-0000"), b1);
  EXPECT_EQ(alpha->resolveId("abcdef01-0000"), a1);
  // A prefix only alpha has is "no record", worded as a prefix nobody has.
  auto hidden = failure([&] { beta->resolveId("a1a1a1a1"); }, onlyAlpha);
  auto none = failure([&] { beta->resolveId("a1a1a1a2"); }, onlyAlpha);
  EXPECT_EQ(hidden.code, ErrorCode::NotFound);
  EXPECT_EQ(replaceAll(hidden.message, "a1a1a1a1", "P"), replaceAll(none.message, "a1a1a1a2", "P"));
  // An ambiguous prefix names visible ids only.
  beta->createEntity({.id = b2, .kind = "concept", .name = "b2"});
  for (int i = 0; i < 5; ++i) {
    auto amb = failure([&] { beta->resolveId("abcdef01"); }, a1);
    EXPECT_EQ(amb.code, ErrorCode::InvalidInput);
    EXPECT_EQ(amb.message.find("<id>"), std::string::npos) << amb.message;
    EXPECT_NE(amb.message.find("ambiguous"), std::string::npos) << amb.message;
  }
  // Events of another namespace are not found by prefix either.
  auto ev = data_["alpha"].event.str();
  EXPECT_EQ(failure([&] { beta->resolveId(ev.substr(0, 30)); }, data_["alpha"].event).code, ErrorCode::NotFound);
}

TEST_P(Isolation, WalksFromOrToHiddenNodesAreNotFound) {
  auto beta = actor({.id = "b", .writeNs = "beta"});
  const auto& a = data_["alpha"];
  const auto& b = data_["beta"];
  const Uuid missing = Uuid::v7();
  using storage::Direction;
  auto missingNeighbors = failure([&] { beta->neighbors(missing, Direction::Both, {}, 10); }, missing);
  EXPECT_EQ(missingNeighbors.code, ErrorCode::NotFound);
  auto n = failure([&] { beta->neighbors(a.e1, Direction::Both, {}, 10); }, a.e1);
  EXPECT_EQ(n.code, ErrorCode::NotFound);
  EXPECT_EQ(n.message, missingNeighbors.message);
  auto t = failure([&] { beta->traverse({b.e1, a.e1}, 2, Direction::Out, {}, 100); }, a.e1);
  EXPECT_EQ(t.code, ErrorCode::NotFound);
  EXPECT_EQ(t.message, failure([&] { beta->traverse({b.e1, missing}, 2, Direction::Out, {}, 100); }, missing).message);
  EXPECT_EQ(failure([&] { beta->path(a.e1, a.e2, 3, Direction::Out, {}); }, a.e1).code, ErrorCode::NotFound);
  EXPECT_EQ(failure([&] { beta->path(b.e1, a.e2, 3, Direction::Out, {}); }, a.e2).code, ErrorCode::NotFound);
  // In scope they answer.
  EXPECT_EQ(beta->neighbors(b.e1, Direction::Both, {}, 10).size(), 1u);
  EXPECT_TRUE(beta->path(b.e1, b.e2, 3, Direction::Out, {}));
  EXPECT_EQ(beta->traverse({b.e1}, 2, Direction::Out, {}, 100).at(0).nodes.size(), 2u);
}

TEST_P(Isolation, WritesOnHiddenRecordsAreNotFoundAndChangeNothing) {
  auto beta = actor({.id = "b", .writeNs = "beta"});
  const auto& a = data_["alpha"];
  const auto& b = data_["beta"];
  const Uuid missing = Uuid::v7();
  const Counts alphaBefore = counts("alpha");
  const Counts betaBefore = counts("beta");
  auto same = [&](const std::function<void(const Uuid&)>& f, const Uuid& hidden) {
    auto h = failure([&] { f(hidden); }, hidden);
    auto m = failure([&] { f(missing); }, missing);
    EXPECT_EQ(h.code, ErrorCode::NotFound) << h.message;
    EXPECT_EQ(h.message, m.message);
  };
  same([&](const Uuid& id) { beta->update(id, {.name = "x"}); }, a.e1);
  same([&](const Uuid& id) { beta->update(id, {.content = "x"}); }, a.note);
  same([&](const Uuid& id) { beta->update(id, {.name = "x"}); }, a.edge);
  for (bool hard : {false, true}) {
    same([&](const Uuid& id) { beta->remove(id, hard); }, a.e1);
    same([&](const Uuid& id) { beta->remove(id, hard); }, a.note);
    same([&](const Uuid& id) { beta->remove(id, hard); }, a.edge);
  }
  same([&](const Uuid& id) { beta->merge(id, b.e1); }, a.e1);
  same([&](const Uuid& id) { beta->merge(b.e1, id); }, a.e1);
  same([&](const Uuid& id) { beta->link({.source = b.e1, .target = id, .relation = "extends"}); }, a.e1);
  same([&](const Uuid& id) { beta->link({.source = id, .target = b.e1, .relation = "extends"}); }, a.e1);
  // A soft-deleted alpha edge: a hard delete finds stored edges, but not alpha's.
  actor({.id = "alpha-owner", .writeNs = "alpha"})->remove(a.edge, false);
  const Counts alphaDeleted = counts("alpha");
  same([&](const Uuid& id) { beta->remove(id, true); }, a.edge);
  EXPECT_EQ(counts("alpha"), alphaDeleted);
  EXPECT_EQ(alphaDeleted.events, alphaBefore.events + 1);
  // Alpha unchanged (its records and its audit log); beta has only the error events.
  EXPECT_EQ(root_->get(a.e1).has_value(), true);
  EXPECT_EQ(std::get<Entity>(*root_->get(a.e1)).name, "alpha one");
  Counts betaAfter = counts("beta");
  EXPECT_EQ(betaAfter.entities, betaBefore.entities);
  EXPECT_EQ(betaAfter.edges, betaBefore.edges);
  for (const auto& verb : {"update", "delete", "merge", "link"}) {
    for (const auto& ev : events("alpha", verb)) EXPECT_NE(ev.actor, "b") << verb << " logged in alpha";
    for (const auto& ev : events("beta", verb))
      if (ev.actor == "b") {
        EXPECT_EQ(ev.outcome, Outcome::Error) << verb;
      }
  }
}

TEST_P(Isolation, WithoutGrantsWritesFollowTheReadScopeAndLogInTheRecordsNamespace) {
  // Visible alpha and beta, writing beta: alpha's records may be changed, gamma's not seen.
  auto ab = actor({.id = "ab", .writeNs = "beta", .visible = {"alpha", "beta"}});
  const auto& a = data_["alpha"];
  const auto& b = data_["beta"];
  auto betaEvents = counts("beta").events;
  auto upd = std::get<Entity>(ab->update(a.e1, {.name = "renamed by ab"}));
  EXPECT_EQ(upd.ns, "alpha");
  auto ev = events("alpha", "update");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].actor, "ab");
  EXPECT_EQ(ev[0].targetId, a.e1);
  EXPECT_EQ(ev[0].substrate, Substrate::Entity);
  // A note update is logged with substrate note, in the note's namespace.
  ab->update(a.note, {.content = "changed"});
  ev = events("alpha", "update");
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[1].substrate, Substrate::Note);
  EXPECT_EQ(ev[1].targetId, a.note);
  ab->remove(a.note, false);
  auto del = events("alpha", "delete");
  ASSERT_EQ(del.size(), 1u);
  EXPECT_EQ(del[0].substrate, Substrate::Note);
  EXPECT_EQ(counts("beta").events, betaEvents) << "nothing logged in the caller's namespace";
  // A link between visible records: the edge and its event in the write namespace.
  Edge e = ab->link({.source = b.e1, .target = a.e1, .relation = "extends"});
  EXPECT_EQ(e.ns, "beta");
  ASSERT_EQ(events("beta", "link").size(), 2u);  // beta's owner's and this one
  EXPECT_EQ(events("beta", "link").back().targetId, e.id);
  // Gamma is outside the scope: not found, not writable.
  const auto& g = data_["gamma"];
  EXPECT_EQ(failure([&] { ab->update(g.e1, {.name = "x"}); }, g.e1).code, ErrorCode::NotFound);
  // A merge across alpha and beta (both visible) logs in the winner's namespace.
  auto merged = ab->merge(b.e2, a.e2);
  EXPECT_EQ(merged.ns, "alpha");
  EXPECT_EQ(events("alpha", "merge").size(), 1u);
  EXPECT_TRUE(events("beta", "merge").empty());
}

TEST_P(Isolation, WithGrantsEveryNamespaceAWriteTouchesNeedsAGrant) {
  const auto& a = data_["alpha"];
  const auto& b = data_["beta"];
  const auto& g = data_["gamma"];
  // Sees alpha and beta, may link and update in beta only.
  auto ab = actor({.id = "ab", .writeNs = "beta", .visible = {"alpha", "beta"},
                   .grants = {grant("ab", {"link", "update", "create"}, {"beta"})}});
  const Counts alpha0 = counts("alpha"), beta0 = counts("beta");
  try {
    ab->link({.source = b.e1, .target = a.e1, .relation = "extends"});
    ADD_FAILURE() << "a link to an alpha entity without a link grant in alpha";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::PermissionDenied);
    EXPECT_NE(e.message().find("'ab'"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("'link'"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("'alpha'"), std::string::npos) << e.message();
  }
  EXPECT_EQ(failure([&] { ab->link({.source = a.e1, .target = b.e1, .relation = "extends"}); }, a.e1).code,
            ErrorCode::PermissionDenied);
  auto upd = failure([&] { ab->update(a.e1, {.name = "x"}); }, a.e1);
  EXPECT_EQ(upd.code, ErrorCode::PermissionDenied);
  EXPECT_NE(upd.message.find("'update' in namespace 'alpha'"), std::string::npos) << upd.message;
  EXPECT_EQ(failure([&] { ab->remove(a.e1, false); }, a.e1).code, ErrorCode::PermissionDenied);
  EXPECT_EQ(failure([&] { ab->remove(a.edge, true); }, a.edge).code, ErrorCode::PermissionDenied);
  EXPECT_EQ(failure([&] { ab->merge(a.e1, b.e1); }, a.e1).code, ErrorCode::PermissionDenied);
  EXPECT_EQ(failure([&] { ab->merge(b.e2, b.e1); }, b.e1).code, ErrorCode::PermissionDenied) << "no merge grant at all";
  // Nothing written; the denied update of a visible alpha record is logged in alpha, the rest
  // (link: the edge's namespace; merges and deletes) where the verb found its record.
  Counts alpha1 = counts("alpha"), beta1 = counts("beta");
  EXPECT_EQ(alpha1.entities, alpha0.entities);
  EXPECT_EQ(alpha1.edges, alpha0.edges);
  EXPECT_EQ(beta1.edges, beta0.edges);
  EXPECT_EQ(std::get<Entity>(*root_->get(a.e1)).name, "alpha one");
  ASSERT_EQ(events("alpha", "update").size(), 1u);
  EXPECT_EQ(events("alpha", "update")[0].outcome, Outcome::Denied);
  auto links = events("beta", "link");
  EXPECT_EQ(std::count_if(links.begin(), links.end(), [](const Event& e) { return e.outcome == Outcome::Denied; }), 2);
  // Allowed where granted.
  EXPECT_EQ(ab->update(b.e1, {.name = "granted"}).index(), 0u);
  EXPECT_EQ(ab->link({.source = b.e1, .target = b.e2, .relation = "part_of"}).ns, "beta");
  // Gamma stays invisible however the grants read.
  auto wide = actor({.id = "w", .writeNs = "beta", .visible = {"beta"}, .grants = {grant("*", {"*"}, {"*"})}});
  EXPECT_EQ(failure([&] { wide->update(g.e1, {.name = "x"}); }, g.e1).code, ErrorCode::NotFound);
  EXPECT_EQ(failure([&] { wide->link({.source = b.e1, .target = g.e1, .relation = "extends"}); }, g.e1).code,
            ErrorCode::NotFound);
}

TEST_P(Isolation, MergeChecksTheNamespaceOfEveryEdgeItMovesBeforeWriting) {
  auto gammaOwner = actor({.id = "gamma-owner", .writeNs = "gamma", .visible = {"alpha", "gamma"}});
  const auto& a = data_["alpha"];
  const auto& g = data_["gamma"];
  // An edge in gamma from alpha's e1 to gamma's e1.
  Edge moved = gammaOwner->link({.source = a.e1, .target = g.e1, .relation = "extends"});
  auto m = actor({.id = "m", .writeNs = "alpha", .visible = {"alpha", "gamma"}, .grants = {grant("m", {"merge"}, {"alpha"})}});
  const Counts alpha0 = counts("alpha"), gamma0 = counts("gamma");
  auto f = failure([&] { m->merge(a.e1, a.e2); }, a.e1);
  EXPECT_EQ(f.code, ErrorCode::PermissionDenied);
  EXPECT_NE(f.message.find("'gamma'"), std::string::npos) << f.message;
  EXPECT_TRUE(root_->get(a.e1).has_value());
  EXPECT_FALSE(std::get<Entity>(*root_->get(a.e1)).deletedAt);
  EXPECT_EQ(counts("gamma").edges, gamma0.edges);
  EXPECT_EQ(counts("alpha").entities, alpha0.entities);
  EXPECT_EQ(root_->neighbors(a.e2, storage::Direction::Both, {}, 10).size(), 1u) << "no edge moved";
  // With the grant in gamma it merges and moves the edge.
  auto m2 = actor({.id = "m", .writeNs = "alpha", .visible = {"alpha", "gamma"}, .grants = {grant("m", {"merge"}, {"alpha", "gamma"})}});
  m2->merge(a.e1, a.e2);
  auto ns = root_->neighbors(a.e2, storage::Direction::Both, {}, 10);
  EXPECT_TRUE(std::any_of(ns.begin(), ns.end(), [&](const NeighborRow& r) { return r.node.id == g.e1; }));
  (void)moved;
}

TEST_P(Isolation, ImportRefusesLinesInNamespacesTheImporterMayNotWrite) {
  auto beta = actor({.id = "b", .writeNs = "beta"});
  const Counts alpha0 = counts("alpha");
  auto import = [&](Runtime& rt, const std::vector<Json>& lines) -> Failure {
    std::string text;
    for (const auto& l : lines) text += l.dump() + "\n";
    std::istringstream in(text);
    try {
      importJsonl(rt, in);
    } catch (const Error& e) {
      return {e.code(), e.message()};
    }
    return {ErrorCode::Driver, "no error"};
  };
  Event forged;
  forged.id = Uuid::v7();
  forged.ns = "alpha";
  forged.verb = "delete";
  forged.actor = "alpha-owner";
  forged.kind = "concept";
  forged.createdAt = 1'700'000'000'000'000;
  auto f = import(*beta, {Json{{"type", "entity"}, {"kind", "concept"}, {"name", "fine"}},
                          [&] { Json j = toJson(Record(forged)); j["type"] = "event"; return j; }(),
                          Json{{"type", "entity"}, {"kind", "concept"}, {"name", "after"}}});
  EXPECT_EQ(f.code, ErrorCode::PermissionDenied) << f.message;
  EXPECT_NE(f.message.find("line 2"), std::string::npos) << f.message;
  EXPECT_NE(f.message.find("'alpha'"), std::string::npos) << f.message;
  EXPECT_EQ(counts("alpha"), alpha0) << "no forged audit entry";
  EXPECT_FALSE(root_->backend().events().getEvent(forged.id));
  // Line 1 is committed, line 3 is not.
  EXPECT_EQ(beta->list({.type = "entity", .namePrefix = "fine"}).items.size(), 1u);
  EXPECT_EQ(beta->list({.type = "entity", .namePrefix = "after"}).items.size(), 0u);
  // An entity line naming alpha, and one naming gamma for an importer granted beta only.
  f = import(*beta, {Json{{"type", "entity"}, {"namespace", "alpha"}, {"kind", "concept"}, {"name", "x"}}});
  EXPECT_EQ(f.code, ErrorCode::PermissionDenied) << f.message;
  EXPECT_NE(f.message.find("line 1"), std::string::npos) << f.message;
  auto granted = actor({.id = "g", .writeNs = "beta", .visible = {"beta", "gamma"}, .grants = {grant("g", {"import"}, {"beta"})}});
  const Counts gamma0 = counts("gamma");
  f = import(*granted, {Json{{"type", "note"}, {"kind", "observation"}, {"content", "ok"}},
                        Json{{"type", "note"}, {"namespace", "gamma"}, {"kind", "observation"}, {"content", "no"}}});
  EXPECT_EQ(f.code, ErrorCode::PermissionDenied) << f.message;
  EXPECT_NE(f.message.find("line 2"), std::string::npos) << f.message;
  EXPECT_EQ(counts("gamma"), gamma0);
  EXPECT_EQ(counts("alpha"), alpha0);
  // An edge line from a visible record to one outside the scope is refused like a missing one.
  f = import(*beta, {Json{{"type", "edge"}, {"source_id", data_["beta"].e1.str()}, {"target_id", data_["alpha"].e1.str()},
                          {"relation", "extends"}}});
  EXPECT_EQ(f.code, ErrorCode::InvalidInput) << f.message;
  EXPECT_NE(f.message.find("is not a live entity or note"), std::string::npos) << f.message;
  // The refused imports are logged as denied in the importer's namespace.
  auto imports = events("beta", "import");
  EXPECT_EQ(std::count_if(imports.begin(), imports.end(), [](const Event& e) { return e.outcome == Outcome::Denied; }), 3);
}

TEST_P(Isolation, ListsQueriesSearchExportAndStatsStayInScope) {
  auto beta = actor({.id = "b", .writeNs = "beta"});
  auto inBeta = [&](const Uuid& id) {
    auto r = root_->get(id);
    return r && std::visit([](const auto& v) { return v.ns; }, *r) == "beta";
  };
  for (const char* type : {"entity", "note", "edge", "event"}) {
    auto items = beta->list({.type = type, .limit = 1000}).items;
    EXPECT_FALSE(items.empty()) << type;
    for (const auto& r : items) EXPECT_EQ(std::visit([](const auto& v) { return v.ns; }, r), "beta") << type;
  }
  auto q = beta->query({.text = "MATCH (a) RETURN a.id"});
  EXPECT_EQ(q.rows.size(), 3u);
  for (const auto& row : q.rows) EXPECT_TRUE(inBeta(Uuid::parse(row[0].get<std::string>()))) << row[0];
  auto sq = beta->query({.text = "SELECT ?a ?b WHERE { ?a :extends ?b . }"});
  EXPECT_EQ(sq.rows.size(), 1u);
  int uuids = 0;
  for (const auto& row : sq.rows)
    for (const auto& cell : row)
      if (auto id = cell.is_string() ? Uuid::tryParse(cell.get<std::string>()) : std::nullopt) {
        ++uuids;
        EXPECT_TRUE(inBeta(*id)) << cell;
      }
  EXPECT_EQ(uuids, 2);
  auto hits = beta->search({.text = "zebra"}).hits;
  EXPECT_EQ(hits.size(), 2u);
  for (const auto& h : hits) EXPECT_EQ(h.ns, "beta");
  std::ostringstream out;
  auto sum = exportJsonl(*beta, out);
  EXPECT_EQ(sum.entities, 2);
  std::istringstream lines(out.str());
  for (std::string line; std::getline(lines, line);) EXPECT_EQ(Json::parse(line)["namespace"], "beta") << line;
  auto s = beta->stats();
  EXPECT_EQ(s.entities, 2);
  EXPECT_EQ(s.notes, 1);
  EXPECT_EQ(s.edges, 1);
  EXPECT_EQ(s.events, counts("beta").events);
  auto sums = beta->policy().summarize({data_["alpha"].e1, data_["beta"].e1});
  EXPECT_EQ(sums[0].type, "missing");
  EXPECT_EQ(sums[1].type, "entity");
}

INSTANTIATE_TEST_SUITE_P(Backends, Isolation, ::testing::ValuesIn(khive::testing::backendCases()),
                         khive::testing::BackendCaseName{});

}  // namespace
