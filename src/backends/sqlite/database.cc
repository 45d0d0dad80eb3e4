#include "backends/sqlite/database.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "backends/sqlite/migrations.h"
#include "khive/core/uuid.h"
#include "khive/core/vocabulary.h"

namespace khive::sqlite {

namespace {
constexpr std::string_view kCap = "sql";
// A commit that leaves this many frames (~40 MiB of 16 KiB pages) in the WAL wakes the
// checkpointer thread (see onWalCommit).
constexpr int kBackgroundCheckpointFrames = 2'500;
constexpr int kMaxWriterCacheMiB = 1 << 20;  // 1 TiB

// Why an existing file database must be opened read-only; empty when this process may write
// the file and create the journal files beside it (or the file does not exist yet).
std::string readOnlyReasonFor(const backends::SqliteOptions& o) {
  if (o.readOnly) return "opened read-only";
  std::error_code ec;
  if (!std::filesystem::exists(o.path, ec)) return "";
  if (::access(o.path.c_str(), W_OK) != 0) return "the file is not writable by this user";
  auto dir = std::filesystem::path(o.path).parent_path();
  if (dir.empty()) dir = ".";
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    return fmt::format("its directory {} is not writable by this user", dir.string());
  return "";
}

// An SQLite URI opening `path` as immutable: no locks, no -shm or -wal file created.
std::string immutableUri(const std::string& path) {
  std::string out = "file:";
  for (unsigned char c : std::filesystem::absolute(path).string()) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~')
      out += static_cast<char>(c);
    else
      out += fmt::format("%{:02X}", c);
  }
  return out + "?immutable=1";
}

}  // namespace

