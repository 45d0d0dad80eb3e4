// SQLite-only behaviour: the migration ledger, reopening a file, a second process writing at
// the same time, a writer killed mid-import, and the pinned traversal plan.

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "backends/sqlite/wal_vfs.h"
#include "khive/backends/sqlite.h"
#include "khive/core/error.h"

namespace khive {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class SqliteFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("khive-sqlite-" + Uuid::v7().str());
    fs::create_directories(dir_);
    path_ = (dir_ / "k.db").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<storage::Backend> open(std::chrono::milliseconds busy = 5000ms) {
    backends::SqliteOptions o;
    o.path = path_;
    o.busyTimeout = busy;
    return backends::openSqlite(o);
  }
  static Entity makeEntity(const std::string& name) {
    Entity e;
    e.id = Uuid::v7();
    e.ns = "ns1";
    e.kind = "concept";
    e.name = name;
    return e;
  }
  // `n` stored entities named n0, n1, ...
  static std::vector<Entity> storeNodes(storage::Backend& db, int n) {
    std::vector<Entity> nodes;
    for (int i = 0; i < n; ++i) nodes.push_back(makeEntity("n" + std::to_string(i)));
    db.entities().upsertEntities(nodes);
    return nodes;
  }
  static Edge makeEdge(const Uuid& from, const Uuid& to, const std::string& relation) {
    Edge e;
    e.id = Uuid::v7();
    e.ns = "ns1";
    e.sourceId = from;
    e.targetId = to;
    e.relation = relation;
    return e;
  }
  // Runs PRAGMA integrity_check with a plain sqlite3 handle.
  std::string integrity() {
    sqlite3* db = nullptr;
    sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr);
    std::string out = sqlite3_step(st) == SQLITE_ROW ? reinterpret_cast<const char*>(sqlite3_column_text(st, 0)) : "?";
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
  }

  // The first row of `sql` on a plain connection, as two integers ({-1, -1} when it has none).
  static std::pair<std::int64_t, std::int64_t> twoInts(sqlite3* conn, const char* sql) {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(conn, sql, -1, &st, nullptr);
    std::pair<std::int64_t, std::int64_t> out{-1, -1};
    if (sqlite3_step(st) == SQLITE_ROW) out = {sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1)};
    sqlite3_finalize(st);
    return out;
  }
  // Forks a child that upserts batches of `batch` entities (descriptions of `descriptionBytes`)
  // until it is killed with SIGKILL after `runFor`. Checks the file's integrity, then returns
  // how many entities it holds.
  std::int64_t entitiesLeftByKilledWriter(int batch, std::size_t descriptionBytes, std::chrono::milliseconds runFor) {
    open();
    pid_t child = fork();
    if (child < 0) {
      ADD_FAILURE() << "fork failed";
      return -1;
    }
    if (child == 0) {
      auto db = open();
      for (int round = 0;; ++round) {
        std::vector<Entity> rows;
        for (int i = 0; i < batch; ++i) {
          auto e = makeEntity("r" + std::to_string(round));
          e.description = std::string(descriptionBytes, 'x');
          rows.push_back(std::move(e));
        }
        db->entities().upsertEntities(rows);
      }
    }
    std::this_thread::sleep_for(runFor);
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    EXPECT_TRUE(WIFSIGNALED(status));
    EXPECT_EQ(integrity(), "ok");
    return open()->entities().countEntities({.namespaces = {"ns1"}});
  }

  fs::path dir_;
  std::string path_;
};

TEST_F(SqliteFileTest, MigratesOnceAndReopensWithData) {
  Uuid id;
  {
    auto db = open();
    EXPECT_EQ(db->info().schemaVersion, backends::sqliteSchemaVersion());
    id = db->entities().upsertEntity(makeEntity("persisted")).id;
  }
  auto db = open();
  auto got = db->entities().getEntity(id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->name, "persisted");
  auto rows = db->sql().reader()->query("SELECT version FROM _schema_migrations ORDER BY version");
  EXPECT_EQ(static_cast<int>(rows.rows.size()), backends::sqliteSchemaVersion()) << "each migration once";
  EXPECT_EQ(integrity(), "ok");
}

