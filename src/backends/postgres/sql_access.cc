#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <optional>

#include "backends/postgres/stores.h"

namespace khive::postgres {

namespace {
constexpr std::string_view kCap = "sql";

// Raw SQL runs as the application role under row-level security. The policies are the wall:
// they trust only a scope token signed with a key this role cannot read (scope_token.h), so
// a statement that sets khive.scope itself, however spelt (quoted names, a DO block, dynamic
// SQL), grants nothing. This check only turns the obvious attempts to change the session
// state (the token, the role, the session user) into a clear error instead.
void checkStatement(std::string_view sql, std::string_view op) {
  std::string lower(sql);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  // Collapse whitespace runs so "set   role" is caught too.
  std::string flat;
  for (char c : lower) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!flat.empty() && flat.back() != ' ') flat += ' ';
    } else {
      flat += c;
    }
  }
  for (std::string_view bad : {"khive.scope", "khive.namespaces", "set_config", "set role", "reset role",
                               "session authorization", "reset all", "set session", "set local role", "discard all",
                               "discard plans"}) {
    if (flat.find(bad) != std::string::npos) {
      throw Error(ErrorCode::InvalidInput, std::string(kCap), std::string(op),
                  fmt::format("'{}' changes the session state row-level security depends on; the backend sets "
                              "the role and granted namespaces itself",
                              bad));
    }
  }
}

// Every raw statement goes through here. It may change session settings the pool relies on
// (search_path, default_transaction_read_only, or the token by dynamic SQL), so the connection
// forgets what the pool set and the next checkout sets it all again.
void checkStatement(Conn& c, std::string_view sql, std::string_view op) {
  c.forgetSessionState();
  checkStatement(sql, op);
}

// Reads run as prepared statements, cached per connection by text and parameter types: a
// compiled pattern query is planned once per connection (its plan then comes from the plan
// cache), not on every call. Writes and EXPLAIN run unprepared.
struct ConnOps {
  static Params bindAll(const storage::SqlParams& params) {
    Params p;
    for (const auto& v : params) p.value(v);
    return p;
  }
  static storage::SqlRows query(Conn& c, std::string_view sql, const storage::SqlParams& params) {
    checkStatement(c, sql, "query");
    auto r = c.exec(sql, bindAll(params), kCap, "query");
    storage::SqlRows out;
    for (int j = 0; j < r.cols(); ++j) out.columns.push_back(r.columnName(j));
    for (int i = 0; i < r.rows(); ++i) {
      storage::SqlRow row;
      row.reserve(static_cast<std::size_t>(r.cols()));
      for (int j = 0; j < r.cols(); ++j) row.push_back(r.value(i, j));
      out.rows.push_back(std::move(row));
    }
    return out;
  }
  static std::optional<storage::SqlRow> queryRow(Conn& c, std::string_view sql, const storage::SqlParams& params) {
    checkStatement(c, sql, "query_row");
    auto r = c.exec(sql, bindAll(params), kCap, "query_row");
    if (r.rows() == 0) return std::nullopt;
    storage::SqlRow row;
    for (int j = 0; j < r.cols(); ++j) row.push_back(r.value(0, j));
    return row;
  }
  static storage::SqlValue queryScalar(Conn& c, std::string_view sql, const storage::SqlParams& params) {
    checkStatement(c, sql, "query_scalar");
    auto r = c.exec(sql, bindAll(params), kCap, "query_scalar");
    if (r.rows() == 0 || r.cols() == 0) return std::monostate{};
    return r.value(0, 0);
  }
  static std::int64_t execute(Conn& c, std::string_view sql, const storage::SqlParams& params) {
    checkStatement(c, sql, "execute");
    return c.execOnce(sql, bindAll(params), kCap, "execute").affected();
  }
  static std::int64_t executeBatch(Conn& c, std::string_view sql, const std::vector<storage::SqlParams>& rows) {
    checkStatement(c, sql, "execute_batch");
    if (rows.empty()) return 0;
    std::vector<Params> bound;
    bound.reserve(rows.size());
    for (const auto& r : rows) bound.push_back(bindAll(r));
    // Pipelined: one round trip for the batch. Outside a transaction the pipeline's implicit
    // transaction makes the batch atomic (all rows or, on an error, none).
    std::int64_t total = 0;
    for (auto n : c.execPipeline(sql, bound, kCap, "execute_batch")) total += n;
    return total;
  }
  static std::string explain(Conn& c, std::string_view sql, const storage::SqlParams& params) {
    checkStatement(c, sql, "explain");
    auto r = c.execOnce("EXPLAIN " + std::string(sql), bindAll(params), kCap, "explain");
    std::string out;
    for (int i = 0; i < r.rows(); ++i) out += r.str(i, 0) + "\n";
    return out;
  }
};

