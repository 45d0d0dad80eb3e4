#pragma once
// A small RAII layer over libpq: results, parameters, one connection with a prepared
// statement cache and pipelined batches. Nothing here knows about khive's tables.

#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "khive/core/error.h"
#include "khive/core/json.h"
#include "khive/core/uuid.h"
#include "khive/storage/sql_access.h"

namespace khive::postgres {

// Type OIDs of the built-in types khive binds and reads (pg_type.dat; stable across versions).
inline constexpr Oid kOidBool = 16, kOidBytea = 17, kOidInt8 = 20, kOidInt2 = 21, kOidInt4 = 23, kOidText = 25,
                     kOidOid = 26, kOidFloat4 = 700, kOidFloat8 = 701, kOidNumeric = 1700, kOidUuid = 2950,
                     kOidJsonb = 3802, kOidJson = 114;

struct ResultDeleter {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

// One statement's result, text format. Thread-compatible; move-only.
class Result {
 public:
  Result() = default;
  explicit Result(ResultPtr r) : r_(std::move(r)) {}
  const PGresult* raw() const noexcept { return r_.get(); }

  int rows() const noexcept { return r_ ? PQntuples(r_.get()) : 0; }
  int cols() const noexcept { return r_ ? PQnfields(r_.get()) : 0; }
  bool isNull(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  std::string_view view(int row, int col) const {
    return {PQgetvalue(r_.get(), row, col), static_cast<std::size_t>(PQgetlength(r_.get(), row, col))};
  }
  std::string str(int row, int col) const { return std::string(view(row, col)); }
  std::optional<std::string> optStr(int row, int col) const;
  std::int64_t getInt(int row, int col) const;
  std::optional<std::int64_t> optInt(int row, int col) const;
  double getDouble(int row, int col) const;
  std::optional<double> optDouble(int row, int col) const;
  bool getBool(int row, int col) const { return view(row, col) == "t"; }
  Uuid getUuid(int row, int col) const { return Uuid::parse(view(row, col)); }
  std::optional<Uuid> optUuid(int row, int col) const;
  Json getJson(int row, int col) const { return Json::parse(view(row, col)); }
  // Rows changed by an INSERT/UPDATE/DELETE (PQcmdTuples).
  std::int64_t affected() const;
  std::string columnName(int col) const { return PQfname(r_.get(), col); }
  // A column converted by its type: bool, integers, floats, bytea, text for everything else.
  storage::SqlValue value(int row, int col) const;

 private:
  ResultPtr r_;
};

// Row `row` of a result as storage's record decoders read it (khive/storage/record_codec.h).
struct ResultRow {
  const Result& result;
  int row;
  bool isNull(int col) const { return result.isNull(row, col); }
  std::string_view getTextView(int col) const { return result.view(row, col); }
  std::int64_t getInt(int col) const { return result.getInt(row, col); }
  double getDouble(int col) const { return result.getDouble(row, col); }
};

// Statement parameters. Values travel as text (the server parses them by the statement's
// types) except bytea, which goes binary so blobs need no escaping. Thread-compatible.
class Params {
 public:
  Params& null(Oid type = 0);
  Params& text(std::string_view s, Oid type = 0);
  Params& optText(const std::optional<std::string>& s) { return s ? text(*s) : null(); }
  Params& integer(std::int64_t v) { return text(std::to_string(v), kOidInt8); }
  Params& optInteger(std::optional<std::int64_t> v) { return v ? integer(*v) : null(kOidInt8); }
  Params& real(double v);
  Params& optReal(std::optional<double> v) { return v ? real(*v) : null(kOidFloat8); }
  Params& boolean(bool v) { return text(v ? "true" : "false", kOidBool); }
  Params& uuid(const Uuid& u) { return text(u.str(), kOidUuid); }
  Params& optUuid(const std::optional<Uuid>& u) { return u ? uuid(*u) : null(kOidUuid); }
  Params& json(const Json& j) { return text(j.dump(), kOidJsonb); }
  Params& bytes(std::span<const std::uint8_t> b);
  // A PostgreSQL array literal ("{"a","b"}") of the strings; cast it in SQL ($n::text[]).
  Params& textArray(std::span<const std::string> values);
  Params& uuidArray(std::span<const Uuid> values);
  // A SqlAccess value, with the type it carries.
  Params& value(const storage::SqlValue& v);
  // One array literal per parameter position of `rows` (which all have the same shape, text
  // format): parameter k is the array of every row's k-th value, NULLs kept. Cast each in SQL
  // ($k::uuid[]).
  static Params columns(std::span<const Params* const> rows);
  // Whether every value travels as text (columns() cannot carry binary values).
  bool allText() const noexcept;
  const std::optional<std::string>& at(std::size_t i) const { return values_.at(i); }

