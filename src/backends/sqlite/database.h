#pragma once
// The SQLite connection set of one backend: one writer connection behind a re-entrant lock,
// a pool of read-only readers (WAL lets them read while the writer writes), migrations.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "backends/sqlite/connection.h"
#include "khive/backends/sqlite.h"
#include "khive/core/clock.h"
#include "khive/storage/shared_read_budget.h"
#include "khive/storage/thread_unit.h"

namespace khive::sqlite {

// Thread-safe.
class Database {
 public:
  explicit Database(const backends::SqliteOptions& options);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Exclusive use of the writer connection. Re-entrant: a thread that already holds the
  // writer gets it again (nested), so a store call inside an open transaction joins it. A
  // thread with a unit of work open on this database (WorkUnit) that does not hold the writer
  // yet begins the unit's transaction first, so the write joins the unit.
  class WriteLease {
   public:
    WriteLease(Database& db, bool nested) : db_(&db), nested_(nested) {}
    WriteLease(WriteLease&& o) noexcept : db_(std::exchange(o.db_, nullptr)), nested_(o.nested_) {}
    WriteLease& operator=(WriteLease&&) = delete;
    ~WriteLease();
    Conn& conn() const { return *db_->writer_; }
    bool nested() const { return nested_; }

   private:
    Database* db_;
    bool nested_;
  };

  // A reader connection; the writer itself when the calling thread holds the writer, so
  // reads inside a transaction see its own writes.
  class ReadLease {
   public:
    ReadLease(Database& db, std::unique_ptr<Conn> conn) : db_(&db), conn_(std::move(conn)) {}
    ReadLease(ReadLease&& o) noexcept : db_(std::exchange(o.db_, nullptr)), conn_(std::move(o.conn_)) {}
    ReadLease& operator=(ReadLease&&) = delete;
    ~ReadLease();
    Conn& conn() const { return conn_ ? *conn_ : *db_->writer_; }

   private:
    Database* db_;
    std::unique_ptr<Conn> conn_;  // null: borrowing the writer
  };

  WriteLease acquireWriter(std::string_view capability, std::string_view operation);
  WriteLease acquireWriter(std::chrono::milliseconds timeout, std::string_view capability,
                           std::string_view operation);
  // A reader carries the read budget (setReadBudget) for each statement it runs; the writer,
  // also when lent as a reader, runs unbounded.
  ReadLease acquireReader(std::string_view capability, std::string_view operation);
  void setReadBudget(const storage::ReadBudget& budget);
  storage::ReadBudget readBudget() const;

  const Clock& clock() const { return *clock_; }
  Micros now() const { return clock_->nowMicros(); }
  const std::string& location() const { return location_; }
  bool inMemory() const { return memory_; }
  int schemaVersion() const { return schemaVersion_; }
  // Why the database is read-only ("opened read-only", "the file is not writable by this
  // user", ...); empty when it is writable.
  const std::string& readOnlyReason() const { return readOnlyReason_; }
  bool isSymmetric(std::string_view relation) const;
  const std::vector<std::string>& symmetricRelations() const { return symmetric_; }

 private:
  void migrate();
  // The user tables of the file and whether it holds khive's migration ledger; InvalidInput
  // (naming the file) for a file that is not an SQLite database or belongs to another program.
  // Reads only: it runs before anything that writes.
  bool checkKhiveFile(Conn& conn);
  void releaseWriter();

  // Constant after construction.
  const Clock* clock_;
  std::string location_;
  std::string uri_;
  bool memory_ = false;
  backends::SqliteOptions options_;
  std::vector<std::string> symmetric_;
  int schemaVersion_ = 0;
  std::string readOnlyReason_;  // non-empty: read-only (the writer connection is read-only too)
  std::unique_ptr<Conn> writer_;

  // Writer ownership: writerMu_ is held by the owning thread for the lease's lifetime.
  std::timed_mutex writerMu_;
  std::atomic<std::thread::id> writerOwner_{};
  int writerDepth_ = 0;  // touched only by the owner

  // The writer's WAL hook (runs on the committing thread after each commit).
  static int onWalCommit(void* self, sqlite3* db, const char* schema, int frames);
  // Checkpoints of a file database run on their own thread and connection (see onWalCommit).
  void checkpointLoop();
  void stopCheckpointer();
  std::unique_ptr<Conn> checkpointConn_;
  std::mutex checkpointRunMu_;  // one checkpoint at a time: the background pass or the writer's
  std::mutex checkpointMu_;
  std::condition_variable checkpointCv_;
  bool checkpointWanted_ = false;  // guarded by checkpointMu_
  bool checkpointStop_ = false;    // guarded by checkpointMu_
  std::thread checkpointer_;

  mutable std::mutex readersMu_;
  std::condition_variable readersCv_;
  storage::SharedReadBudget readBudget_;
  std::vector<std::unique_ptr<Conn>> idleReaders_;  // guarded by readersMu_
};

class WorkUnit;

// A write transaction on the writer: BEGIN IMMEDIATE at the outermost level, a SAVEPOINT when
// nested. Rolls back unless commit() was called. Nested in the transaction of a unit of work
// (WorkUnit), it joins that transaction instead (no SAVEPOINT: while one is open, SQLite copies
// every page it changes to a statement journal): commit() does nothing, and rollback() or
// destruction uncommitted fails the unit, whose commit() then refuses. Single-threaded.
class WriteTx {
 public:
  WriteTx(Database& db, std::string_view capability, std::string_view operation);
  WriteTx(Database& db, std::chrono::milliseconds timeout, std::string_view capability,
          std::string_view operation);
  ~WriteTx();
  WriteTx(const WriteTx&) = delete;
  WriteTx& operator=(const WriteTx&) = delete;

  Conn& conn() const { return lease_.conn(); }
  void commit();
  void rollback();

 private:
  void start();

  Database& db_;
  Database::WriteLease lease_;
  std::string_view capability_;
  std::string_view operation_;
  std::string savepoint_;  // empty at the outermost level
  WorkUnit* joined_ = nullptr;  // the unit whose transaction this one joined
  bool open_ = false;
};

// The unit of work of one thread (storage::UnitOfWork): the outermost write transaction of
// the writer, begun by the thread's first write through acquireWriter(). Every store call of
// the thread then nests in it (a SAVEPOINT each) and reads on the writer, so they see the
// unit's writes. FTS5 and the vector tables are ordinary tables of that transaction; the
// in-memory FAISS index applies only committed rows of the change log (vector_index.h), so
// a rolled-back unit never reaches it. A store call that rolls back its own transaction to
// retry (the edge load's finish()) belongs outside a unit. Single-threaded.
class WorkUnit final : public storage::ThreadUnit<WorkUnit, Database> {
 public:
  // Error(Transaction) when one is already open on the thread.
  explicit WorkUnit(Database& db) : ThreadUnit(db) {}
  ~WorkUnit() override;
  // Begins the transaction unless it is open or beginning (the BEGIN itself acquires the writer).
  void start(std::chrono::milliseconds timeout, std::string_view capability, std::string_view operation);
  // Whether the unit's transaction is open (a nested WriteTx then joins it).
  bool begun() const { return tx_ != nullptr; }
  // A joined WriteTx ended uncommitted: part of its work may be in the transaction.
  void markFailed(std::string_view capability, std::string_view operation);
  void commit() override;
  void rollback() override;

 private:
  std::unique_ptr<WriteTx> tx_;
  std::string failed_;  // the capability and operation of a joined WriteTx that ended uncommitted
  bool starting_ = false;
};

}  // namespace khive::sqlite
