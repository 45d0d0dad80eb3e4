// The unit of work (storage/unit_of_work.h): one transaction across every capability, on
// every backend.

#include <future>
#include <thread>

#include "contract_fixture.h"

namespace khive::testing {
namespace {

class UnitOfWorkTest : public ContractTest {
 protected:
  Entity entityOf(const std::string& name) {
    Entity e;
    e.id = Uuid::v7();
    e.ns = "ns1";
    e.kind = "concept";
    e.name = name;
    return e;
  }
  static storage::TextDocument docOf(const Entity& e) {
    return {.subjectId = e.id, .ns = e.ns, .kind = e.kind, .title = e.name, .body = "unitword body", .tags = {}};
  }
  static Event eventOf(const Entity& e) {
    Event ev;
    ev.id = Uuid::v7();
    ev.ns = e.ns;
    ev.verb = "create";
    ev.actor = "tester";
    ev.kind = e.kind;
    ev.targetId = e.id;
    return ev;
  }
  static storage::VectorRecord vectorOf(const Entity& e, std::vector<float> v) {
    storage::VectorRecord r;
    r.subjectId = e.id;
    r.ns = e.ns;
    r.kind = e.kind;
    r.model = "unit-model";
    r.values = std::move(v);
    return r;
  }
  bool hasVectors() {
    for (const auto& c : db->info().capabilities)
      if (c.capability == storage::Capability::Vectors) return c.supported;
    return false;
  }
  // Writes the record, its text document, its event and (when supported) its vector.
  void writeAll(const Entity& e, const Event& ev) {
    db->entities().upsertEntity(e);
    db->text().upsertDocument(docOf(e));
    db->events().appendEvent(ev);
    if (hasVectors()) db->vectors().insertVector(vectorOf(e, {0.0f, 1.0f, 0.0f}));
  }
  std::vector<Uuid> vectorHits() {
    std::vector<Uuid> out;
    storage::VectorSearchRequest r;
    r.query = {0.0f, 1.0f, 0.0f};
    r.model = "unit-model";
    r.namespaces = {"ns1"};
    for (const auto& h : db->vectors().searchVectors(r)) out.push_back(h.subjectId);
    return out;
  }
  std::int64_t textHits() {
    return static_cast<std::int64_t>(db->text().searchText({.text = "unitword", .namespaces = {"ns1"}}).size());
  }
};

TEST_P(UnitOfWorkTest, CommitWritesEveryCapabilityTogether) {
  Entity e = entityOf("together");
  Event ev = eventOf(e);
  {
    auto work = db->beginWork();
    writeAll(e, ev);
    // Reads inside the unit see its writes.
    ASSERT_TRUE(db->entities().getEntity(e.id));
    EXPECT_TRUE(db->text().getDocument(e.id));
    EXPECT_TRUE(db->events().getEvent(ev.id));
    work->commit();
  }
  EXPECT_TRUE(db->entities().getEntity(e.id));
  EXPECT_TRUE(db->text().getDocument(e.id));
  EXPECT_TRUE(db->events().getEvent(ev.id));
  EXPECT_EQ(textHits(), 1);
  if (hasVectors()) {
    EXPECT_EQ(vectorHits(), std::vector<Uuid>{e.id});
  }
}

TEST_P(UnitOfWorkTest, DestroyedUncommittedWritesNothing) {
  // A committed vector first, so the in-memory index (SQLite) is built before the unit.
  Entity kept = entityOf("kept");
  if (hasVectors()) {
    db->entities().upsertEntity(kept);
    db->vectors().insertVector(vectorOf(kept, {0.0f, 1.0f, 0.1f}));
    ASSERT_EQ(vectorHits(), std::vector<Uuid>{kept.id});
  }
  Entity e = entityOf("gone");
  Event ev = eventOf(e);
  {
    auto work = db->beginWork();
    writeAll(e, ev);
    if (hasVectors()) {
      EXPECT_EQ(vectorHits().size(), 2u);  // inside: its own vector too
    }
  }
  EXPECT_FALSE(db->entities().getEntityIncludingDeleted(e.id));
  EXPECT_FALSE(db->text().getDocument(e.id));
  EXPECT_FALSE(db->events().getEvent(ev.id));
  EXPECT_EQ(textHits(), 0);
  if (hasVectors()) {
    EXPECT_EQ(vectorHits(), std::vector<Uuid>{kept.id});
    EXPECT_EQ(db->vectors().countVectors("unit-model", std::vector<std::string>{"ns1"}), 1);
  }
  // The thread writes on its own again afterwards.
  db->entities().upsertEntity(e);
  EXPECT_TRUE(db->entities().getEntity(e.id));
}

TEST_P(UnitOfWorkTest, ExplicitRollbackAndCommitTwice) {
  Entity e = entityOf("rolled back");
  auto work = db->beginWork();
  db->entities().upsertEntity(e);
  work->rollback();
  work->rollback();  // idempotent
  EXPECT_FALSE(db->entities().getEntity(e.id));
  EXPECT_EQ(codeOf([&] { work->commit(); }), ErrorCode::Transaction);
}

TEST_P(UnitOfWorkTest, OneUnitPerThreadAndBackend) {
  auto work = db->beginWork();
  EXPECT_EQ(codeOf([&] { db->beginWork(); }), ErrorCode::Transaction);
  // Another thread may open its own.
  auto other = std::async(std::launch::async, [&] {
    auto w = db->beginWork();
    w->commit();
    return true;
  });
  EXPECT_TRUE(other.get());
  work->commit();
  auto again = db->beginWork();  // the first one ended
  again->commit();
}

TEST_P(UnitOfWorkTest, ReadsBeforeTheFirstWriteHoldNothing) {
  auto work = db->beginWork();
  EXPECT_FALSE(db->entities().getEntity(Uuid::v7()));
  // Nothing is locked or checked out yet: another thread writes and commits meanwhile.
  Entity other = entityOf("other thread");
  std::async(std::launch::async, [&] { db->entities().upsertEntity(other); }).get();
  Entity mine = entityOf("mine");
  db->entities().upsertEntity(mine);
  EXPECT_TRUE(db->entities().getEntity(other.id));
  work->commit();
  EXPECT_TRUE(db->entities().getEntity(mine.id));
}

TEST_P(UnitOfWorkTest, OtherThreadsDoNotSeeUncommittedWrites) {
  // A pool of one connection (PGlite) or an in-memory SQLite database (no WAL) makes another
  // thread wait for the unit rather than read around it.
  if (GetParam().name == "pglite" || !GetParam().readersRunDuringWrites) GTEST_SKIP() << "readers wait for the unit here";
  Entity e = entityOf("private until commit");
  auto work = db->beginWork();
  db->entities().upsertEntity(e);
  db->text().upsertDocument(docOf(e));
  EXPECT_FALSE(std::async(std::launch::async, [&] { return db->entities().getEntity(e.id).has_value(); }).get());
  EXPECT_EQ(std::async(std::launch::async, [&] { return textHits(); }).get(), 0);
  work->commit();
  EXPECT_TRUE(std::async(std::launch::async, [&] { return db->entities().getEntity(e.id).has_value(); }).get());
}

TEST_P(UnitOfWorkTest, BatchesCountFailedRowsInsideAUnit) {
  Entity ok1 = entityOf("ok1"), ok2 = entityOf("ok2");
  Entity bad = entityOf("bad");
  bad.ns = "";  // refused by the store
  {
    auto work = db->beginWork();
    std::vector<Entity> batch{ok1, bad, ok2};
    auto s = db->entities().upsertEntities(batch);
    EXPECT_EQ(s.affected, 2);
    EXPECT_EQ(s.failed, 1);
    std::vector<storage::TextDocument> docs{docOf(ok1), docOf(ok2)};
    EXPECT_EQ(db->text().upsertDocuments(docs).affected, 2);
    work->commit();
  }
  EXPECT_TRUE(db->entities().getEntity(ok1.id));
  EXPECT_TRUE(db->entities().getEntity(ok2.id));
  EXPECT_EQ(textHits(), 2);
}

TEST_P(UnitOfWorkTest, SqlTransactionInsideAUnitNestsInIt) {
  Entity e = entityOf("nested");
  {
    auto work = db->beginWork();
    db->entities().upsertEntity(e);
    {
      auto tx = db->sql().begin();
      tx->execute("UPDATE entities SET name = 'renamed' WHERE name = 'nested'");
      tx->commit();  // joins the unit: nothing is committed yet
    }
  }
  EXPECT_FALSE(db->entities().getEntity(e.id));
}

TEST_P(UnitOfWorkTest, AFailedStatementFailsTheUnitOnPostgres) {
  if (db->info().engine != "postgres") GTEST_SKIP() << "SQLite undoes a failed statement alone";
  Entity e = entityOf("before the failure");
  auto work = db->beginWork();
  db->entities().upsertEntity(e);
  EXPECT_ANY_THROW(db->sql().writer()->execute("SELECT 1 / 0"));
  EXPECT_EQ(codeOf([&] { work->commit(); }), ErrorCode::Transaction);
  EXPECT_FALSE(db->entities().getEntity(e.id));
}

TEST_P(UnitOfWorkTest, AFailedStoreWriteFailsTheUnitOnSqlite) {
  if (db->info().engine != "sqlite") GTEST_SKIP() << "PostgreSQL: AFailedStatementFailsTheUnitOnPostgres";
  Entity elsewhere = entityOf("elsewhere");
  elsewhere.ns = "ns2";
  db->entities().upsertEntity(elsewhere);
  Entity e = entityOf("before the failure");
  auto work = db->beginWork();
  db->entities().upsertEntity(e);
  Entity moved = elsewhere;
  moved.ns = "ns1";  // ids cannot move between namespaces: Conflict inside the store's write
  EXPECT_EQ(codeOf([&] { db->entities().upsertEntity(moved); }), ErrorCode::Conflict);
  EXPECT_EQ(codeOf([&] { work->commit(); }), ErrorCode::Transaction);
  EXPECT_FALSE(db->entities().getEntity(e.id));
}

KHIVE_INSTANTIATE_CONTRACT(UnitOfWorkTest);

}  // namespace
}  // namespace khive::testing
