#include <fmt/format.h>

#include "backends/sqlite/stores.h"

namespace khive::sqlite {

namespace {
constexpr std::string_view kCap = "sql";

// The statements of SqlConnection over one Conn. Single-threaded, like the handle it backs.
class ConnOps {
 public:
  static storage::SqlRows query(Conn& conn, std::string_view sql, const storage::SqlParams& params) {
    auto stmt = conn.prepare(sql, kCap, "query");
    stmt.bindAll(params);
    storage::SqlRows out;
    const int n = stmt.columnCount();
    for (int i = 0; i < n; ++i) out.columns.emplace_back(sqlite3_column_name(stmt.raw(), i));
    while (stmt.step()) {
      storage::SqlRow row;
      row.reserve(static_cast<std::size_t>(n));
      for (int i = 0; i < n; ++i) row.push_back(stmt.getValue(i));
      out.rows.push_back(std::move(row));
    }
    return out;
  }
  static std::optional<storage::SqlRow> queryRow(Conn& conn, std::string_view sql, const storage::SqlParams& params) {
    auto stmt = conn.prepare(sql, kCap, "query_row");
    stmt.bindAll(params);
    if (!stmt.step()) return std::nullopt;
    storage::SqlRow row;
    for (int i = 0; i < stmt.columnCount(); ++i) row.push_back(stmt.getValue(i));
    return row;
  }
  static storage::SqlValue queryScalar(Conn& conn, std::string_view sql, const storage::SqlParams& params) {
    auto stmt = conn.prepare(sql, kCap, "query_scalar");
    stmt.bindAll(params);
    if (!stmt.step() || stmt.columnCount() == 0) return std::monostate{};
    return stmt.getValue(0);
  }
  static std::int64_t execute(Conn& conn, std::string_view sql, const storage::SqlParams& params) {
    auto stmt = conn.prepare(sql, kCap, "execute");
    stmt.bindAll(params);
    return stmt.run();
  }
  static std::int64_t executeBatch(Conn& conn, std::string_view sql, const std::vector<storage::SqlParams>& rows) {
    std::int64_t total = 0;
    for (const auto& params : rows) {
      auto stmt = conn.prepare(sql, kCap, "execute_batch");
      stmt.bindAll(params);
      total += stmt.run();
    }
    return total;
  }
  static std::string explain(Conn& conn, std::string_view sql, const storage::SqlParams& params) {
    auto stmt = conn.prepare("EXPLAIN QUERY PLAN " + std::string(sql), kCap, "explain");
    stmt.bindAll(params);
    std::string out;
    std::map<std::int64_t, int> depth;  // plan node id -> indentation
    while (stmt.step()) {
      const int d = depth.contains(stmt.getInt(1)) ? depth[stmt.getInt(1)] + 1 : 0;
      depth[stmt.getInt(0)] = d;
      out += std::string(static_cast<std::size_t>(2 * d), ' ') + stmt.getText(3) + "\n";
    }
    return out;
  }
};

// Implements every statement method by forwarding to ConnOps over `conn()`.
template <class Base>
class ConnHandle : public Base {
 public:
  storage::SqlRows query(std::string_view sql, const storage::SqlParams& p) override {
    return ConnOps::query(conn(), sql, p);
  }
  std::optional<storage::SqlRow> queryRow(std::string_view sql, const storage::SqlParams& p) override {
    return ConnOps::queryRow(conn(), sql, p);
  }
  storage::SqlValue queryScalar(std::string_view sql, const storage::SqlParams& p) override {
    return ConnOps::queryScalar(conn(), sql, p);
  }
  std::int64_t execute(std::string_view sql, const storage::SqlParams& p) override {
    return ConnOps::execute(conn(), sql, p);
  }
  std::int64_t executeBatch(std::string_view sql, const std::vector<storage::SqlParams>& rows) override {
    return ConnOps::executeBatch(conn(), sql, rows);
  }
  std::string explain(std::string_view sql, const storage::SqlParams& p) override {
    return ConnOps::explain(conn(), sql, p);
  }

 protected:
  virtual Conn& conn() = 0;
};

// A reader's or the writer's connection, held for the handle's lifetime.
template <class Lease>
class LeaseHandle final : public ConnHandle<storage::SqlConnection> {
 public:
  explicit LeaseHandle(Lease lease) : lease_(std::move(lease)) {}

 protected:
  Conn& conn() override { return lease_.conn(); }

 private:
  Lease lease_;
};

class WriteTxHandle final : public ConnHandle<storage::SqlTransaction> {
 public:
  WriteTxHandle(Database& db, std::chrono::milliseconds timeout) : tx_(db, timeout, kCap, "begin") {}
  void commit() override { tx_.commit(); }
  void rollback() override { tx_.rollback(); }

 protected:
  Conn& conn() override { return tx_.conn(); }

 private:
  WriteTx tx_;
};

// A read transaction on a reader: one consistent snapshot for all its statements.
class ReadTxHandle final : public ConnHandle<storage::SqlTransaction> {
 public:
  explicit ReadTxHandle(Database::ReadLease lease) : lease_(std::move(lease)) {
    lease_.conn().exec("BEGIN", kCap, "begin");
    open_ = true;
  }
  ~ReadTxHandle() override {
    if (open_) {
      try {
        lease_.conn().exec("ROLLBACK", kCap, "rollback");
      } catch (const Error&) {
        // A read transaction has nothing to lose; the connection resets on next BEGIN.
        open_ = false;
      }
    }
  }
  void commit() override { end("COMMIT"); }
  void rollback() override { end("ROLLBACK"); }

 protected:
  Conn& conn() override { return lease_.conn(); }

 private:
  void end(const char* verb) {
    if (!open_) {
      throw Error(ErrorCode::Transaction, std::string(kCap), "commit", "the transaction is no longer open");
    }
    open_ = false;
    lease_.conn().exec(verb, kCap, "commit");
  }
  Database::ReadLease lease_;
  bool open_ = false;
};
}  // namespace

std::unique_ptr<storage::SqlConnection> SqliteSqlAccess::reader() {
  return std::make_unique<LeaseHandle<Database::ReadLease>>(db_.acquireReader(kCap, "reader"));
}

std::unique_ptr<storage::SqlConnection> SqliteSqlAccess::writer() {
  return std::make_unique<LeaseHandle<Database::WriteLease>>(db_.acquireWriter(kCap, "writer"));
}

std::unique_ptr<storage::SqlTransaction> SqliteSqlAccess::begin(const storage::TxOptions& options) {
  if (options.readOnly) return std::make_unique<ReadTxHandle>(db_.acquireReader(kCap, "begin"));
  return std::make_unique<WriteTxHandle>(db_, options.timeout);
}

}  // namespace khive::sqlite
