#pragma once
// The PostgreSQL database a backend talks to: a bounded connection pool whose every checkout
// carries the session's granted namespaces (a signed scope token row-level security verifies,
// scope_token.h), migrations, and the transaction + retry helpers the stores build on.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backends/postgres/pg_conn.h"
#include "backends/postgres/write_groups.h"
#include "khive/backends/postgres.h"
#include "khive/core/clock.h"
#include "khive/storage/shared_read_budget.h"
#include "khive/storage/thread_unit.h"
#include "khive/storage/backend.h"

namespace khive::postgres {

class Database;
class ReplicaRouter;

// A connection checked out of the pool; returns it when destroyed (with its namespaces reset
// unless its session state is known to be exactly what the pool set; Database::release).
// Single-threaded.
class Lease {
 public:
  // `write`: checked out for writing (its hand-back tells the replica router, ReplicaRouter).
  Lease(Database& db, std::unique_ptr<Conn> conn, bool write = false)
      : db_(&db), conn_(std::move(conn)), write_(write) {}
  // The connection of the thread's unit of work (WorkUnit), borrowed: release() forgets it.
  explicit Lease(Conn& borrowed) : db_(nullptr), borrowed_(&borrowed) {}
  Lease(Lease&& o) noexcept : db_(o.db_), conn_(std::move(o.conn_)), borrowed_(o.borrowed_), write_(o.write_) {
    o.db_ = nullptr;
    o.borrowed_ = nullptr;
  }
  Lease& operator=(Lease&&) = delete;
  Lease(const Lease&) = delete;
  ~Lease();
  // The connection; Error(Transaction) once release() handed it back.
  Conn& conn();
  // Hands the connection back to the pool now rather than at destruction (a transaction
  // handle does this at commit/rollback, so a pool of one is free again for the next caller).
  void release();

 private:
  Database* db_;
  std::unique_ptr<Conn> conn_;
  Conn* borrowed_ = nullptr;
  bool write_ = false;
};

// Thread-safe: the pool is guarded by mu_; everything else is constant after construction.
class Database {
 public:
  explicit Database(const backends::PostgresOptions& options);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // A pooled connection with khive.scope set to the signed grant of the namespaces and, for
  // readOnly, default_transaction_read_only on and statement_timeout at the read budget's time
  // (setReadBudget; writers get options().statementTimeout). Error(Pool) when none frees up in
  // time. A reader goes to a read replica when options().replicas has any (ReplicaRouter,
  // replica_router.h). On a thread with a unit of work open on this database (WorkUnit), the unit's connection
  // instead (its transaction begun first unless readOnly): every store call of the thread
  // then runs in the unit, and the write(), run() and writeStatement() below with it.
  Lease acquire(std::string_view capability, std::string_view operation, bool readOnly = false);
  // The time of storage::ReadBudget for reader checkouts from now on (0 = none). PostgreSQL
  // has no work counter a non-superuser can bound: the work budget is kept for readBudget()
  // only.
  void setReadBudget(const storage::ReadBudget& budget);
  storage::ReadBudget readBudget() const;

  // ANALYZE on khive's tables over the schema owner's connection (the application role may not
  // analyze tables it does not own), so the planner sees the sizes a bulk load left.
  void analyze();

  // Runs fn(conn) in a transaction (READ COMMITTED unless `serializable`), committing when it
  // returns; inside a unit of work, under a SAVEPOINT of the unit's transaction (Tx). A serialization failure or deadlock rolls back and runs fn again, up to
  // maxRetries times with a short randomised back-off; other errors roll back and propagate.
  template <class F>
  auto write(std::string_view capability, std::string_view operation, F&& fn, bool serializable = false)
      -> decltype(fn(std::declval<Conn&>()));

  // Runs fn(conn) on a pooled connection in autocommit mode (each statement its own
  // transaction): for single-statement writes, which need no BEGIN/COMMIT round trips.
  // Retries on serialization failure or deadlock like write(); a reader also once on a lost
  // connection (a replica or primary that went away while it sat idle: the next checkout goes
  // elsewhere or connects anew).
  template <class F>
  auto run(std::string_view capability, std::string_view operation, F&& fn, bool readOnly = false)
      -> decltype(fn(std::declval<Conn&>()));

