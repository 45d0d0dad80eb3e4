// Many writers at once on native PostgreSQL (MVCC): 8 threads x 5,000 mixed writes (new
// entities, re-upserts of entities every thread touches, single edges and multi-row edge and
// entity batches in random order, which deadlock against each other and must be retried).
// Afterwards every write is there exactly once: no lost write, no duplicate, no error left.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <tuple>
#include <variant>

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

}  // namespace
}  // namespace khive::testing
