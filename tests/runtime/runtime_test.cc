#include <gtest/gtest.h>

#include "khive/core/error.h"
#include "khive/runtime/backend_factory.h"
#include "khive/runtime/runtime.h"

using namespace khive;
using namespace khive::runtime;

namespace {

std::unique_ptr<Runtime> memoryRuntime(Config config = {}, std::optional<std::string> ns = std::nullopt) {
  return std::make_unique<Runtime>(openBackendUrl("sqlite::memory:", {"*"}), RuntimeOptions{config, ns, std::nullopt});
}

ErrorCode codeOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.code();
  }
  ADD_FAILURE() << "no error";
  return ErrorCode::Driver;
}

std::int64_t events(Runtime& rt, const std::string& verb, Outcome outcome) {
  auto page = rt.backend().events().queryEvents({.namespaces = rt.readNamespaces(), .verbs = {verb}}, {.offset = 0, .limit = 1000});
  std::int64_t n = 0;
  for (const auto& e : page.items) n += e.outcome == outcome;
  return n;
}

}  // namespace

TEST(Runtime, CreateValidatesAndRecordsEvents) {
  auto rt = memoryRuntime();
  Entity e = rt->createEntity({.kind = "concept", .name = "LoRA", .description = "low-rank adaptation"});
  EXPECT_EQ(e.ns, "default");
  EXPECT_GT(e.createdAt, 0);
  EXPECT_EQ(events(*rt, "create", Outcome::Success), 1);
  auto ev = rt->backend().events().queryEvents({.namespaces = {"default"}}).items.at(0);
  EXPECT_EQ(ev.targetId, e.id);
  EXPECT_EQ(ev.actor, "local");
  EXPECT_EQ(ev.kind, "concept");

  EXPECT_EQ(codeOf([&] { rt->createEntity({.kind = "paper", .name = "x"}); }), ErrorCode::InvalidInput);
  EXPECT_EQ(codeOf([&] { rt->createEntity({.kind = "concept", .name = "  "}); }), ErrorCode::InvalidInput);
  EXPECT_EQ(codeOf([&] { rt->createNote({.kind = "observation", .content = "x", .salience = 1.5}); }), ErrorCode::InvalidInput);
  EXPECT_EQ(codeOf([&] { rt->createNote({.kind = "concept", .content = "x"}); }), ErrorCode::InvalidInput);
  EXPECT_EQ(events(*rt, "create", Outcome::Error), 4);
  EXPECT_EQ(rt->backend().entities().countEntities({.namespaces = {"default"}}), 1);
}

TEST(Runtime, VocabularyAdditionsFromConfig) {
  Config c;
  c.vocabulary.entityKinds = {"paper"};
  c.vocabulary.relations = {"cites"};
  auto rt = memoryRuntime(c);
  auto a = rt->createEntity({.kind = "paper", .name = "A"});
  auto b = rt->createEntity({.kind = "paper", .name = "B"});
  Edge e = rt->link({.source = a.id, .target = b.id, .relation = "cites"});
  EXPECT_EQ(e.relation, "cites");
  auto q = rt->query({.text = "MATCH (a:paper)-[:cites]->(b) RETURN a.name, b.name"});
  ASSERT_EQ(q.rows.size(), 1u);
  EXPECT_EQ(q.rows[0][0], "A");
  EXPECT_EQ(q.rows[0][1], "B");
}

TEST(Runtime, EdgeRules) {
  auto rt = memoryRuntime();
  auto a = rt->createEntity({.kind = "concept", .name = "A"});
  auto b = rt->createEntity({.kind = "concept", .name = "B"});
  auto n = rt->createNote({.kind = "observation", .content = "A is like B"});
  auto n2 = rt->createNote({.kind = "insight", .content = "so it is"});
  EXPECT_EQ(rt->link({.source = n.id, .target = a.id, .relation = "annotates"}).relation, "annotates");
  EXPECT_EQ(codeOf([&] { rt->link({.source = a.id, .target = n.id, .relation = "annotates"}); }), ErrorCode::InvalidInput);
  EXPECT_EQ(codeOf([&] { rt->link({.source = n.id, .target = a.id, .relation = "supports"}); }), ErrorCode::InvalidInput);
  EXPECT_NO_THROW(rt->link({.source = n2.id, .target = n.id, .relation = "supports"}));
  EXPECT_NO_THROW(rt->link({.source = b.id, .target = a.id, .relation = "supersedes"}));
  EXPECT_EQ(codeOf([&] { rt->link({.source = a.id, .target = b.id, .relation = "extends", .weight = 1.01}); }),
            ErrorCode::InvalidInput);
  EXPECT_EQ(codeOf([&] { rt->link({.source = a.id, .target = b.id, .relation = "extends", .weight = -0.1}); }),
            ErrorCode::InvalidInput);
  EXPECT_EQ(codeOf([&] { rt->link({.source = a.id, .target = a.id, .relation = "extends"}); }), ErrorCode::InvalidInput);
  EXPECT_EQ(codeOf([&] { rt->link({.source = a.id, .target = Uuid::v7(), .relation = "extends"}); }), ErrorCode::NotFound);
  EXPECT_EQ(codeOf([&] { rt->link({.source = a.id, .target = b.id, .relation = "likes"}); }), ErrorCode::InvalidInput);
}