TEST_F(SqliteFileTest, RefusesADatabaseNewerThanTheCode) {
  {
    auto db = open();
    db->sql().writer()->execute("INSERT INTO _schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)");
  }
  try {
    open();
    FAIL() << "a newer schema must be refused";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::Conflict);
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
  }
}

TEST_F(SqliteFileTest, UnopenablePathIsAClearError) {
  backends::SqliteOptions o;
  o.path = (dir_ / "missing-dir" / "x.db").string();
  try {
    backends::openSqlite(o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::Driver);
    EXPECT_NE(std::string(e.what()).find("missing-dir"), std::string::npos);
  }
}

// A child process holds the write lock for a while; this process either waits for it (long
// busy timeout) or gets Timeout (short one). Never a corrupt file.
TEST_F(SqliteFileTest, SecondProcessWritingWaitsOrTimesOut) {
  open();  // create and migrate first
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(ready[0]);
    auto db = open();
    auto tx = db->sql().begin();
    tx->execute(
        "INSERT INTO entities (id, namespace, kind, name, created_at, updated_at) "
        "VALUES ('00000000-0000-7000-8000-000000000001', 'ns1', 'concept', 'child', 1, 1)");
    char c = 'x';
    if (write(ready[1], &c, 1) != 1) _exit(2);
    std::this_thread::sleep_for(1500ms);
    tx->commit();
    _exit(0);
  }
  close(ready[1]);
  char c;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  close(ready[0]);
  {
    auto impatient = open(200ms);
    try {
      impatient->entities().upsertEntity(makeEntity("too soon"));
      FAIL() << "expected Timeout while the other process holds the write lock";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::Timeout) << e.what();
      EXPECT_TRUE(e.retryable());
    }
  }
  auto patient = open(10000ms);
  auto id = patient->entities().upsertEntity(makeEntity("after")).id;
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_TRUE(patient->entities().getEntity(id));
  EXPECT_TRUE(patient->entities().getEntity(Uuid::parse("00000000-0000-7000-8000-000000000001")));
  EXPECT_EQ(patient->entities().countEntities({.namespaces = {"ns1"}}), 2);
  EXPECT_EQ(integrity(), "ok");
}

// The edge load holds its edges in a private staging database until finish(), then writes
// them in one transaction; a load into an (almost) empty table drops the edge indexes and
// builds them again there. The schema comes back exactly as the migrations made it, other
// readers see nothing until the commit, and the file passes integrity_check. New files use
// 16 KiB pages.
TEST_F(SqliteFileTest, EdgeLoadRebuildsTheEdgeIndexesInItsTransaction) {
  auto db = open();
  auto schema = [&] {
    std::string out;
    for (const auto& row :
         db->sql().reader()->query("SELECT name, sql FROM sqlite_schema WHERE tbl_name = 'edges' ORDER BY name").rows)
      for (const auto& v : row) out += (std::holds_alternative<std::string>(v) ? std::get<std::string>(v) : "-") + ";";
    return out;
  };
  const std::string before = schema();
  std::vector<Entity> nodes;
  for (int i = 0; i < 500; ++i) nodes.push_back(makeEntity("n" + std::to_string(i)));
  db->entities().upsertEntities(nodes);
  std::vector<Edge> edges;
  for (int i = 0; i < 500; ++i) {
    for (int k = 1; k <= 50; ++k)
      edges.push_back(makeEdge(nodes[i].id, nodes[(i * 31 + k * 7) % 500].id, k % 2 ? "extends" : "depends_on"));
  }
  auto load = db->graph().beginLoad();
  for (std::size_t at = 0; at < edges.size(); at += 4000)
    load->add(std::span<const Edge>(edges).subspan(at, std::min<std::size_t>(4000, edges.size() - at)));
  EXPECT_EQ(db->graph().countEdges({.namespaces = {"ns1"}}), 0) << "held until finish()";
  auto s = load->finish();
  EXPECT_EQ(s.affected, edges.size());
  EXPECT_EQ(db->graph().countEdges({.namespaces = {"ns1"}}), static_cast<std::int64_t>(edges.size()));
  EXPECT_EQ(schema(), before);
  auto page = db->sql().reader()->query("PRAGMA page_size").rows;
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(std::get<std::int64_t>(page[0][0]), 16384);
  db.reset();
  EXPECT_EQ(integrity(), "ok");
}

