// Many writers at once on native PostgreSQL (MVCC): 8 threads x 5,000 mixed writes (new
// entities, re-upserts of entities every thread touches, single edges and multi-row edge and
// entity batches in random order, which deadlock against each other and must be retried).
// Afterwards every write is there exactly once: no lost write, no duplicate, no error left.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <tuple>
#include <variant>

#include <fmt/format.h>

#include "khive/core/error.h"
#include "khive/storage/backend.h"
#include "support/test_backends.h"

namespace khive::testing {
namespace {

const BackendCase& caseNamed(std::string_view name) {
  for (const auto& c : backendCases()) {
    if (c.name == name) return c;
  }
  static const BackendCase missing{std::string(name), nullptr, "not built with PostgreSQL", true, true, {}};
  return missing;
}

std::int64_t scalar(storage::Backend& db, std::string_view sql) {
  auto v = db.sql().reader()->queryScalar(sql);
  return std::get<std::int64_t>(v);
}

TEST(PgConcurrency, EightWritersLoseNothingAndDuplicateNothing) {
  const BackendCase& pg = caseNamed("postgres15");
  KHIVE_SKIP_UNAVAILABLE_BACKEND(pg);
  auto db = pg.make();
  constexpr int kThreads = 8, kOpsEach = 5000, kShared = 200;
  const std::vector<std::string> relations{"cites", "uses", "part_of"};

  std::vector<Uuid> shared;
  {
    std::vector<Entity> seed;
    for (int i = 0; i < kShared; ++i) {
      Entity e;
      e.id = Uuid::v7();
      e.ns = "ns1";
      e.kind = "concept";
      e.name = "shared-" + std::to_string(i);
      seed.push_back(e);
      shared.push_back(e.id);
    }
    db->entities().upsertEntities(seed);
  }

  using Key = std::tuple<Uuid, Uuid, std::string>;
  std::mutex mu;
  std::set<Key> expectedEdges;     // guarded by mu
  std::set<Uuid> expectedEntities(shared.begin(), shared.end());  // guarded by mu
  std::atomic<int> failures{0};
  std::string firstFailure;  // guarded by mu

  auto worker = [&](int t) {
    std::minstd_rand rng(1000 + t);
    std::set<Key> edges;
    std::set<Uuid> created;
    auto pick = [&] { return shared[rng() % shared.size()]; };
    auto edgeOf = [&](const Uuid& a, const Uuid& b, const std::string& rel) {
      Edge e;
      e.id = Uuid::v7();
      e.ns = "ns1";
      e.sourceId = a;
      e.targetId = b;
      e.relation = rel;
      e.weight = static_cast<double>(rng() % 100) / 100.0;
      return e;
    };
    for (int i = 0; i < kOpsEach; ++i) {
      try {
        switch (i % 10) {
          case 0: case 2: case 4: {  // a new entity
            Entity e;
            e.id = Uuid::v7();
            e.ns = "ns1";
            e.kind = "concept";
            e.name = "t" + std::to_string(t) + "-" + std::to_string(i);
            db->entities().upsertEntity(e);
            created.insert(e.id);
            break;
          }
          case 6: {  // a shared entity, rewritten by every thread
            Entity e;
            e.id = pick();
            e.ns = "ns1";
            e.kind = "concept";
            e.name = "shared-by-" + std::to_string(t);
            db->entities().upsertEntity(e);
            break;
          }
          case 8: {  // a batch: shared entities in random order (row locks in conflicting orders)
            if (i % 20 == 8) {
              std::vector<Entity> batch;
              for (int k = 0; k < 8; ++k) {
                Entity e;
                e.id = pick();
                e.ns = "ns1";
                e.kind = "concept";
                e.name = "batch-" + std::to_string(t);
                if (std::none_of(batch.begin(), batch.end(), [&](const Entity& b) { return b.id == e.id; })) {
                  batch.push_back(e);
                }
              }
              db->entities().upsertEntities(batch);
            } else {
              std::vector<Edge> batch;
              for (int k = 0; k < 8; ++k) {
                Uuid a = pick(), b = pick();
                if (a == b) continue;
                auto rel = relations[rng() % relations.size()];
                Key key{a, b, rel};
                bool dup = std::any_of(batch.begin(), batch.end(), [&](const Edge& x) {
                  return x.sourceId == a && x.targetId == b && x.relation == rel;
                });
                if (dup) continue;
                batch.push_back(edgeOf(a, b, rel));
                edges.insert(key);
              }
              db->graph().upsertEdges(batch);
            }
            break;
          }
          default: {  // one edge between shared entities: natural keys collide across threads
            Uuid a = pick(), b = pick();
            if (a == b) break;
            auto rel = relations[rng() % relations.size()];
            db->graph().upsertEdge(edgeOf(a, b, rel));
            edges.insert({a, b, rel});
          }
        }
      } catch (const Error& e) {
        std::lock_guard lock(mu);
        if (failures.fetch_add(1) == 0) firstFailure = e.what();
      }
    }
    std::lock_guard lock(mu);
    expectedEdges.insert(edges.begin(), edges.end());
    expectedEntities.insert(created.begin(), created.end());
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(worker, t);
  for (auto& th : threads) th.join();

  EXPECT_EQ(failures.load(), 0) << "a write failed (a deadlock or serialization failure not retried?): "
                                << firstFailure;
  // Every entity once.
  EXPECT_EQ(scalar(*db, "SELECT count(*) FROM entities"), static_cast<std::int64_t>(expectedEntities.size()));
  EXPECT_EQ(scalar(*db, "SELECT count(DISTINCT id) FROM entities"),
            static_cast<std::int64_t>(expectedEntities.size()));
  EXPECT_EQ(db->entities().countEntities({.namespaces = {"ns1"}}), static_cast<std::int64_t>(expectedEntities.size()));
  // Every edge's natural key once, and exactly the keys written.
  EXPECT_EQ(scalar(*db, "SELECT count(*) FROM edges"), static_cast<std::int64_t>(expectedEdges.size()));
  EXPECT_EQ(scalar(*db,
                   "SELECT count(*) FROM (SELECT 1 FROM edges GROUP BY namespace, source_id, target_id, relation "
                   "HAVING count(*) > 1) d"),
            0);
  auto rows = db->sql().reader()->query("SELECT source_id::text, target_id::text, relation FROM edges");
  std::set<Key> stored;
  for (const auto& r : rows.rows) {
    stored.insert({Uuid::parse(std::get<std::string>(r[0])), Uuid::parse(std::get<std::string>(r[1])),
                   std::get<std::string>(r[2])});
  }
  EXPECT_TRUE(stored == expectedEdges) << "stored " << stored.size() << " edge keys, wrote " << expectedEdges.size();
  // Every entity written is the one stored (ids compared as sets).
  std::set<Uuid> storedIds;
  for (const auto& r : db->sql().reader()->query("SELECT id::text FROM entities").rows) {
    storedIds.insert(Uuid::parse(std::get<std::string>(r[0])));
  }
  EXPECT_TRUE(storedIds == expectedEntities);
}

// Concurrent single writes share commits (WriteGroups groups them, and merges
// the rows of one statement into one execution). Every caller still gets its own outcome: its
// own error and no other's, the values its write stored, and a group with a failing row
// loses none of the other rows. On PGlite too, whose single connection all writers share.
// A new audit event with a fresh id.
Event audit(const std::string& verb, const std::string& actor) {
  Event ev;
  ev.id = Uuid::v7();
  ev.ns = "ns1";
  ev.verb = verb;
  ev.actor = actor;
  ev.kind = "audit";
  return ev;
}

class PgCoalescedWrites : public ::testing::TestWithParam<BackendCase> {};

TEST_P(PgCoalescedWrites, EachCallerGetsItsOwnOutcome) {
  KHIVE_SKIP_UNAVAILABLE_BACKEND(GetParam());
  auto db = GetParam().make();
  constexpr int kThreads = 8, kOpsEach = 250;

  const Entity foreign = conceptEntity("other", "foreign");  // upserting its id into ns1: Conflict
  db->entities().upsertEntity(foreign);
  std::vector<Uuid> hubs;  // edge endpoints, so that edge keys collide across threads
  for (int i = 0; i < 6; ++i)
    hubs.push_back(db->entities().upsertEntity(conceptEntity("ns1", "hub-" + std::to_string(i))).id);
  std::vector<Uuid> appended;  // events appending one of these ids again get AlreadyExists
  for (int i = 0; i < 10; ++i) appended.push_back(db->events().appendEvent(audit("seed", "test")).id);

  std::mutex mu;
  std::vector<std::string> wrong;   // guarded by mu
  std::map<Uuid, Micros> entities;  // guarded by mu: id -> created_at the caller got back
  std::map<std::tuple<Uuid, Uuid, std::string>, std::set<Uuid>> edgeIds;  // guarded by mu
  std::atomic<int> notes{0}, events{0}, docs{0};
  auto worker = [&](int t) {
    auto fail = [&](const std::string& what) {
      std::lock_guard lock(mu);
      wrong.push_back(what);
    };
    for (int i = 0; i < kOpsEach; ++i) {
      const std::string tag = std::to_string(t) + "-" + std::to_string(i);
      try {
        switch (i % 8) {
          case 0: {  // Conflict for this caller only
            Entity e = foreign;
            e.ns = "ns1";
            e.name = "moved-" + tag;
            db->entities().upsertEntity(e);
            fail("upserting another namespace's id succeeded: " + tag);
            break;
          }
          case 1: {  // AlreadyExists for this caller only
            Event ev = audit("again", tag);
            ev.id = appended[static_cast<std::size_t>(i) % appended.size()];
            db->events().appendEvent(ev);
            fail("appending an existing event id succeeded: " + tag);
            break;
          }
          case 2: {
            Uuid a = hubs[static_cast<std::size_t>(t + i) % hubs.size()];
            Uuid b = hubs[static_cast<std::size_t>(t + 2 * i + 1) % hubs.size()];
            if (a == b) break;
            Edge e;
            e.id = Uuid::v7();
            e.ns = "ns1";
            e.sourceId = a;
            e.targetId = b;
            e.relation = "uses";
            e.weight = 0.5;
            Edge got = db->graph().upsertEdge(e);
            std::lock_guard lock(mu);
            edgeIds[{a, b, e.relation}].insert(got.id);
            break;
          }
          case 3: {
            Note n;
            n.id = Uuid::v7();
            n.ns = "ns1";
            n.kind = "observation";
            n.content = "note " + tag + " with \"quotes\", a back\\slash, {braces} and, commas";
            n.salience = 0.25;
            db->notes().upsertNote(n);
            ++notes;
            break;
          }
          case 4: {
            Event ev = audit("write", tag);
            ev.payload = Json{{"tag", tag}, {"nested", Json::array({1, "two", nullptr})}};
            db->events().appendEvent(ev);
            ++events;
            break;
          }
          case 5: {
            storage::TextDocument d;
            d.subjectId = Uuid::v7();
            d.ns = "ns1";
            d.kind = "concept";
            d.title = "doc " + tag;
            d.body = "falcon plans " + tag;
            d.tags = {"x", "y \"z\""};
            db->text().upsertDocument(d);
            ++docs;
            break;
          }
          case 6: {  // one of a few entities every thread rewrites: the same key twice in a group
            Entity e = conceptEntity("ns1", "hub-by-" + tag);
            e.id = hubs[static_cast<std::size_t>(i / 8) % hubs.size()];
            if (db->entities().upsertEntity(e).name != e.name) fail("a rewrite returned another name: " + tag);
            break;
          }
          default: {
            Entity e = conceptEntity("ns1", "e-" + tag);
            e.description = (i % 3 == 0) ? std::optional<std::string>{} : std::optional<std::string>{"NULL"};
            e.properties = Json{{"t", t}, {"q", "a\"b\\c"}};
            Entity got = db->entities().upsertEntity(e);
            std::lock_guard lock(mu);
            entities[got.id] = got.createdAt;
          }
        }
      } catch (const Error& e) {
        const bool expected =
            (i % 8 == 0 && e.code() == ErrorCode::Conflict) || (i % 8 == 1 && e.code() == ErrorCode::AlreadyExists);
        if (!expected) fail(tag + ": " + e.what());
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(worker, t);
  for (auto& th : threads) th.join();
  for (const auto& w : wrong) ADD_FAILURE() << w;

  // Every entity a caller got back is stored with the created_at it was told, and the
  // NULL/"NULL" descriptions and quoted properties went through the arrays intact.
  EXPECT_EQ(scalar(*db, "SELECT count(*) FROM entities WHERE namespace = 'ns1'"),
            static_cast<std::int64_t>(entities.size() + hubs.size()));
  for (const auto& [id, createdAt] : entities) {
    auto got = db->entities().getEntity(id);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->createdAt, createdAt);
    EXPECT_EQ(got->properties.value("q", ""), "a\"b\\c");
  }
  EXPECT_EQ(scalar(*db, "SELECT count(*) FROM entities WHERE name LIKE 'hub-by-%'"),
            static_cast<std::int64_t>(hubs.size()));
  EXPECT_GT(scalar(*db, "SELECT count(*) FROM entities WHERE namespace = 'ns1' AND description IS NULL"), 0);
  EXPECT_GT(scalar(*db, "SELECT count(*) FROM entities WHERE namespace = 'ns1' AND description = 'NULL'"), 0);
  auto stillForeign = db->entities().getEntity(foreign.id);
  ASSERT_TRUE(stillForeign.has_value());
  EXPECT_EQ(stillForeign->ns, "other");
  EXPECT_EQ(stillForeign->name, "foreign");
  // Each edge key once, and every caller got the stored edge's id back (the first writer's).
  for (const auto& [key, ids] : edgeIds) {
    EXPECT_EQ(ids.size(), 1u) << "callers of one edge key got different ids";
  }
  EXPECT_EQ(scalar(*db, "SELECT count(*) FROM edges"), static_cast<std::int64_t>(edgeIds.size()));
  EXPECT_EQ(scalar(*db, "SELECT count(*) FROM notes WHERE strpos(content, '\"quotes\", a back\\slash, {braces}') > 0"),
            notes.load());
  EXPECT_EQ(scalar(*db, "SELECT count(*) FROM events WHERE verb = 'write'"), events.load());
  EXPECT_EQ(scalar(*db, "SELECT count(*) FROM events WHERE verb = 'again'"), 0);
  EXPECT_EQ(scalar(*db, "SELECT count(*) FROM text_documents WHERE body LIKE 'falcon plans %'"), docs.load());
  EXPECT_EQ(db->text().searchText({.text = "falcon", .namespaces = {"ns1"}, .topK = 1000}).size(),
            static_cast<std::size_t>(docs.load()));
  // The writes did share commits: rows written by one transaction share its xmin.
  EXPECT_LT(scalar(*db, "SELECT count(DISTINCT xmin::text) FROM entities WHERE name LIKE 'e-%'"),
            static_cast<std::int64_t>(entities.size()));
}

INSTANTIATE_TEST_SUITE_P(Postgres, PgCoalescedWrites, ::testing::ValuesIn(postgresCases()),
                         [](const auto& info) { return info.param.name; });

// With write grouping off (PostgresOptions::groupWrites, khive.toml group_writes = false),
// concurrent single writes each commit on their own: every row has its own transaction.
TEST_P(PgCoalescedWrites, GroupingOffCommitsEachWriteAlone) {
  KHIVE_SKIP_UNAVAILABLE_BACKEND(GetParam());
  auto db = GetParam().makeWithGroupWrites(false);
  constexpr int kThreads = 8, kOpsEach = 40;
  std::vector<std::thread> threads;
  std::atomic<int> written{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kOpsEach; ++i) {
        db->entities().upsertEntity(conceptEntity("ns1", fmt::format("alone-{}-{}", t, i)));
        ++written;
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(written.load(), kThreads * kOpsEach);
  EXPECT_EQ(scalar(*db, "SELECT count(*) FROM entities WHERE name LIKE 'alone-%'"), kThreads * kOpsEach);
  EXPECT_EQ(scalar(*db, "SELECT count(DISTINCT xmin::text) FROM entities WHERE name LIKE 'alone-%'"),
            kThreads * kOpsEach);
}

// A group held up by a row lock does not hold up everyone else: writers queued behind it
// start another group after WriteGroups::kGroupWait.
TEST(PgConcurrency, AWriteBlockedOnARowLockDoesNotStallOtherWriters) {
  const BackendCase& pg = caseNamed("postgres15");
  KHIVE_SKIP_UNAVAILABLE_BACKEND(pg);
  auto db = pg.make();
  const Entity held = conceptEntity("ns1", "held");
  db->entities().upsertEntity(held);

  auto tx = db->sql().begin();
  tx->execute("UPDATE entities SET name = 'locked' WHERE id = $1", {held.id.str()});
  // This upsert waits for the transaction's row lock, and its group with it.
  auto blocked = std::async(std::launch::async, [&] {
    Entity e = held;
    e.name = "after the lock";
    return db->entities().upsertEntity(e);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_EQ(blocked.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  // Meanwhile other writers get through, while the lock is still held.
  auto others = std::async(std::launch::async, [&] {
    std::vector<std::thread> ts;
    for (int t = 0; t < 4; ++t) {
      ts.emplace_back([&, t] {
        for (int i = 0; i < 20; ++i) {
          db->entities().upsertEntity(conceptEntity("ns1", fmt::format("free-{}-{}", t, i)));
        }
      });
    }
    for (auto& th : ts) th.join();
  });
  EXPECT_EQ(others.wait_for(std::chrono::seconds(20)), std::future_status::ready)
      << "writers stayed stuck behind a group waiting for a row lock";
  EXPECT_EQ(blocked.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  tx->commit();
  EXPECT_EQ(blocked.get().name, "after the lock");
  others.get();
  EXPECT_EQ(scalar(*db, "SELECT count(*) FROM entities WHERE name LIKE 'free-%'"), 80);
  EXPECT_EQ(db->entities().getEntity(held.id)->name, "after the lock");
}

}  // namespace
}  // namespace khive::testing