TEST(Runtime, NamespacesScopeReads) {
  auto backend = openBackendUrl("sqlite::memory:", {"*"});
  Config c;
  c.actor.ns = "alpha";
  Runtime rt(std::move(backend), {c, std::nullopt, std::nullopt});
  auto a = rt.createEntity({.kind = "concept", .name = "in alpha"});
  EXPECT_EQ(a.ns, "alpha");
  EXPECT_EQ(rt.readNamespaces(), std::vector<std::string>{"alpha"});
  // A second runtime over another namespace does not list alpha's record.
  Entity other;
  other.id = Uuid::v7();
  other.ns = "beta";
  other.kind = "concept";
  other.name = "in beta";
  rt.backend().entities().upsertEntity(other);
  auto listed = rt.list({.type = "entity"});
  ASSERT_EQ(listed.items.size(), 1u);
  EXPECT_EQ(std::get<Entity>(listed.items[0]).name, "in alpha");
  EXPECT_THROW(checkNamespace("bad ns"), Error);
}

TEST(Runtime, GrantsDenyAndRecord) {
  Config c;
  c.actor.id = "bob";
  c.grants = {Grant{.actor = "bob", .verbs = {"create"}, .namespaces = {"default"}}};
  auto rt = memoryRuntime(c);
  auto a = rt->createEntity({.kind = "concept", .name = "A"});
  auto b = rt->createEntity({.kind = "concept", .name = "B"});
  EXPECT_EQ(codeOf([&] { rt->link({.source = a.id, .target = b.id, .relation = "extends"}); }), ErrorCode::PermissionDenied);
  EXPECT_EQ(events(*rt, "link", Outcome::Denied), 1);
  EXPECT_EQ(rt->backend().graph().countEdges({.namespaces = {"default"}}), 0);
}

TEST(Runtime, IdPrefixes) {
  auto rt = memoryRuntime();
  auto a = rt->createEntity({.id = Uuid::parse("aaaaaaaa-1111-7000-8000-000000000001"), .kind = "concept", .name = "A"});
  rt->createEntity({.id = Uuid::parse("aaaaaaaa-2222-7000-8000-000000000002"), .kind = "concept", .name = "B"});
  auto c = rt->createEntity({.id = Uuid::parse("cccccccc-1111-7000-8000-000000000003"), .kind = "concept", .name = "C"});
  auto n = rt->createNote({.id = Uuid::parse("dddddddd-1111-7000-8000-000000000004"), .kind = "observation", .content = "x"});
  EXPECT_EQ(rt->resolveId(a.id.str()), a.id);
  EXPECT_EQ(rt->resolveId("cccccccc"), c.id);
  EXPECT_EQ(rt->resolveId("CCCCCCCC-11"), c.id);  // any case, hyphen optional
  EXPECT_EQ(rt->resolveId("dddddddd1111"), n.id);
  EXPECT_EQ(rt->resolveId("aaaaaaaa-1"), a.id);
  auto e = rt->link({.source = n.id, .target = c.id, .relation = "annotates"});
  EXPECT_EQ(rt->resolveId(e.id.str().substr(0, 36)), e.id);  // edges resolve too
  EXPECT_EQ(codeOf([&] { rt->resolveId("aaaaaaaa"); }), ErrorCode::InvalidInput);  // ambiguous
  EXPECT_EQ(codeOf([&] { rt->resolveId("ccccccc"); }), ErrorCode::InvalidInput);   // too short
  EXPECT_EQ(codeOf([&] { rt->resolveId("zzzzzzzz"); }), ErrorCode::InvalidInput);
  EXPECT_EQ(codeOf([&] { rt->resolveId("00000000"); }), ErrorCode::NotFound);
}