Database::Database(const backends::SqliteOptions& options)
    : clock_(options.clock ? options.clock : &SystemClock::instance()), options_(options) {
  for (auto r : vocab::defaultSymmetricRelations()) symmetric_.emplace_back(r);
  for (const auto& r : options.extraSymmetricRelations)
    if (!isSymmetric(r)) symmetric_.push_back(r);

  if (options.path.empty()) {
    throw Error(ErrorCode::InvalidInput, "sql", "open", "the SQLite path is empty; give a file path or :memory:");
  }
  if (options.writerCacheMiB < 1 || options.writerCacheMiB > kMaxWriterCacheMiB)
    throw Error(ErrorCode::InvalidInput, "sql", "open",
                fmt::format("the SQLite writer cache is {} MiB; give 1 to {} MiB (writer_cache_mib)",
                            options.writerCacheMiB, kMaxWriterCacheMiB));
  if (options.readerMapMiB < 0)
    throw Error(ErrorCode::InvalidInput, "sql", "open",
                fmt::format("the SQLite readers' map is {} MiB; give 0 (no map) or more", options.readerMapMiB));
  memory_ = options.path == ":memory:";
  if (memory_) {
    // memdb VFS: one in-memory database shared by this backend's connections (a name
    // starting with '/' is shared within the process); unique per backend instance.
    uri_ = fmt::format("file:/khive-{}?vfs=memdb", Uuid::v7().str());
    location_ = ":memory:";
  } else {
    uri_ = options.path;
    location_ = options.path;
    readOnlyReason_ = readOnlyReasonFor(options);
    // Without a -wal file no process has the database open and the file alone is all of it:
    // it is read as immutable, so reading creates no -shm or -wal file (which a directory may
    // not allow, and which, left behind by this user, would keep the owner from writing). A
    // writer that opens the file later is not seen by this open. With a -wal file (a writer is
    // at work) it is read through the writer's WAL index like any reader.
    std::error_code ec;
    if (!readOnlyReason_.empty() && !std::filesystem::exists(options.path + "-wal", ec))
      uri_ = immutableUri(options.path);
  }
  const bool readOnly = !readOnlyReason_.empty();

  writer_ = std::make_unique<Conn>(ConnOptions{uri_, readOnly, options.busyTimeout});
  // Before anything below writes (the journal mode is stored in the file's header).
  const bool hasLedger = checkKhiveFile(*writer_);
  // 16 KiB pages for a new file (an existing file keeps its own). Batch writes with random
  // keys touch most leaf pages of the edge table either way; with four times fewer, larger
  // pages a batch costs fewer B-tree levels, page fetches and WAL frames (edge batches ~45 %
  // faster on graph_bench), while point reads and walks measured the same as with 4 KiB.
  if (!readOnly) writer_->exec("PRAGMA page_size=16384;", kCap, "open");
  if (!memory_ && !readOnly) {
    auto stmt = writer_->prepare("PRAGMA journal_mode=WAL", kCap, "open");
    if (stmt.step() && stmt.getText(0) != "wal") {
      throw Error(ErrorCode::Driver, "sql", "open",
                  fmt::format("'{}' cannot use write-ahead logging (journal mode stays '{}'); put the "
                              "database on a local file system",
                              location_, stmt.getText(0)));
    }
  }
  // The writer reads through its page cache (SqliteOptions::writerCacheMiB), not mmap: mapped
  // pages of a large file count against the process (an import's peak memory). Checkpoints:
  // see onWalCommit.
  writer_->exec(fmt::format("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF; PRAGMA temp_store=MEMORY;"
                            "PRAGMA cache_size=-{}; PRAGMA mmap_size=0;",
                            std::int64_t{options.writerCacheMiB} * 1024),
                kCap, "open");
  if (!memory_ && !readOnly) {
    checkpointConn_ = std::make_unique<Conn>(ConnOptions{uri_, false, options.busyTimeout});
    checkpointConn_->exec("PRAGMA cache_size=-1024; PRAGMA mmap_size=0;", kCap, "open");
    sqlite3_wal_hook(writer_->db(), &Database::onWalCommit, this);
  }
  if (readOnly) {
    if (!hasLedger)
      throw Error(ErrorCode::InvalidInput, "sql", "open",
                  fmt::format("database '{}' is read-only ({}) and holds no khive schema yet; open it writable once "
                              "(khive --db {} init) to create one",
                              location_, readOnlyReason_, location_));
  }
  migrate();

  int readers = std::max(1, options.readers);
  for (int i = 0; i < readers; ++i) {
    auto conn = std::make_unique<Conn>(ConnOptions{uri_, !memory_, options.busyTimeout});
    conn->exec(fmt::format("PRAGMA query_only=1; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-16384; "
                           "PRAGMA mmap_size={};",
                           std::int64_t{options.readerMapMiB} << 20),
               kCap, "open");
    idleReaders_.push_back(std::move(conn));
  }
  // Last: a constructor that throws has no thread to stop.
  if (checkpointConn_) checkpointer_ = std::thread([this] { checkpointLoop(); });
}

Database::~Database() {
  stopCheckpointer();
  if (!memory_ && writer_ && readOnlyReason_.empty()) {
    // Leave the file small and the WAL checkpointed for the next opener.
    try {
      writer_->exec("PRAGMA optimize;", kCap, "close");
    } catch (const Error&) {
      // Closing proceeds: optimize is advisory and the data is already committed.
    }
  }
}

// Replaces SQLite's automatic checkpoint (every 1,000 frames, on the committing thread).
// A commit that leaves >= ~40 MiB (2,500 frames of 16 KiB) in the WAL wakes the checkpointer
// thread, which copies the WAL into the file on its own connection while the writer goes on
// (on two cores the copy and its fsyncs no longer stall the next batch). Once a pass has
// copied everything, new readers read the mapped file again instead of fetching pages from
// the WAL with a read() each, and the writer's next transaction restarts the WAL from its
// start. A writer that commits faster than the copies finish lets the WAL grow to ~640 MiB
// (40,000 frames); there it waits for the running pass and checkpoints itself, so the WAL
// stays bounded. Between those points a page that several batches changed is copied once.
// PASSIVE throughout: a checkpoint never waits for readers or blocks the writer's lock.
int Database::onWalCommit(void* self, sqlite3* db, const char* schema, int frames) {
  constexpr int kCapFrames = 40'000;
  auto* d = static_cast<Database*>(self);
  if (frames >= kCapFrames) {
    std::lock_guard run(d->checkpointRunMu_);
    sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  } else if (frames >= kBackgroundCheckpointFrames) {
    {
      std::lock_guard lock(d->checkpointMu_);
      d->checkpointWanted_ = true;
    }
    d->checkpointCv_.notify_one();
  }
  return SQLITE_OK;
}

