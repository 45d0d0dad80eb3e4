// Read replicas (PostgresOptions::replicas) on a real streaming pair: the test services' PostgreSQL
// 15 primary and its hot standby (scripts/services.sh: KHIVE_PG_REPL_PRIMARY_URL,
// KHIVE_PG_REPLICA_URL). Reads are served by the replica under the session's signed scope;
// a backend reads its own writes while the replica replays late or not at all; a replica
// stopped is skipped and used again once restarted; with the primary stopped, writes fail with
// Error(Unavailable) and reads go on from the replica. The suite stops and starts the pair's
// servers (services.sh repl ...), so its tests hold one ctest resource lock.

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <thread>

#include <fmt/format.h>
#include <unistd.h>

#include "khive/backends/postgres.h"
#include "khive/core/error.h"
#include "khive/storage/backend.h"
#include "support/test_backends.h"

namespace khive::testing {
namespace {

using namespace std::chrono_literals;

std::string envOr(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// Runs SQL (one statement or several: the last one's result counts) on `url`, as whoever the
// URL logs in; the first value, or "" for none.
std::string superSql(const std::string& url, const std::string& sql) {
  PGconn* c = PQconnectdb(url.c_str());
  std::string out;
  if (PQstatus(c) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(c);
    PQfinish(c);
    throw std::runtime_error("cannot connect to " + url + ": " + msg);
  }
  PGresult* r = PQexec(c, sql.c_str());
  const auto st = PQresultStatus(r);
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    std::string msg = PQerrorMessage(c);
    PQclear(r);
    PQfinish(c);
    throw std::runtime_error(sql + ": " + msg);
  }
  if (st == PGRES_TUPLES_OK && PQntuples(r) > 0) out = PQgetvalue(r, 0, 0);
  PQclear(r);
  PQfinish(c);
  return out;
}

// scripts/services.sh repl primary|replica stop|start
void ctl(const std::string& which, const std::string& action) {
  const std::string cmd = fmt::format("bash '{}/scripts/services.sh' repl {} {}", KHIVE_SOURCE_DIR, which, action);
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

// Whether the read handle's connection is on the replica, and whether it sees `id`.
struct Seen {
  bool onReplica = false;
  bool found = false;
};
Seen seenBy(storage::Backend& db, const Uuid& id) {
  auto row = db.sql().reader()->queryRow("SELECT pg_is_in_recovery(), count(*) FROM entities WHERE id = $1", {id});
  return {std::get<bool>(row->at(0)), std::get<std::int64_t>(row->at(1)) == 1};
}

// The write-then-read pairs of the read-your-writes tests: `fallback`, or KHIVE_RYW_PAIRS
// (bench/replica_ryw.sh runs 10,000).
int pairs(int fallback) {
  const std::string v = envOr("KHIVE_RYW_PAIRS");
  return v.empty() ? fallback : std::stoi(v);
}

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds within = 15s) {
  const auto until = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return pred();
}

class PgReplicas : public ::testing::Test {
 protected:
  void SetUp() override {
    primary_ = envOr("KHIVE_PG_REPL_PRIMARY_URL");
    replica_ = envOr("KHIVE_PG_REPLICA_URL");
    if (primary_.empty() || replica_.empty()) {
      if (servicesRequired()) FAIL() << "KHIVE_PG_REPL_PRIMARY_URL / KHIVE_PG_REPLICA_URL required but not set";
      GTEST_SKIP() << "KHIVE_PG_REPL_PRIMARY_URL / KHIVE_PG_REPLICA_URL not set: run scripts/services.sh start";
    }
    static std::atomic<int> counter{0};
    schema_ = fmt::format("t_repl_{}_{}", ::getpid(), counter.fetch_add(1));
  }
  void TearDown() override {
    if (replica_.empty()) return;
    // Whatever a test did to the pair, leave it up and replaying at once.
    if (!eventually(
            [&] {
              return std::system(fmt::format("psql '{}' -XAtqc 'select 1' >/dev/null 2>&1", primary_).c_str()) == 0;
            },
            100ms)) {
      ctl("primary", "start");
    }
    if (!eventually(
            [&] {
              return std::system(fmt::format("psql '{}' -XAtqc 'select 1' >/dev/null 2>&1", replica_).c_str()) == 0;
            },
            100ms)) {
      ctl("replica", "start");
    }
    superSql(replica_, "ALTER SYSTEM RESET recovery_min_apply_delay");
    superSql(replica_, "SELECT pg_reload_conf()");
    if (superSql(replica_, "SELECT pg_is_wal_replay_paused()") == "t")
      superSql(replica_, "SELECT pg_wal_replay_resume()");
  }

