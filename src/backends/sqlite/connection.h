#pragma once
// RAII owners for sqlite3 handles, a per-connection statement cache, and the mapping from
// SQLite result codes to khive::Error.

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "khive/core/error.h"
#include "khive/storage/sql_access.h"

namespace khive::sqlite {

struct DbCloser {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// Throws the khive::Error for a failed SQLite call: BUSY/LOCKED/INTERRUPT -> Timeout,
// PRIMARY KEY/UNIQUE -> AlreadyExists, other constraints -> InvalidInput, SQL errors ->
// InvalidInput, anything else -> Driver.
[[noreturn]] void throwSqlite(sqlite3* db, int rc, std::string_view capability, std::string_view operation);

// A prepared statement borrowed from a connection's cache. Resets and clears its bindings
// when it goes out of scope so the cached statement is ready for the next use.
// Single-threaded.
class Conn;
class Stmt {
 public:
  // `owned` is set when the statement is not cached: the Stmt then finalizes it. `conn`, when
  // given, explains an interrupted step (which budget stopped it).
  Stmt(sqlite3* db, sqlite3_stmt* stmt, std::string_view capability, std::string_view operation,
       StmtPtr owned = nullptr, const Conn* conn = nullptr)
      : db_(db), stmt_(stmt), capability_(capability), operation_(operation), owned_(std::move(owned)), conn_(conn) {}
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  // 1-based bind index, as in SQLite.
  Stmt& bind(int index, const storage::SqlValue& value);
  Stmt& bindAll(const storage::SqlParams& params);
  Stmt& bindText(int index, std::string_view text);
  Stmt& bindInt(int index, std::int64_t v);
  Stmt& bindDouble(int index, double v);
  Stmt& bindNull(int index);
  Stmt& bindOptText(int index, const std::optional<std::string>& v);
  Stmt& bindOptInt(int index, const std::optional<std::int64_t>& v);
  Stmt& bindOptDouble(int index, const std::optional<double>& v);

  // Advances; true while a row is available. Throws on error.
  bool step();
  // Runs to completion; returns sqlite3_changes.
  std::int64_t run();
  void reset();

  int columnCount() const { return sqlite3_column_count(stmt_); }
  bool isNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::int64_t getInt(int col) const { return sqlite3_column_int64(stmt_, col); }
  double getDouble(int col) const { return sqlite3_column_double(stmt_, col); }
  std::string getText(int col) const;
  std::string_view getTextView(int col) const;
  std::optional<std::string> getOptText(int col) const;
  std::optional<std::int64_t> getOptInt(int col) const;
  std::optional<double> getOptDouble(int col) const;
  storage::SqlValue getValue(int col) const;
  sqlite3_stmt* raw() const { return stmt_; }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  std::string_view capability_;
  std::string_view operation_;
  StmtPtr owned_;
  const Conn* conn_;
};

struct ConnOptions {
  std::string path;  // a file path or an SQLite URI ("file:...")
  bool readOnly = false;
  std::chrono::milliseconds busyTimeout{5000};
};

// One sqlite3 connection with a bounded statement cache. Single-threaded: the pool hands it
// to one thread at a time.
class Conn {
 public:
  explicit Conn(const ConnOptions& options);
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  sqlite3* db() const { return db_.get(); }
  // A cached prepared statement for exactly one SQL statement (a second is InvalidInput).
  Stmt prepare(std::string_view sql, std::string_view capability, std::string_view operation);
  // Runs SQL text that may hold several statements (schema scripts, pragmas). No parameters.
  void exec(std::string_view sql, std::string_view capability, std::string_view operation);
  // Registers a virtual-table module on this connection; later calls with the same name do
  // nothing. The module must outlive the connection.
  void registerModule(const char* name, const sqlite3_module* module, std::string_view capability,
                      std::string_view operation);
  // Aborts statements running past the deadline with SQLITE_INTERRUPT (reported as Timeout).
  void setDeadline(std::optional<std::chrono::steady_clock::time_point> deadline);
  bool deadlinePassed() const;
  // The budget of every statement prepared from now on (storage::ReadBudget): prepare() arms
  // it, and the progress handler interrupts a statement past its time or work. An empty
  // budget turns it off.
  void setBudget(const storage::ReadBudget& budget);
  // Throws the error for a statement the progress handler interrupted: the exceeded budget's
  // (throwTimeBudgetExceeded / throwWorkBudgetExceeded) or, for the deadline, Timeout.
  [[noreturn]] void throwInterrupted(int rc, std::string_view capability, std::string_view operation) const;

 private:
  static int progressCallback(void* self);
  void armBudget();

  DbPtr db_;
  // Looked up by the caller's string_view: a cache hit allocates nothing.
  struct TextHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, StmtPtr, TextHash, std::equal_to<>> cache_;
  std::optional<std::chrono::steady_clock::time_point> deadline_;
  // The statement budget (setBudget), the running statement's end under it and its progress
  // handler calls so far (each one a thousand virtual-machine instructions), and which limit
  // stopped it.
  storage::ReadBudget budget_;
  std::optional<std::chrono::steady_clock::time_point> budgetEnd_;
  std::int64_t ticks_ = 0;
  enum class Stop { None, Deadline, Time, Work };
  Stop stop_ = Stop::None;
  std::vector<std::string> modules_;  // registered by registerModule
};

}  // namespace khive::sqlite