void Database::checkpointLoop() {
  std::unique_lock lock(checkpointMu_);
  bool unfinished = false;
  for (;;) {
    // A pass that could not copy the whole WAL (a reader still on an older snapshot, or the
    // writer committing meanwhile) is tried again shortly, so the WAL of the last large
    // commit is copied even when no further commit comes.
    auto wanted = [&] { return checkpointWanted_ || checkpointStop_; };
    if (unfinished)
      checkpointCv_.wait_for(lock, std::chrono::milliseconds(100), wanted);
    else
      checkpointCv_.wait(lock, wanted);
    if (checkpointStop_) return;
    checkpointWanted_ = false;
    lock.unlock();
    int walFrames = 0, copied = 0;
    {
      std::lock_guard run(checkpointRunMu_);
      // Advisory: the data is safe in the WAL until a pass copies it.
      sqlite3_wal_checkpoint_v2(checkpointConn_->db(), "main", SQLITE_CHECKPOINT_PASSIVE, &walFrames, &copied);
    }
    unfinished = walFrames >= kBackgroundCheckpointFrames && copied < walFrames;
    lock.lock();
  }
}

void Database::stopCheckpointer() {
  if (!checkpointer_.joinable()) return;
  {
    std::lock_guard lock(checkpointMu_);
    checkpointStop_ = true;
  }
  checkpointCv_.notify_one();
  checkpointer_.join();
  checkpointConn_.reset();
}

bool Database::isSymmetric(std::string_view relation) const {
  return std::find(symmetric_.begin(), symmetric_.end(), relation) != symmetric_.end();
}

bool Database::checkKhiveFile(Conn& conn) {
  std::vector<std::string> tables;
  bool ledger = false;
  try {
    auto stmt = conn.prepare(
        "SELECT name FROM sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
        "ORDER BY name",
        kCap, "open");
    while (stmt.step()) {
      auto name = stmt.getText(0);
      if (name == "_schema_migrations")
        ledger = true;
      else
        tables.push_back(std::move(name));
    }
  } catch (const Error&) {
    if ((sqlite3_extended_errcode(conn.db()) & 0xFF) != SQLITE_NOTADB) throw;
    throw Error(ErrorCode::InvalidInput, "sql", "open",
                fmt::format("'{}' is not a khive database: it is not an SQLite database file; khive leaves it "
                            "untouched (give another --db path)",
                            location_));
  }
  if (!ledger && !tables.empty()) {
    constexpr std::size_t kShown = 8;
    std::string names;
    for (std::size_t i = 0; i < tables.size() && i < kShown; ++i) names += (i ? ", " : "") + tables[i];
    if (tables.size() > kShown) names += fmt::format(" and {} more", tables.size() - kShown);
    throw Error(ErrorCode::InvalidInput, "sql", "open",
                fmt::format("'{}' is not a khive database: it has table{} {} and no khive migration ledger; khive "
                            "leaves it untouched (give another --db path)",
                            location_, tables.size() == 1 ? "" : "s", names));
  }
  return ledger;
}