  std::unique_ptr<storage::Backend> open(const std::vector<std::string>& namespaces = {"*"},
                                         const std::function<void(backends::PostgresOptions&)>& adjust = {}) {
    backends::PostgresOptions o;
    o.url = primary_;
    o.adminUrl = primary_;
    o.user = "khive_app";
    o.schema = schema_;
    o.namespaces = namespaces;
    o.poolSize = 4;
    o.replicas = {replica_};
    o.replicaRetry = 200ms;
    if (adjust) adjust(o);
    return backends::openPostgres(o);
  }

  std::string primary_, replica_, schema_;
};

TEST_F(PgReplicas, ReadsAreServedByTheReplicaUnderTheSessionsScope) {
  auto all = open();
  const Entity a = conceptEntity("a", "in-a"), b = conceptEntity("b", "in-b");
  all->entities().upsertEntity(a);
  all->entities().upsertEntity(b);
  ASSERT_TRUE(eventually([&] { return seenBy(*all, b.id).onReplica; })) << "no read reached the replica";
  ASSERT_TRUE(all->entities().getEntity(a.id).has_value());

  // A backend granted only "a" reads on the replica and sees only "a": the scope token is
  // signed for the replica's session and verified there.
  auto onlyA = open({"a"});
  auto reader = onlyA->sql().reader();
  auto row = reader->queryRow("SELECT pg_is_in_recovery(), count(*) FROM entities");
  EXPECT_TRUE(std::get<bool>(row->at(0)));
  EXPECT_EQ(std::get<std::int64_t>(row->at(1)), 1);
  EXPECT_TRUE(onlyA->entities().getEntity(a.id).has_value());
  EXPECT_FALSE(onlyA->entities().getEntity(b.id).has_value());
  // A session of the application role on the replica that sets a scope itself (bare libpq,
  // past khive's own SQL checks) is granted nothing.
  const std::string app = replica_ + "&user=khive_app&options=-csearch_path%3D" + schema_;
  EXPECT_EQ(superSql(app, "SELECT count(*) FROM entities"), "0");
  EXPECT_EQ(superSql(app, fmt::format("SELECT set_config('khive.scope', '{}:{{*}}', false); "
                                      "SELECT count(*) FROM entities",
                                      std::string(64, 'a'))),
            "0");
  EXPECT_EQ(superSql(app, "SELECT pg_is_in_recovery()"), "t");
}

TEST_F(PgReplicas, ReadYourWritesWhileTheReplicaAppliesLate) {
  superSql(replica_, "ALTER SYSTEM SET recovery_min_apply_delay = '40ms'");
  superSql(replica_, "SELECT pg_reload_conf()");
  ASSERT_TRUE(eventually([&] { return superSql(replica_, "SHOW recovery_min_apply_delay") == "40ms"; }));
  auto db = open();
  auto observer = open();  // another client: its reads do not wait for db's writes
  ASSERT_TRUE(eventually([&] { return seenBy(*observer, Uuid::v7()).onReplica; }));
  const int kPairs = pairs(100);
  int violations = 0, servedByReplica = 0, observerMissed = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kPairs; ++i) {
    const Entity e = conceptEntity("ns", fmt::format("late-{}", i));
    db->entities().upsertEntity(e);
    const Seen observed = seenBy(*observer, e.id);
    if (observed.onReplica && !observed.found) ++observerMissed;
    const Seen seen = seenBy(*db, e.id);
    if (!seen.found) ++violations;
    if (seen.onReplica) ++servedByReplica;
    if (!db->entities().getEntity(e.id)) ++violations;
  }
  std::printf(
      "apply delay 40 ms: %d write-then-read pairs, %d violations, %d read from the replica, "
      "another client missed %d of the writes, %.1f s\n",
      kPairs, violations, servedByReplica, observerMissed,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  EXPECT_EQ(violations, 0);
  // The replica really was behind, and still served most reads once it had caught up.
  EXPECT_GT(observerMissed, kPairs / 2);
  EXPECT_GT(servedByReplica, kPairs / 2);
}

TEST_F(PgReplicas, ReadYourWritesWhileReplayIsPaused) {
  auto db = open();
  auto observer = open();
  ASSERT_TRUE(eventually([&] { return seenBy(*observer, Uuid::v7()).onReplica; }));
  superSql(replica_, "SELECT pg_wal_replay_pause()");
  ASSERT_TRUE(eventually([&] { return superSql(replica_, "SELECT pg_get_wal_replay_pause_state()") == "paused"; }));
  const int kPairs = pairs(300);
  std::vector<Uuid> written;
  int violations = 0, observerSaw = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kPairs; ++i) {
    const Entity e = conceptEntity("ns", fmt::format("paused-{}", i));
    db->entities().upsertEntity(e);
    written.push_back(e.id);
    if (!db->entities().getEntity(e.id)) ++violations;
    if (!seenBy(*db, e.id).found) ++violations;
    const Seen observed = seenBy(*observer, e.id);
    if (observed.onReplica && observed.found) ++observerSaw;
  }
  const auto took = std::chrono::steady_clock::now() - start;
  std::printf("replay paused: %d write-then-read pairs, %d violations, another client saw %d of the writes, %.1f s\n",
              kPairs, violations, observerSaw, std::chrono::duration<double>(took).count());
  EXPECT_EQ(violations, 0);
  EXPECT_EQ(observerSaw, 0) << "the replica replayed while paused";
  // Reads do not each wait the full replica_wait_ms for a replica known to be behind.
  EXPECT_LT(took, kPairs * 60ms);
  superSql(replica_, "SELECT pg_wal_replay_resume()");
  EXPECT_TRUE(eventually([&] {
    const Seen s = seenBy(*observer, written.back());
    return s.onReplica && s.found;
  }));
}

TEST_F(PgReplicas, AStoppedReplicaIsSkippedAndUsedAgainOnceRestarted) {
  auto db = open({"*"}, [](backends::PostgresOptions& o) { o.replicaRetry = 1s; });
  const Entity first = conceptEntity("ns", "before");
  db->entities().upsertEntity(first);
  ASSERT_TRUE(eventually([&] { return seenBy(*db, first.id).onReplica; }));
  ctl("replica", "stop");
  for (int i = 0; i < 20; ++i) {
    const Entity e = conceptEntity("ns", fmt::format("while-down-{}", i));
    db->entities().upsertEntity(e);
    ASSERT_TRUE(db->entities().getEntity(e.id).has_value()) << i;
  }
  // A read handle checked out after the store read noticed: on the primary.
  const Seen down = seenBy(*db, first.id);
  EXPECT_FALSE(down.onReplica);
  EXPECT_TRUE(down.found);
  EXPECT_FALSE(db->diagnostics().problems.empty());
  ctl("replica", "start");
  const Entity after = conceptEntity("ns", "after");
  db->entities().upsertEntity(after);
  EXPECT_TRUE(eventually([&] {
    const Seen s = seenBy(*db, after.id);
    EXPECT_TRUE(s.found);
    return s.onReplica;
  })) << "the restarted replica is not used again";
}

TEST_F(PgReplicas, WithThePrimaryStoppedWritesAreUnavailableAndReadsGoOn) {
  auto db = open();
  const Entity e = conceptEntity("ns", "kept");
  db->entities().upsertEntity(e);
  ASSERT_TRUE(eventually([&] {
    const Seen s = seenBy(*db, e.id);
    return s.onReplica && s.found;
  }));
  ctl("primary", "stop");
  try {
    db->entities().upsertEntity(conceptEntity("ns", "refused"));
    ADD_FAILURE() << "a write with the primary stopped succeeded";
  } catch (const Error& err) {
    EXPECT_EQ(err.code(), ErrorCode::Unavailable) << err.what();
  }
  for (int i = 0; i < 5; ++i) {
    auto got = db->entities().getEntity(e.id);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->name, "kept");
  }
  const Seen s = seenBy(*db, e.id);
  EXPECT_TRUE(s.onReplica);
  EXPECT_TRUE(s.found);
  // A second write fails the same way (a new connection attempt, refused).
  try {
    db->entities().upsertEntity(conceptEntity("ns", "refused-again"));
    ADD_FAILURE() << "a write with the primary stopped succeeded";
  } catch (const Error& err) {
    EXPECT_EQ(err.code(), ErrorCode::Unavailable) << err.what();
    EXPECT_NE(err.message().find("cannot connect"), std::string::npos) << err.message();
  }
  ctl("primary", "start");
  const Entity back = conceptEntity("ns", "back");
  EXPECT_TRUE(eventually([&] {
    try {
      db->entities().upsertEntity(back);
      return true;
    } catch (const Error&) {
      return false;
    }
  }));
  EXPECT_TRUE(db->entities().getEntity(back.id).has_value());
}

}  // namespace
}  // namespace khive::testing