  std::size_t size() const noexcept { return values_.size(); }
  // libpq's parallel arrays; valid until the next change.
  void view(std::vector<const char*>& values, std::vector<int>& lengths) const;
  const Oid* types() const noexcept { return types_.data(); }
  const int* formats() const noexcept { return formats_.data(); }

 private:
  std::vector<std::optional<std::string>> values_;
  std::vector<Oid> types_;
  std::vector<int> formats_;
};

// SQLSTATE -> khive error code, with the server's message (and detail/hint when present).
[[noreturn]] void throwResult(const PGresult* r, PGconn* conn, std::string_view capability, std::string_view operation);
bool isConnectionLost(PGconn* conn) noexcept;

struct ConnDeleter {
  void operator()(PGconn* c) const noexcept { PQfinish(c); }
};

// The multi-row form of a single-row write statement, which Database::writeStatement runs
// once for the rows of concurrent callers. `sql` takes one array per parameter of the
// single-row form, in the same order and cast to the element type
// (`... SELECT * FROM unnest($1::uuid[], $2::text[], ...) ...`), and returns first the
// values of `keyParams` (as text equal to the bound values), then the columns the
// single-row form returns. A row it does not return is a row the single-row form would not
// have returned either (an upsert's WHERE refused it). Two rows with the same key must make
// it fail (ON CONFLICT DO UPDATE affecting a row twice, or a unique violation).
struct MergedForm {
  std::string sql;
  std::vector<int> keyParams;
  // The form of `single`, an `INSERT INTO t (columns) VALUES ($1, ..., $n) [ON CONFLICT ...]
  // [RETURNING ...]` statement: its VALUES become `SELECT * FROM unnest($1::type1[], ...)`
  // (`types`: the element type of each parameter), and the columns that receive the
  // `keyParams` are returned first. Throws std::logic_error for any other shape.
  static MergedForm of(std::string_view single, std::initializer_list<std::string_view> types,
                       std::vector<int> keyParams);
};

// From a merged statement's result: the row whose leading key columns match `key` (as a
// one-row result of the columns after the key), or an empty result of those columns.
Result projectRow(const Result& merged, std::span<const std::string_view> key);

// One statement of Conn::execTransaction: its SQL and its parameters (not owned).
struct Statement {
  std::string_view sql;
  const Params* params;
};

// One server connection. Single-threaded: one user at a time (the pool hands it out).
class Conn {
 public:
  // Connects with a libpq connection string/URI; Error(Driver) when that fails.
  static std::unique_ptr<Conn> connect(const std::string& url, std::string_view capability);
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  // Runs one statement through the prepared statement cache (prepared once per connection,
  // then only its parameters travel). Throws khive::Error on failure.
  Result exec(std::string_view sql, const Params& params, std::string_view capability, std::string_view operation);
  // Runs one statement unprepared (extended protocol, unnamed statement): for SQL text that
  // is not worth caching, such as a caller's raw SQL.
  Result execOnce(std::string_view sql, const Params& params, std::string_view capability,
                  std::string_view operation);
  // Runs a script of several statements (simple protocol; no parameters): migrations.
  void execScript(std::string_view sql, std::string_view capability, std::string_view operation);
  // Pipeline mode: sends every parameter row of one statement before reading any result,
  // so a batch costs one round trip. Must run inside a transaction the caller opened; the
  // first failing row's error is thrown after the pipeline is drained (and the transaction
  // is then aborted). Returns the rows changed per parameter row.
  std::vector<std::int64_t> execPipeline(std::string_view sql, std::span<const Params> rows,
                                         std::string_view capability, std::string_view operation);
  // Runs the statements as one transaction in one round trip: BEGIN, each statement, COMMIT
  // and a single sync go out in pipeline mode before any result is read (a lone statement
  // goes without BEGIN and COMMIT: it is a transaction by itself). With `implicit`, BEGIN and
  // COMMIT are left out: the statements before the sync share the server's implicit
  // transaction, which the sync commits (for statements that need no transaction block, such
  // as a set_config(..., true) and a read; each still runs under its own statement_timeout).
  // Must be called outside a transaction. Returns each statement's result once the commit
  // succeeded. On failure throws the first error; the transaction is then rolled back and the
  // connection, if still up, idle again.
  std::vector<Result> execTransaction(std::span<const Statement> statements, std::string_view capability,
                                      std::string_view operation, bool implicit = false);
  // COPY ... FROM STDIN with text-format lines already escaped by the caller. Throws
  // Error(Unsupported) when the server refuses COPY from a client (PGlite does).
  std::int64_t copyIn(std::string_view copySql, std::string_view data, std::string_view capability,
                      std::string_view operation);