  // Runs one write statement as its own unit of work, like run() with a single exec, and
  // returns its result. Inside a WorkUnit: as a statement of the unit's transaction. Else,
  // unless options().groupWrites is off, together with concurrent callers' statements
  // (WriteGroups, write_groups.h). `merged`: the statement's multi-row form, if it has one.
  Result writeStatement(std::string_view capability, std::string_view operation, std::string_view sql,
                        const Params& params, const MergedForm* merged = nullptr);

  Micros now() const { return clock_->nowMicros(); }
  bool isSymmetric(std::string_view relation) const { return symmetric_.contains(std::string(relation)); }
  std::vector<std::string> symmetricRelations() const { return {symmetric_.begin(), symmetric_.end()}; }
  const backends::PostgresOptions& options() const noexcept { return options_; }
  // Whether the server has pgvector (and the vector migration ran).
  bool hasVectors() const noexcept { return hasVectors_; }
  int schemaVersion() const noexcept { return schemaVersion_; }
  const std::string& serverVersion() const noexcept { return serverVersion_; }
  // The server runs every client connection in one shared session (PGlite's socket server):
  // settings, prepared statements and open transactions are shared, and messages of
  // different connections interleave. The pool then holds a single connection, so this
  // process never has two conversations with the server in flight at once.
  bool sharedSession() const noexcept { return sharedSession_; }
  // Connections the pool opens at most (options().poolSize, or 1 on a shared-session server).
  int poolSize() const noexcept { return poolSize_; }
  std::string location() const;
  // The pool's counters now and the write groups' sizes so far (storage::BackendStats).
  storage::BackendStats stats();
  // The replica router, or null without replicas.
  ReplicaRouter* replicas() const noexcept { return router_.get(); }
  // Connections found dead when handed back (the server went away or closed them).
  std::uint64_t lostConnections() const noexcept { return lost_.load(std::memory_order_relaxed); }
  // Closes the idle connections (their server went away: the next checkout connects anew).
  void dropIdle();

 private:
  friend class Lease;
  friend class WorkUnit;
  friend class ReplicaRouter;
  // A replica's pool: `primary`'s options, scope key and grant on the server of `conninfo`;
  // no migrations, no write grouping.
  Database(const Database& primary, const std::string& conninfo);
  Lease acquirePooled(std::string_view capability, std::string_view operation, bool readOnly);
  std::unique_ptr<Conn> openConnection();
  void release(std::unique_ptr<Conn> conn);
  void migrate();
  void backoff(int attempt);

  // Constant after construction.
  backends::PostgresOptions options_;
  const Clock* clock_;
  std::set<std::string> symmetric_;
  std::string namespacesGuc_;  // the granted namespaces as an array literal
  // The schema's scope key (khive_scope_key), read over the owner's connection at open; never
  // sent to the application's connections, which get only tokens signed with it.
  std::vector<std::uint8_t> scopeKey_;
  std::string searchPath_;
  // The server logged us in as a superuser (PGlite does for every client): each checkout
  // switches to the application role, as RLS does not bind superusers.
  std::atomic<bool> switchRole_{false};
  bool hasVectors_ = false;
  bool sharedSession_ = false;
  int poolSize_ = 1;
  int schemaVersion_ = 0;
  std::string serverVersion_;

  storage::SharedReadBudget readBudget_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Conn>> idle_;  // guarded by mu_
  int open_ = 0;                             // guarded by mu_: connections alive (idle + leased)
  int waiting_ = 0;                          // guarded by mu_: callers waiting for a connection

  std::atomic<std::uint64_t> lost_{0};