void Database::migrate() {
  const auto& all = migrations();
  const int latest = all.empty() ? 0 : all.back().version;
  if (!readOnlyReason_.empty()) {
    // Read-only: nothing is applied; a schema this build cannot read is refused.
    auto stmt = writer_->prepare("SELECT coalesce(max(version), 0) FROM _schema_migrations", kCap, "migrate");
    stmt.step();
    schemaVersion_ = static_cast<int>(stmt.getInt(0));
    if (schemaVersion_ > latest)
      throw Error(ErrorCode::Conflict, "sql", "migrate",
                  fmt::format("database '{}' has schema version {}, newer than this khive build knows ({}); "
                              "upgrade khive to open it",
                              location_, schemaVersion_, latest));
    if (schemaVersion_ < latest)
      throw Error(ErrorCode::Conflict, "sql", "migrate",
                  fmt::format("database '{}' is read-only ({}) and has schema version {}, older than this build "
                              "reads ({}); open it writable once (khive --db {} db migrate) to upgrade it",
                              location_, readOnlyReason_, schemaVersion_, latest, location_));
    return;
  }
  writer_->exec(
      "CREATE TABLE IF NOT EXISTS _schema_migrations ("
      " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
      kCap, "migrate");
  auto currentVersion = [&] {
    auto stmt = writer_->prepare("SELECT coalesce(max(version), 0) FROM _schema_migrations", kCap, "migrate");
    stmt.step();
    return static_cast<int>(stmt.getInt(0));
  };
  int current = currentVersion();
  if (current > latest) {
    throw Error(ErrorCode::Conflict, "sql", "migrate",
                fmt::format("database '{}' has schema version {}, newer than this khive build knows ({}); "
                            "upgrade khive to open it",
                            location_, current, latest));
  }
  for (const auto& m : all) {
    if (m.version <= current) continue;
    // BEGIN IMMEDIATE takes the write lock first, so two processes migrating at once apply
    // each migration exactly once: the second re-reads the ledger under the lock.
    writer_->exec("BEGIN IMMEDIATE", kCap, "migrate");
    try {
      if (currentVersion() < m.version) {
        writer_->exec(m.sql, kCap, "migrate");
        writer_->prepare("INSERT INTO _schema_migrations(version, name, applied_at) VALUES (?, ?, ?)", kCap,
                         "migrate")
            .bindInt(1, m.version)
            .bindText(2, m.name)
            .bindInt(3, now())
            .run();
      }
      writer_->exec("COMMIT", kCap, "migrate");
    } catch (...) {
      writer_->exec("ROLLBACK", kCap, "migrate");
      throw;
    }
  }
  schemaVersion_ = currentVersion();
}

Database::WriteLease Database::acquireWriter(std::string_view capability, std::string_view operation) {
  return acquireWriter(options_.checkoutTimeout, capability, operation);
}

Database::WriteLease Database::acquireWriter(std::chrono::milliseconds timeout, std::string_view capability,
                                             std::string_view operation) {
  if (!readOnlyReason_.empty())
    throw Error(
        ErrorCode::PermissionDenied, std::string(capability), std::string(operation),
        fmt::format("database '{}' is read-only ({}): writes are refused, reads work", location_, readOnlyReason_));
  const auto self = std::this_thread::get_id();
  if (writerOwner_.load() != self) {
    if (auto* unit = WorkUnit::current(*this)) unit->start(timeout, capability, operation);
  }
  if (writerOwner_.load() == self) {
    ++writerDepth_;
    return WriteLease(*this, true);
  }
  if (!writerMu_.try_lock_for(timeout)) {
    throw Error(ErrorCode::Timeout, std::string(capability), std::string(operation),
                fmt::format("the writer stayed busy for {} ms (another write transaction is open); retry",
                            timeout.count()));
  }
  writerOwner_.store(self);
  writerDepth_ = 1;
  return WriteLease(*this, false);
}

void Database::releaseWriter() {
  if (--writerDepth_ == 0) {
    writerOwner_.store(std::thread::id{});
    writerMu_.unlock();
  }
}

Database::WriteLease::~WriteLease() {
  if (db_) db_->releaseWriter();
}

Database::ReadLease Database::acquireReader(std::string_view capability, std::string_view operation) {
  if (writerOwner_.load() == std::this_thread::get_id()) return ReadLease(*this, nullptr);
  std::unique_lock lock(readersMu_);
  if (!readersCv_.wait_for(lock, options_.checkoutTimeout, [&] { return !idleReaders_.empty(); })) {
    throw Error(ErrorCode::Pool, std::string(capability), std::string(operation),
                fmt::format("no reader connection came free within {} ms; raise `readers` or retry",
                            options_.checkoutTimeout.count()));
  }
  auto conn = std::move(idleReaders_.back());
  idleReaders_.pop_back();
  conn->setBudget(readBudget_.get());
  return ReadLease(*this, std::move(conn));
}