// finish() that cannot get the write lock in time fails with Timeout, writes nothing and keeps
// the staged edges: called again once the other writer is done, it writes them all.
TEST_F(SqliteFileTest, EdgeLoadFinishTimesOutAndCanBeRetried) {
  auto db = open(200ms);
  auto a = db->entities().upsertEntity(makeEntity("a"));
  auto b = db->entities().upsertEntity(makeEntity("b"));
  auto load = db->graph().beginLoad();
  load->add(std::vector<Edge>{makeEdge(a.id, b.id, "extends"), makeEdge(b.id, a.id, "depends_on")});
  {
    auto other = open(200ms);
    auto tx = other->sql().begin();
    tx->execute(
        "INSERT INTO entities (id, namespace, kind, name, created_at, updated_at) "
        "VALUES ('00000000-0000-7000-8000-000000000009', 'ns1', 'concept', 'holder', 1, 1)");
    try {
      load->finish();
      FAIL() << "expected Timeout while another connection holds the write lock";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::Timeout) << e.what();
    }
    tx->commit();
  }
  EXPECT_EQ(db->graph().countEdges({.namespaces = {"ns1"}}), 0);
  auto s = load->finish();
  EXPECT_EQ(s.affected, 2u);
  EXPECT_EQ(db->graph().countEdges({.namespaces = {"ns1"}}), 2);
}

// A process killed while an edge load writes (the edge indexes dropped and being rebuilt
// inside its transaction) leaves either the whole load or none of it, the indexes in place,
// and a file that passes integrity_check.
TEST_F(SqliteFileTest, KilledEdgeLoadLeavesAllOrNothingAndTheIndexes) {
  constexpr int kEdges = 120'000;
  std::vector<Entity> nodes;
  for (int i = 0; i < 400; ++i) nodes.push_back(makeEntity("n" + std::to_string(i)));
  {
    auto db = open();
    db->entities().upsertEntities(nodes);
  }
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto db = open();
    std::vector<Edge> edges;
    for (int k = 0; k < kEdges; ++k) edges.push_back(makeEdge(nodes[k % 400].id, nodes[(k / 400) % 400].id, "extends"));
    auto load = db->graph().beginLoad();
    load->add(edges);
    char byte = 1;
    if (write(ready[1], &byte, 1) != 1) _exit(3);
    load->finish();
    for (;;) pause();  // finished before the kill: wait for it
  }
  close(ready[1]);
  char byte = 0;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);
  close(ready[0]);
  // finish() drops the edge indexes first, then sorts, writes and rebuilds: 150 ms in, the
  // transaction is open with the indexes dropped.
  std::this_thread::sleep_for(150ms);
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(integrity(), "ok");
  auto db = open();
  auto n = db->graph().countEdges({.namespaces = {"ns1"}});
  EXPECT_TRUE(n == 0 || n == kEdges) << n;
  std::string indexes;
  for (const auto& row : db->sql()
                             .reader()
                             ->query("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'edges' AND "
                                     "sql IS NOT NULL ORDER BY name")
                             .rows)
    indexes += std::get<std::string>(row[0]) + " ";
  EXPECT_EQ(indexes, "edges_id edges_in edges_ns_created ");
}

// A writer killed with SIGKILL in the middle of batch imports loses no committed batch and
// leaves a file that opens and passes integrity_check; batches are all-or-nothing.
TEST_F(SqliteFileTest, KilledWriterLosesNothingCommitted) {
  constexpr int kBatch = 500;
  const auto n = entitiesLeftByKilledWriter(kBatch, 0, 700ms);
  EXPECT_GT(n, 0);
  EXPECT_EQ(n % kBatch, 0) << "a batch is one transaction";
  open()->entities().upsertEntity(makeEntity("still writable"));
}