template <class Base>
class ConnHandle : public Base {
 public:
  storage::SqlRows query(std::string_view sql, const storage::SqlParams& p) override {
    return with([&](Conn& c) { return ConnOps::query(c, sql, p); });
  }
  std::optional<storage::SqlRow> queryRow(std::string_view sql, const storage::SqlParams& p) override {
    return with([&](Conn& c) { return ConnOps::queryRow(c, sql, p); });
  }
  storage::SqlValue queryScalar(std::string_view sql, const storage::SqlParams& p) override {
    return with([&](Conn& c) { return ConnOps::queryScalar(c, sql, p); });
  }
  std::int64_t execute(std::string_view sql, const storage::SqlParams& p) override {
    return with([&](Conn& c) { return ConnOps::execute(c, sql, p); });
  }
  std::int64_t executeBatch(std::string_view sql, const std::vector<storage::SqlParams>& rows) override {
    return with([&](Conn& c) { return ConnOps::executeBatch(c, sql, rows); });
  }
  std::string explain(std::string_view sql, const storage::SqlParams& p) override {
    return with([&](Conn& c) { return ConnOps::explain(c, sql, p); });
  }

 protected:
  // Runs fn on this handle's connection.
  virtual void run(const std::function<void(Conn&)>& fn) = 0;

 private:
  template <class F>
  auto with(F&& fn) -> decltype(fn(std::declval<Conn&>())) {
    std::optional<decltype(fn(std::declval<Conn&>()))> out;
    run([&](Conn& c) { out.emplace(fn(c)); });
    return std::move(*out);
  }
};

// Autocommit statements (read-only for readers). On a server with real sessions the handle
// keeps one pooled connection for its lifetime. On a shared-session server (PGlite: a pool of
// one) it checks a connection out per statement instead, so a caller holding a reader or
// writer handle while using the stores does not wait on itself. Single-threaded.
class LeaseHandle final : public ConnHandle<storage::SqlConnection> {
 public:
  LeaseHandle(Database& db, std::string_view operation, bool readOnly)
      : db_(db), operation_(operation), readOnly_(readOnly) {
    if (!db_.sharedSession()) lease_.emplace(db_.acquire(kCap, operation_, readOnly_));
  }

 protected:
  void run(const std::function<void(Conn&)>& fn) override {
    if (lease_) {
      fn(lease_->conn());
      return;
    }
    auto lease = db_.acquire(kCap, operation_, readOnly_);
    fn(lease.conn());
  }

 private:
  Database& db_;
  std::string operation_;
  bool readOnly_;
  std::optional<Lease> lease_;
};

// A transaction on a pooled connection; rolls back when destroyed uncommitted.
// Single-threaded.
class TxHandle final : public ConnHandle<storage::SqlTransaction> {
 public:
  TxHandle(Lease lease, const storage::TxOptions& o) : lease_(std::move(lease)), tx_(lease_.conn(), kCap, "begin", false, o.readOnly) {
    // PostgreSQL has no single writer to wait for; the wait that matters is on row locks,
    // so the timeout bounds that (SQLSTATE 55P03 -> Timeout).
    lease_.conn().exec("SELECT set_config('lock_timeout', $1, true)",
                       Params().text(std::to_string(o.timeout.count())), kCap, "begin");
  }
  // The connection goes back to the pool as soon as the transaction ends, not when the
  // handle is destroyed: with a pool of one (a shared-session server) a caller that keeps
  // the committed handle around must not starve everyone else.
  void commit() override {
    lease_.conn();  // Error(Transaction) when already handed back
    tx_.commit();
    lease_.release();
  }
  void rollback() override {
    if (!tx_.open()) return;
    tx_.rollback();
    lease_.release();
  }

 protected:
  void run(const std::function<void(Conn&)>& fn) override { fn(lease_.conn()); }

 private:
  Lease lease_;
  Tx tx_;
};
}  // namespace

std::unique_ptr<storage::SqlConnection> PgSqlAccess::reader() {
  return std::make_unique<LeaseHandle>(db_, "reader", true);
}

std::unique_ptr<storage::SqlConnection> PgSqlAccess::writer() {
  return std::make_unique<LeaseHandle>(db_, "writer", false);
}

std::unique_ptr<storage::SqlTransaction> PgSqlAccess::begin(const storage::TxOptions& options) {
  return std::make_unique<TxHandle>(db_.acquire(kCap, "begin", options.readOnly), options);
}

}  // namespace khive::postgres