void Database::setReadBudget(const storage::ReadBudget& budget) { readBudget_.set(budget); }

storage::ReadBudget Database::readBudget() const { return readBudget_.get(); }

Database::ReadLease::~ReadLease() {
  if (db_ && conn_) {
    conn_->setDeadline(std::nullopt);
    {
      std::lock_guard lock(db_->readersMu_);
      db_->idleReaders_.push_back(std::move(conn_));
    }
    db_->readersCv_.notify_one();
  }
}

WriteTx::WriteTx(Database& db, std::string_view capability, std::string_view operation)
    : db_(db), lease_(db.acquireWriter(capability, operation)), capability_(capability), operation_(operation) {
  start();
}

WriteTx::WriteTx(Database& db, std::chrono::milliseconds timeout, std::string_view capability,
                 std::string_view operation)
    : db_(db), lease_(db.acquireWriter(timeout, capability, operation)), capability_(capability),
      operation_(operation) {
  start();
}

void WriteTx::start() {
  if (lease_.nested()) {
    if (auto* unit = WorkUnit::current(db_); unit && unit->begun()) {
      joined_ = unit;
      open_ = true;
      return;
    }
    static std::atomic<std::uint64_t> counter{0};
    savepoint_ = fmt::format("khive_sp_{}", counter.fetch_add(1));
    conn().exec("SAVEPOINT " + savepoint_, capability_, operation_);
  } else {
    conn().exec("BEGIN IMMEDIATE", capability_, operation_);
  }
  open_ = true;
}

void WriteTx::commit() {
  if (!open_) {
    throw Error(ErrorCode::Transaction, std::string(capability_), std::string(operation_),
                "the transaction is no longer open (already committed or rolled back)");
  }
  if (joined_) {
    open_ = false;
    return;
  }
  conn().exec(savepoint_.empty() ? std::string("COMMIT") : "RELEASE " + savepoint_, capability_, operation_);
  open_ = false;
}

void WriteTx::rollback() {
  if (!open_) return;
  open_ = false;
  if (joined_) {
    joined_->markFailed(capability_, operation_);
  } else if (savepoint_.empty()) {
    conn().exec("ROLLBACK", capability_, operation_);
  } else {
    conn().exec("ROLLBACK TO " + savepoint_ + "; RELEASE " + savepoint_, capability_, operation_);
  }
}

WriteTx::~WriteTx() {
  if (!open_) return;
  try {
    rollback();
  } catch (const Error&) {
    // A failed ROLLBACK leaves SQLite to roll back itself when the connection next begins;
    // there is nothing more a destructor can do, and throwing here would terminate.
    conn().setDeadline(std::nullopt);
  }
}

void WorkUnit::start(std::chrono::milliseconds timeout, std::string_view capability, std::string_view operation) {
  if (tx_ || starting_ || !isOpen()) return;
  starting_ = true;
  try {
    tx_ = std::make_unique<WriteTx>(db_, timeout, capability, operation);
  } catch (...) {
    starting_ = false;
    throw;
  }
  starting_ = false;
}

void WorkUnit::markFailed(std::string_view capability, std::string_view operation) {
  if (failed_.empty()) failed_ = fmt::format("{} {}", capability, operation);
}

void WorkUnit::commit() {
  requireOpen();
  if (!failed_.empty()) {
    rollback();
    throw Error(ErrorCode::Transaction, "unit", "commit",
                fmt::format("a write of the unit of work failed ({}), so the unit was rolled back; nothing was written",
                            failed_));
  }
  if (tx_) {
    try {
      tx_->commit();
    } catch (...) {
      tx_.reset();  // rolls back
      close();
      throw;
    }
    tx_.reset();
  }
  close();
}

void WorkUnit::rollback() {
  tx_.reset();  // rolls back an open transaction
  close();
}

WorkUnit::~WorkUnit() { rollback(); }

}  // namespace khive::sqlite