// A load large enough to rebuild the edge indexes sorts them with file-backed runs on worker
// threads (edge_load.cc, buildIndexes): the indexes come back whole, the file checks clean,
// and the writer gets its own cache, thread and temp-storage settings back.
TEST_F(SqliteFileTest, LargeEdgeLoadRestoresTheWriterSettings) {
  auto db = open();
  auto writer = db->sql().writer();
  auto setting = [&](const char* pragma) {
    return storage::asInt(writer->queryScalar(std::string("PRAGMA ") + pragma));
  };
  const auto cache = setting("cache_size"), threads = setting("threads"), temp = setting("temp_store");
  std::vector<Entity> nodes;
  for (int i = 0; i < 200; ++i) nodes.push_back(makeEntity("n" + std::to_string(i)));
  ASSERT_EQ(db->entities().upsertEntities(nodes).failed, 0u);
  std::vector<Edge> edges;
  for (int i = 0; i < 200; ++i)
    for (int k = 1; k <= 150; ++k) edges.push_back(makeEdge(nodes[i].id, nodes[(i + k) % 200].id, "extends"));
  auto load = db->graph().beginLoad();
  load->add(edges);
  auto s = load->finish();
  EXPECT_EQ(s.affected, edges.size());
  EXPECT_EQ(setting("cache_size"), cache);
  EXPECT_EQ(setting("threads"), threads);
  EXPECT_EQ(setting("temp_store"), temp);
  EXPECT_EQ(storage::asInt(writer->queryScalar(
                "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name IN ('edges_id', 'edges_in', "
                "'edges_ns_created')")),
            3);
  EXPECT_EQ(storage::asInt(writer->queryScalar("SELECT count(*) FROM edges INDEXED BY edges_id")), 30'000);
  EXPECT_EQ(storage::asInt(writer->queryScalar("SELECT count(*) FROM edges INDEXED BY edges_in")), 30'000);
  EXPECT_EQ(storage::asInt(writer->queryScalar("SELECT count(*) FROM edges INDEXED BY edges_ns_created")), 30'000);
  EXPECT_TRUE(db->graph().getEdge(edges[12'345].id));
  writer.reset();
  db.reset();
  EXPECT_EQ(integrity(), "ok");
}

// The writer's WAL writes are gathered into larger writes (wal_vfs.cc); every commit must
// still be in the file when it returns: a separate plain SQLite connection (the default VFS,
// no shared cache) sees each batch at once, under both synchronous settings.
TEST_F(SqliteFileTest, EveryCommitIsInTheFileWhenItReturns) {
  for (const char* sync : {"NORMAL", "FULL"}) {
    SCOPED_TRACE(sync);
    fs::remove(path_);
    fs::remove(path_ + "-wal");
    fs::remove(path_ + "-shm");
    auto db = open();
    db->sql().writer()->execute(std::string("PRAGMA synchronous=") + sync);
    sqlite3* peer = nullptr;
    ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &peer, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    auto peerCount = [&] { return twoInts(peer, "SELECT count(*), sum(length(description)) FROM entities"); };
    std::int64_t expected = 0, total = 0;
    for (int round = 0; round < 6; ++round) {
      // Batches of 1 to ~300 pages: commits that end inside, at and across the write buffer.
      const int n = round == 0 ? 1 : 400 * round;
      std::vector<Entity> batch;
      for (int i = 0; i < n; ++i) {
        auto e = makeEntity("c" + std::to_string(round));
        e.description = std::string(3'000 + (i % 7) * 1'000, static_cast<char>('a' + round));
        batch.push_back(std::move(e));
      }
      for (const auto& e : batch) total += static_cast<std::int64_t>(e.description->size());
      ASSERT_EQ(db->entities().upsertEntities(batch).failed, 0u);
      expected += n;
      auto [count, sum] = peerCount();
      EXPECT_EQ(count, expected) << "round " << round;
      EXPECT_EQ(sum, total) << "round " << round;
    }
    sqlite3_close(peer);
    db.reset();
    EXPECT_EQ(integrity(), "ok");
  }
}

// The gathering VFS under the WAL's awkward paths: a page cache of a few pages spills
// uncommitted frames into the WAL mid-transaction, a ROLLBACK TO rewinds and rewrites them, a
// rolled-back transaction leaves frames that the next one overwrites, and the WAL restarts
// after a checkpoint. A plain connection (default VFS) sees exactly the committed rows.
TEST_F(SqliteFileTest, GatheredWalWritesSurviveSpillsRollbacksAndRestarts) {
  const char* vfs = sqlite::walBufferingVfs();
  ASSERT_NE(vfs, nullptr);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs), SQLITE_OK);
  auto exec = [&](const std::string& sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (err ? err : "");
    sqlite3_free(err);
  };
  exec("PRAGMA page_size=4096; PRAGMA journal_mode=WAL; PRAGMA cache_size=8; PRAGMA wal_autocheckpoint=0;");
  exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)");
  auto insert = [&](int from, int to) {
    exec("WITH RECURSIVE n(i) AS (SELECT " + std::to_string(from) + " UNION ALL SELECT i + 1 FROM n WHERE i < " +
         std::to_string(to - 1) + ") INSERT INTO t SELECT i, printf('%0900d', i) FROM n");
  };
  sqlite3* peer = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &peer, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  auto peerSum = [&] { return twoInts(peer, "SELECT count(*), coalesce(sum(k), 0) FROM t"); };
  auto sumOf = [](std::int64_t from, std::int64_t to) { return (to - 1 + from) * (to - from) / 2; };

  // Spills inside a transaction, a savepoint rolled back over spilled frames, then commit.
  exec("BEGIN");
  insert(0, 2'000);
  exec("SAVEPOINT s");
  insert(2'000, 4'000);
  exec("ROLLBACK TO s");
  insert(4'000, 5'000);
  exec("COMMIT");
  EXPECT_EQ(peerSum(), std::make_pair(std::int64_t{3'000}, sumOf(0, 2'000) + sumOf(4'000, 5'000)));
  // A whole transaction rolled back after spilling; the next commit overwrites its frames.
  exec("BEGIN");
  insert(5'000, 8'000);
  exec("ROLLBACK");
  insert(8'000, 8'500);
  const auto expected =
      std::make_pair(std::int64_t{3'500}, sumOf(0, 2'000) + sumOf(4'000, 5'000) + sumOf(8'000, 8'500));
  EXPECT_EQ(peerSum(), expected);
  // A checkpoint copies everything; the next commit restarts the WAL from its start.
  exec("PRAGMA wal_checkpoint(TRUNCATE)");
  insert(9'000, 9'010);
  EXPECT_EQ(peerSum(), std::make_pair(expected.first + 10, expected.second + sumOf(9'000, 9'010)));
  sqlite3_close(peer);
  sqlite3_close(db);
  EXPECT_EQ(integrity(), "ok");
}

// A commit that leaves ~40 MiB in the WAL is copied into the database file by the
// checkpointer thread: with no further write and the backend still open, the file grows to
// hold it (readers then read the mapped file instead of the WAL).
TEST_F(SqliteFileTest, LargeCommitReachesTheFileWithoutAnotherWrite) {
  auto db = open();
  const auto before = fs::file_size(path_);
  std::vector<Entity> batch;
  for (int i = 0; i < 12'000; ++i) {
    auto e = makeEntity("big " + std::to_string(i));
    e.description = std::string(4'000, static_cast<char>('a' + i % 26));
    batch.push_back(std::move(e));
  }
  ASSERT_EQ(db->entities().upsertEntities(batch).failed, 0u);
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (fs::file_size(path_) < before + 40'000'000 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  EXPECT_GE(fs::file_size(path_), before + 40'000'000) << "the WAL was not checkpointed in the background";
  EXPECT_EQ(db->entities().countEntities({.namespaces = {"ns1"}}), 12'000);
}

// Kills a writer whose large batches keep the checkpointer copying: every batch is whole or
// absent, the file is intact, and the database takes writes again.
TEST_F(SqliteFileTest, KilledDuringBackgroundCheckpointsLosesNothingCommitted) {
  constexpr int kBatch = 2'000;
  const auto n = entitiesLeftByKilledWriter(kBatch, 4'000, 2500ms);
  EXPECT_GT(n, 5 * kBatch) << "the child wrote too little to exercise background checkpoints";
  EXPECT_EQ(n % kBatch, 0) << "a batch is one transaction";
  open()->entities().upsertEntity(makeEntity("still writable"));
}

// With ANALYZE statistics present, the recursive step must still walk the partial edge index
// from each frontier node rather than build a Bloom filter over the whole edge table.
// An in-hop reads edges_in alone: the index carries the edge id (migration 5), so neither
// neighbors nor a walk seeks the table for it. A file at schema 4 gets the new index when it
// is opened, with its rows.
TEST_F(SqliteFileTest, InHopReadsTheEdgeIdFromEdgesIn) {
  {
    auto db = open();
    const auto nodes = storeNodes(*db, 50);
    std::vector<Edge> edges;
    for (int i = 0; i < 50; ++i) edges.push_back(makeEdge(nodes[i].id, nodes[(i + 1) % 50].id, "extends"));
    db->graph().upsertEdges(edges);
    // Back to schema 4's index and ledger, as a file written by an older build.
    auto w = db->sql().writer();
    w->execute("DROP INDEX edges_in");
    w->execute("CREATE INDEX edges_in ON edges (target_id, namespace, relation, weight, deleted_at, endpoint_deleted)");
    w->execute("DELETE FROM _schema_migrations WHERE version = 5");
  }
  auto db = open();
  EXPECT_EQ(db->info().schemaVersion, backends::sqliteSchemaVersion());
  auto w = db->sql().writer();
  EXPECT_NE(std::get<std::string>(w->queryScalar("SELECT sql FROM sqlite_schema WHERE name = 'edges_in'"))
                .find("endpoint_deleted, id)"),
            std::string::npos);
  EXPECT_EQ(storage::asInt(w->queryScalar("SELECT count(*) FROM edges INDEXED BY edges_in")), 50);
  const auto plan = db->sql().reader()->explain(
      "SELECT e.source_id, e.id, e.relation, e.weight FROM edges AS e WHERE e.target_id = ?1 AND "
      "e.deleted_at IS NULL AND e.endpoint_deleted = 0 AND e.namespace IN ('ns1') AND e.relation IN ('extends')",
      {Uuid::v7().str()});
  EXPECT_NE(plan.find("COVERING INDEX edges_in"), std::string::npos) << plan;
  const auto node = Uuid::parse(std::get<std::string>(w->queryScalar("SELECT target_id FROM edges LIMIT 1")));
  const auto in = db->graph().neighbors(node, {.namespaces = {"ns1"}, .direction = storage::Direction::In});
  ASSERT_EQ(in.size(), 1u);
  EXPECT_TRUE(db->graph().getEdge(in[0].edgeId));
}

// neighbors sorts a node's edges itself when it has up to a thousand or so and lets the
// statement sort them when it has more: both give the same order (weight descending, then
// node, relation and edge id) and the first `limit` of it, ties included.
TEST_F(SqliteFileTest, NeighborsOrderIsTheSameForSmallAndLargeNodes) {
  auto db = open();
  const auto nodes = storeNodes(*db, 1200);
  for (const int degree : {900, 1100}) {
    const Uuid hub = nodes[static_cast<std::size_t>(degree == 900 ? 0 : 1)].id;
    std::vector<Edge> edges;
    for (int k = 0; k < degree; ++k) {
      auto e = makeEdge(hub, nodes[static_cast<std::size_t>(2 + k)].id, k % 3 ? "extends" : "depends_on");
      e.weight = static_cast<double>(k % 7) / 8;  // many ties
      edges.push_back(e);
      if (k % 50 == 0) edges.push_back(makeEdge(hub, nodes[static_cast<std::size_t>(2 + k)].id, "enables"));
    }
    db->graph().upsertEdges(edges);
    std::vector<storage::Neighbor> expected;
    for (const auto& e : edges) expected.push_back({e.targetId, e.id, e.relation, e.weight, storage::Direction::Out});
    std::sort(expected.begin(), expected.end(), [](const storage::Neighbor& a, const storage::Neighbor& b) {
      if (a.weight != b.weight) return a.weight > b.weight;
      return std::tie(a.nodeId.bytes(), a.relation, a.edgeId.bytes()) <
             std::tie(b.nodeId.bytes(), b.relation, b.edgeId.bytes());
    });
    for (const std::int64_t limit : {1, 100, 2000}) {
      auto got = db->graph().neighbors(hub, {.namespaces = {"ns1"}, .limit = limit});
      auto want = expected;
      if (static_cast<std::int64_t>(want.size()) > limit) want.resize(static_cast<std::size_t>(limit));
      EXPECT_EQ(got, want) << "degree " << degree << ", limit " << limit;
    }
  }
}

// The writer's page cache and the readers' map are settings (SqliteOptions::writerCacheMiB,
// readerMapMiB); by default readers map up to SQLite's limit. A value out of range is refused
// before the file is created.
TEST_F(SqliteFileTest, WriterCacheAndReaderMapAreSettings) {
  backends::SqliteOptions o;
  o.path = path_;
  {
    auto db = backends::openSqlite(o);
    EXPECT_GE(storage::asInt(db->sql().reader()->queryScalar("PRAGMA mmap_size")), std::int64_t{2047} << 20);
  }
  o.writerCacheMiB = 300;
  o.readerMapMiB = 64;
  {
    auto db = backends::openSqlite(o);
    EXPECT_EQ(storage::asInt(db->sql().writer()->queryScalar("PRAGMA cache_size")), -300 * 1024);
    EXPECT_EQ(storage::asInt(db->sql().reader()->queryScalar("PRAGMA mmap_size")), std::int64_t{64} << 20);
  }
  fs::remove_all(dir_);
  fs::create_directories(dir_);
  auto refused = [&](backends::SqliteOptions bad, const std::string& named) {
    try {
      backends::openSqlite(bad);
      ADD_FAILURE() << "opened with " << named << " out of range";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::InvalidInput);
      EXPECT_NE(std::string(e.what()).find(named), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fs::exists(path_));
  };
  o.writerCacheMiB = 0;
  refused(o, "writer_cache_mib");
  o.writerCacheMiB = 128;
  o.readerMapMiB = -1;
  refused(o, "readers' map");
}

TEST_F(SqliteFileTest, TraversalPlanStaysPinnedAfterAnalyze) {
  auto db = open();
  std::vector<Entity> nodes;
  for (int i = 0; i < 400; ++i) nodes.push_back(makeEntity("n" + std::to_string(i)));
  db->entities().upsertEntities(nodes);
  std::vector<Edge> edges;
  for (int i = 0; i < 400; ++i) {
    for (int k = 1; k <= 5; ++k)
      edges.push_back(makeEdge(nodes[i].id, nodes[(i * 7 + k * 13) % 400].id, k % 2 ? "extends" : "depends_on"));
  }
  db->graph().upsertEdges(edges);
  db->sql().writer()->execute("ANALYZE");
  // The same shape of statement the graph store runs (see graph_store.cc).
  const std::string walk =
      "WITH RECURSIVE walk(node, depth) AS (SELECT ?1, 0 UNION SELECT j.value, w.depth + 1 FROM walk AS w, "
      "json_each((SELECT json_group_array(e.target_id) FROM edges AS e WHERE e.source_id = w.node AND "
      "e.deleted_at IS NULL AND e.endpoint_deleted = 0 AND e.namespace IN ('ns1'))) AS j WHERE w.depth < 3 "
      "LIMIT 100000) SELECT node, min(depth) FROM walk GROUP BY node";
  auto plan = db->sql().reader()->explain(walk, {nodes[0].id.str()});
  EXPECT_EQ(plan.find("BLOOM"), std::string::npos) << plan;
  EXPECT_NE(plan.find("SEARCH e USING PRIMARY KEY (source_id=?)"), std::string::npos) << plan;
  auto trees = db->graph().traverse({.roots = {nodes[0].id}, .namespaces = {"ns1"}, .maxDepth = 3});
  EXPECT_GT(trees[0].nodes.size(), 5u);
}

}  // namespace
}  // namespace khive
