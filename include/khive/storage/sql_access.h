#pragma once
// SqlAccess: raw SQL against the backend's engine, with typed parameters and RAII handles.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "khive/core/clock.h"
#include "khive/core/json.h"
#include "khive/core/uuid.h"

namespace khive::storage {

using Blob = std::vector<std::uint8_t>;
struct Timestamp {
  Micros micros = 0;
  bool operator==(const Timestamp&) const = default;
};
struct JsonParam {
  Json value;
  bool operator==(const JsonParam&) const = default;
};

// A typed statement parameter or result value. Results come back as the engine's storage
// types: null, int64, double, text or blob (SQLite) and additionally bool (PostgreSQL).
using SqlValue = std::variant<std::monostate, bool, std::int64_t, double, std::string, Blob, JsonParam,
                              Uuid, Timestamp>;
using SqlRow = std::vector<SqlValue>;
using SqlParams = std::vector<SqlValue>;

struct SqlRows {
  std::vector<std::string> columns;
  std::vector<SqlRow> rows;
};

bool isNull(const SqlValue& v) noexcept;
// Conversions that throw Error(InvalidInput) on a value of another type.
std::int64_t asInt(const SqlValue& v);
double asDouble(const SqlValue& v);  // accepts int too
std::string asText(const SqlValue& v);
std::optional<std::string> asOptText(const SqlValue& v);
std::optional<std::int64_t> asOptInt(const SqlValue& v);
// A value rendered for display (text as is, null as "NULL", blobs as x'..').
std::string displayValue(const SqlValue& v);

// A handle on one connection: a pooled reader, the writer, or an open transaction.
// Single-threaded: use a handle from one thread at a time. Every call runs exactly one
// statement; a second statement in the text is InvalidInput.
class SqlConnection {
 public:
  virtual ~SqlConnection() = default;
  SqlConnection() = default;
  SqlConnection(const SqlConnection&) = delete;
  SqlConnection& operator=(const SqlConnection&) = delete;

  virtual SqlRows query(std::string_view sql, const SqlParams& params = {}) = 0;
  // The first row, or nullopt when there is none.
  virtual std::optional<SqlRow> queryRow(std::string_view sql, const SqlParams& params = {}) = 0;
  // The first column of the first row; null when there is no row.
  virtual SqlValue queryScalar(std::string_view sql, const SqlParams& params = {}) = 0;
  // Runs a statement; returns the number of rows it changed.
  virtual std::int64_t execute(std::string_view sql, const SqlParams& params = {}) = 0;
  // Runs one statement once per parameter row; returns the total rows changed.
  virtual std::int64_t executeBatch(std::string_view sql, const std::vector<SqlParams>& rows) = 0;
  // The engine's query plan for a statement, one line per plan step.
  virtual std::string explain(std::string_view sql, const SqlParams& params = {}) = 0;
};

// An open transaction. Commits only on commit(); destroyed uncommitted, it rolls back.
class SqlTransaction : public SqlConnection {
 public:
  virtual void commit() = 0;
  virtual void rollback() = 0;
};

// The bound on the work of one read statement (a query, one statement of a walk or a search),
// enforced inside the engine while the statement runs: SQLite through its progress handler,
// PostgreSQL through statement_timeout. Past `time` the statement fails with Error(Timeout);
// past `work` with Error(InvalidInput). Both messages name the [limits] key that raises the
// budget. Zero means unbounded. Reads made through the writer or inside a write transaction
// are not bounded (a write must not fail half-way for a read budget).
struct ReadBudget {
  std::chrono::milliseconds time{0};
  // Engine steps, in thousands. SQLite counts virtual-machine instructions (its progress
  // handler runs every thousand); PostgreSQL has no such counter a non-superuser can bound,
  // so there the time budget alone bounds a statement (walks still count their rows:
  // TraverseRequest::maxWork).
  std::int64_t work = 0;
  bool operator==(const ReadBudget&) const = default;
};

// The errors of an exceeded read budget, worded the same on every engine: Error(Timeout) for
// the time budget and Error(InvalidInput) for the work budget, each naming the budget, how to
// narrow the request and the [limits] key that raises it.
[[noreturn]] void throwTimeBudgetExceeded(std::chrono::milliseconds budget, std::string_view capability,
                                          std::string_view operation);
[[noreturn]] void throwWorkBudgetExceeded(std::int64_t budget, std::string_view capability, std::string_view operation);

struct TxOptions {
  bool readOnly = false;
  // How long to wait for the writer before failing with Timeout.
  std::chrono::milliseconds timeout{5000};
};

// Thread-safe: every method may be called from any thread.
class SqlAccess {
 public:
  virtual ~SqlAccess() = default;
  // A read-only connection from the pool (Pool error when none frees up in time).
  virtual std::unique_ptr<SqlConnection> reader() = 0;
  // The writer connection in autocommit mode; held exclusively until the handle dies.
  virtual std::unique_ptr<SqlConnection> writer() = 0;
  // A transaction (on the writer unless readOnly).
  virtual std::unique_ptr<SqlTransaction> begin(const TxOptions& options = {}) = 0;
};

}  // namespace khive::storage
