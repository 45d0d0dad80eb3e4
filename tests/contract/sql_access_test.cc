#include <chrono>
#include <future>
#include <thread>

#include "contract/contract_fixture.h"

namespace khive::testing {
namespace {

using namespace std::chrono_literals;
using storage::SqlParams;

class SqlContract : public ContractTest {
 protected:
  std::string insertEntitySql() {
    return "INSERT INTO entities (id, namespace, kind, name, created_at, updated_at) VALUES (" + ph(1) + ", " +
           ph(2) + ", 'concept', " + ph(3) + ", 1, 1)";
  }
};

TEST_P(SqlContract, TypedParametersAndResults) {
  auto id = Uuid::v7();
  auto w = db->sql().writer();
  EXPECT_EQ(w->execute(insertEntitySql(), {id, std::string("ns1"), std::string("it's")}), 1);
  auto r = db->sql().reader();
  auto rows = r->query("SELECT name, created_at FROM entities WHERE namespace = " + ph(1), {std::string("ns1")});
  ASSERT_EQ(rows.columns, (std::vector<std::string>{"name", "created_at"}));
  ASSERT_EQ(rows.rows.size(), 1u);
  EXPECT_EQ(storage::asText(rows.rows[0][0]), "it's");
  EXPECT_EQ(storage::asInt(rows.rows[0][1]), 1);
  EXPECT_EQ(storage::asInt(r->queryScalar("SELECT count(*) FROM entities")), 1);
  EXPECT_FALSE(r->queryRow("SELECT name FROM entities WHERE namespace = " + ph(1), {std::string("none")}));
  EXPECT_TRUE(storage::isNull(r->queryScalar("SELECT name FROM entities WHERE namespace = 'none'")));
  EXPECT_FALSE(r->explain("SELECT name FROM entities WHERE namespace = " + ph(1), {std::string("x")}).empty());
  auto e = db->entities().getEntity(id);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->name, "it's");
}

TEST_P(SqlContract, BadStatementsAreClearErrors) {
  auto r = db->sql().reader();
  EXPECT_EQ(codeOf([&] { r->query("SELEC nonsense"); }), ErrorCode::InvalidInput);
  EXPECT_EQ(codeOf([&] { r->query("SELECT 1; SELECT 2"); }), ErrorCode::InvalidInput);
  EXPECT_EQ(codeOf([&] { r->query("SELECT count(*) FROM entities WHERE namespace = " + ph(1), {}); }),
            ErrorCode::InvalidInput);
  EXPECT_THROW(r->execute(insertEntitySql(), {Uuid::v7(), std::string("ns1"), std::string("x")}), Error)
      << "a reader is read-only";
  EXPECT_EQ(db->entities().countEntities({.namespaces = {"ns1"}}), 0);
  auto w = db->sql().writer();
  EXPECT_EQ(w->executeBatch(insertEntitySql(), {{Uuid::v7(), std::string("ns1"), std::string("a")},
                                                {Uuid::v7(), std::string("ns1"), std::string("b")}}),
            2);
}

TEST_P(SqlContract, TransactionsCommitOrRollBack) {
  auto id1 = Uuid::v7(), id2 = Uuid::v7(), id3 = Uuid::v7();
  {
    auto tx = db->sql().begin();
    tx->execute(insertEntitySql(), {id1, std::string("ns1"), std::string("kept")});
    tx->commit();
    EXPECT_EQ(codeOf([&] { tx->commit(); }), ErrorCode::Transaction);
  }
  {
    auto tx = db->sql().begin();
    tx->execute(insertEntitySql(), {id2, std::string("ns1"), std::string("dropped")});
  }  // destroyed uncommitted
  {
    auto tx = db->sql().begin();
    tx->execute(insertEntitySql(), {id3, std::string("ns1"), std::string("rolled back")});
    tx->rollback();
  }
  EXPECT_TRUE(db->entities().getEntity(id1));
  EXPECT_FALSE(db->entities().getEntity(id2));
  EXPECT_FALSE(db->entities().getEntity(id3));
  auto ro = db->sql().begin({.readOnly = true});
  EXPECT_EQ(storage::asInt(ro->queryScalar("SELECT count(*) FROM entities")), 1);
  ro->commit();
}

TEST_P(SqlContract, ReadersReadDuringALongWriteTransaction) {
  auto before = entity("before");
  auto pending = Uuid::v7();
  auto tx = db->sql().begin();
  tx->execute(insertEntitySql(), {pending, std::string("ns1"), std::string("pending")});
  // Four readers on other threads while the write transaction stays open.
  std::vector<std::future<std::pair<bool, bool>>> readers;
  for (int i = 0; i < 4; ++i) {
    readers.push_back(std::async(std::launch::async, [&] {
      bool sawBefore = db->entities().getEntity(before.id).has_value();
      bool sawPending = db->entities().getEntity(pending).has_value();
      return std::pair{sawBefore, sawPending};
    }));
  }
  if (GetParam().readersRunDuringWrites) {
    for (auto& f : readers) {
      ASSERT_EQ(f.wait_for(5s), std::future_status::ready) << "a reader waited for the writer";
      auto [sawBefore, sawPending] = f.get();
      EXPECT_TRUE(sawBefore);
      EXPECT_FALSE(sawPending) << "uncommitted rows are invisible to other connections";
    }
    tx->commit();
  } else {
    std::this_thread::sleep_for(200ms);
    tx->commit();
    for (auto& f : readers) {
      auto [sawBefore, sawPending] = f.get();
      EXPECT_TRUE(sawBefore);
      (void)sawPending;  // ordering with the commit is not defined here
    }
  }
  EXPECT_TRUE(db->entities().getEntity(pending));
}

TEST_P(SqlContract, ConcurrentWritersLoseNothing) {
  constexpr int kThreads = 4, kEach = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) entity("w" + std::to_string(t) + "-" + std::to_string(i));
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(db->entities().countEntities({.namespaces = {"ns1"}}), kThreads * kEach);
}

KHIVE_INSTANTIATE_CONTRACT(SqlContract);

}  // namespace
}  // namespace khive::testing