  PGconn* raw() noexcept { return conn_.get(); }
  bool ok() const noexcept { return PQstatus(conn_.get()) == CONNECTION_OK; }
  // PQTRANS_IDLE when no transaction is open.
  PGTransactionStatusType txStatus() const noexcept { return PQtransactionStatus(conn_.get()); }
  int serverVersion() const noexcept { return PQserverVersion(conn_.get()); }
  std::chrono::steady_clock::time_point lastUsed() const noexcept { return lastUsed_; }
  // The signed khive.scope value of this server session (scope_token.h), made when the pool
  // opened the connection; the pool sets it on checkout when the session does not already
  // carry it (sessionReadOnly()).
  const std::string& scopeToken() const noexcept { return scopeToken_; }
  void setScopeToken(std::string token) { scopeToken_ = std::move(token); }
  // What the pool last set on this server session at checkout: the scope token, role and
  // search_path, with default_transaction_read_only as the value held. Empty when unknown
  // (never set, reset on return, or a caller's raw SQL ran and may have changed it); the pool
  // then sets everything again on the next checkout.
  const std::optional<bool>& sessionReadOnly() const noexcept { return sessionReadOnly_; }
  void setSessionReadOnly(std::optional<bool> readOnly) noexcept { sessionReadOnly_ = readOnly; }
  void forgetSessionState() noexcept { sessionReadOnly_.reset(); }
  // The statement_timeout (ms) the pool set with the rest of the session state; meaningful
  // only while sessionReadOnly() is set.
  std::int64_t sessionTimeoutMs() const noexcept { return sessionTimeoutMs_; }
  void setSessionTimeoutMs(std::int64_t ms) noexcept { sessionTimeoutMs_ = ms; }

 private:
  explicit Conn(PGconn* c) : conn_(c) {}
  const std::string& prepared(std::string_view sql, const Params& params, std::string_view capability,
                              std::string_view operation);

  std::unique_ptr<PGconn, ConnDeleter> conn_;
  std::unordered_map<std::string, std::string> statements_;  // SQL text -> prepared name
  std::chrono::steady_clock::time_point lastUsed_ = std::chrono::steady_clock::now();
  std::string scopeToken_;
  std::optional<bool> sessionReadOnly_;
  std::int64_t sessionTimeoutMs_ = 0;
};

// Quotes an identifier for SQL text ("my schema" -> "\"my schema\"").
std::string quoteIdent(std::string_view name);
// Quotes a string literal for SQL text ('O''Reilly'): only for DDL, which takes no parameters.
std::string quoteLiteral(std::string_view s);

}  // namespace khive::postgres