  // Concurrent single writes sharing commits; null when options().groupWrites is off.
  std::unique_ptr<WriteGroups> writeGroups_;
  // Reads to replicas; null without options().replicas.
  std::unique_ptr<ReplicaRouter> router_;
};

// Where a single-statement write runs: on a connection the caller holds (inside its
// transaction), or through Database::writeStatement as its own unit of work, committed
// together with concurrent callers' statements. Converts implicitly from either.
class StatementTarget {
 public:
  StatementTarget(Conn& conn) : conn_(&conn) {}  // NOLINT(google-explicit-constructor)
  StatementTarget(Database& db) : db_(&db) {}    // NOLINT(google-explicit-constructor)
  // `merged`: the statement's multi-row form, if it has one (MergedForm).
  Result exec(std::string_view sql, const Params& params, std::string_view capability, std::string_view operation,
              const MergedForm* merged = nullptr) {
    return conn_ ? conn_->exec(sql, params, capability, operation)
                 : db_->writeStatement(capability, operation, sql, params, merged);
  }

 private:
  Conn* conn_ = nullptr;
  Database* db_ = nullptr;
};

// Rolls back on destruction unless committed. On a connection already in a transaction (a
// unit of work's), a SAVEPOINT of it: commit() releases it, rollback() rolls back to it.
// Single-threaded.
class Tx {
 public:
  Tx(Conn& conn, std::string_view capability, std::string_view operation, bool serializable = false,
     bool readOnly = false);
  Tx(const Tx&) = delete;
  Tx& operator=(const Tx&) = delete;
  ~Tx();
  void commit();
  void rollback();
  bool open() const noexcept { return open_; }

 private:
  Conn& conn_;
  std::string capability_, operation_;
  std::string savepoint_;  // empty at the outermost level
  bool open_ = false;
};

// The unit of work of one thread (storage::UnitOfWork): one pooled connection, checked out
// with the session's scope token like any other, with a transaction open on it from the
// thread's first write. Store calls of the thread run on it (Database::acquire), bypassing the
// concurrent write grouping of writeStatement(). Single-threaded.
class WorkUnit final : public storage::ThreadUnit<WorkUnit, Database> {
 public:
  // Error(Transaction) when one is already open on the thread.
  explicit WorkUnit(Database& db) : ThreadUnit(db) {}
  ~WorkUnit() override;
  void commit() override;
  void rollback() override;

  // The unit's connection; when its transaction has not begun: begins it when `start`, else
  // null (a read before the unit's first write runs on a pooled connection of its own).
  Conn* conn(bool start, std::string_view capability, std::string_view operation);

 private:
  std::optional<Lease> lease_;
};

template <class F>
auto Database::write(std::string_view capability, std::string_view operation, F&& fn, bool serializable)
    -> decltype(fn(std::declval<Conn&>())) {
  for (int attempt = 1;; ++attempt) {
    auto lease = acquire(capability, operation);
    try {
      Tx tx(lease.conn(), capability, operation, serializable);
      if constexpr (std::is_void_v<decltype(fn(lease.conn()))>) {
        fn(lease.conn());
        tx.commit();
        return;
      } else {
        auto out = fn(lease.conn());
        tx.commit();
        return out;
      }
    } catch (const Error& e) {
      const bool retry = e.code() == ErrorCode::Serialization || e.code() == ErrorCode::Transaction;
      if (!retry || attempt >= options_.maxRetries) throw;
    }
    backoff(attempt);
  }
}

template <class F>
auto Database::run(std::string_view capability, std::string_view operation, F&& fn, bool readOnly)
    -> decltype(fn(std::declval<Conn&>())) {
  for (int attempt = 1;; ++attempt) {
    try {
      auto lease = acquire(capability, operation, readOnly);
      return fn(lease.conn());
    } catch (const Error& e) {
      const bool retry = e.code() == ErrorCode::Serialization || e.code() == ErrorCode::Transaction ||
                         (readOnly && attempt == 1 && e.code() == ErrorCode::Unavailable);
      if (!retry || attempt >= options_.maxRetries) throw;
    }
    backoff(attempt);
  }
}

}  // namespace khive::postgres