TEST(Runtime, UpdateDeleteMerge) {
  auto rt = memoryRuntime();
  auto a = rt->createEntity({.kind = "concept", .name = "A", .properties = {{"x", 1}, {"y", 2}}, .tags = {"t1"}});
  auto b = rt->createEntity({.kind = "concept", .name = "B", .properties = {{"x", 9}}, .tags = {"t2"}});
  auto c = rt->createEntity({.kind = "concept", .name = "C"});
  auto upd = std::get<Entity>(rt->update(a.id, {.name = "A2", .properties = Json{{"y", nullptr}, {"z", 3}}}));
  EXPECT_EQ(upd.name, "A2");
  EXPECT_EQ(upd.properties, (Json{{"x", 1}, {"z", 3}}));
  EXPECT_EQ(codeOf([&] { rt->update(a.id, {.kind = "nonsense"}); }), ErrorCode::InvalidInput);
  EXPECT_EQ(codeOf([&] { rt->update(a.id, {.content = "x"}); }), ErrorCode::InvalidInput);

  rt->link({.source = a.id, .target = c.id, .relation = "extends"});
  rt->link({.source = c.id, .target = a.id, .relation = "depends_on"});
  rt->link({.source = a.id, .target = b.id, .relation = "variant_of"});
  Entity merged = rt->merge(a.id, b.id);
  EXPECT_EQ(merged.id, b.id);
  EXPECT_EQ(merged.tags, (std::vector<std::string>{"t2", "t1"}));
  EXPECT_EQ(merged.properties, (Json{{"x", 9}, {"z", 3}}));
  auto loser = rt->backend().entities().getEntityIncludingDeleted(a.id);
  ASSERT_TRUE(loser);
  EXPECT_TRUE(loser->deletedAt);
  EXPECT_EQ(loser->mergedInto, b.id);
  auto out = rt->neighbors(b.id, storage::Direction::Both, {}, 100);
  ASSERT_EQ(out.size(), 2u);  // extends -> C and C depends_on ->; the a->b edge became a self-loop and was dropped
  for (const auto& n : out) EXPECT_EQ(n.node.name, "C");

  Record gone = rt->remove(c.id, false);
  EXPECT_TRUE(std::get<Entity>(gone).deletedAt);
  EXPECT_EQ(codeOf([&] { rt->remove(c.id, false); }), ErrorCode::NotFound);
  rt->remove(c.id, true);
  EXPECT_FALSE(rt->get(c.id));
  EXPECT_EQ(events(*rt, "delete", Outcome::Success), 2);
}

TEST(Runtime, TraverseSearchQueryStats) {
  auto rt = memoryRuntime();
  auto dog = rt->createEntity({.kind = "concept", .name = "dog", .description = "a domesticated canine"});
  auto canine = rt->createEntity({.kind = "concept", .name = "canine", .description = "a carnivore of the dog family"});
  auto animal = rt->createEntity({.kind = "concept", .name = "animal", .description = "a living organism"});
  auto e1 = rt->link({.source = dog.id, .target = canine.id, .relation = "instance_of"});
  rt->link({.source = canine.id, .target = animal.id, .relation = "instance_of"});
  auto paths = rt->traverse({dog.id}, 5, storage::Direction::Out, {"instance_of"}, 100);
  ASSERT_EQ(paths.size(), 1u);
  ASSERT_EQ(paths[0].nodes.size(), 3u);
  EXPECT_EQ(paths[0].nodes[1].node.name, "canine");
  EXPECT_EQ(paths[0].nodes[1].viaEdge, e1.id);
  EXPECT_EQ(paths[0].nodes[2].node.name, "animal");
  EXPECT_EQ(paths[0].nodes[2].depth, 2);

  auto p = rt->path(dog.id, animal.id, 5, storage::Direction::Out, {});
  ASSERT_TRUE(p);
  EXPECT_EQ(p->nodes.size(), 3u);
  EXPECT_EQ(p->edges.size(), 2u);

  auto hits = rt->search({.text = "canine"});
  ASSERT_EQ(hits.hits.size(), 2u);
  EXPECT_EQ(hits.mode, "text");
  EXPECT_TRUE(hits.hits[0].signals.text.has_value());

  auto q = rt->query({.text = "SELECT ?b WHERE { ?a :name 'dog' . ?a :instance_of+ ?b . }"});
  EXPECT_EQ(q.language, "sparql");
  EXPECT_EQ(q.rows.size(), 2u);
  EXPECT_THROW(rt->query({.text = "MATCH (a RETURN a"}), Error);

  auto s = rt->stats();
  EXPECT_EQ(s.entities, 3);
  EXPECT_EQ(s.edges, 2);
  EXPECT_EQ(s.textDocuments, 3);
  EXPECT_EQ(s.events, 5);
}
