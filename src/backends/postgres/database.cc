#include "backends/postgres/database.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <random>
#include <thread>

#include "backends/postgres/migrations.h"
#include "backends/postgres/replica_router.h"
#include "backends/postgres/scope_token.h"
#include "khive/core/vocabulary.h"

namespace khive::postgres {

namespace {
constexpr std::string_view kCap = "sql";
// A pooled connection idle longer than this gets its session setup sent again on checkout,
// which also finds out whether the server still has it.
constexpr auto kHealthCheckAfter = std::chrono::seconds(10);

void replaceAll(std::string& s, std::string_view from, std::string_view to) {
  for (std::size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size()) {
    s.replace(pos, from.size(), to);
  }
}

// The row-level security block for one table (see migrations.cc).
std::string rlsBlock(std::string_view table) {
  return fmt::format(
      "ALTER TABLE {0} ENABLE ROW LEVEL SECURITY;\n"
      "ALTER TABLE {0} FORCE ROW LEVEL SECURITY;\n"
      "CREATE POLICY {0}_namespace_isolation ON {0} USING {1} WITH CHECK {1};\n",
      table, kGrantedPredicate);
}

// Replaces one table's policy by the current predicate (migration 4).
std::string repolicyBlock(std::string_view table) {
  return fmt::format(
      "DROP POLICY IF EXISTS {0}_namespace_isolation ON {0};\n"
      "CREATE POLICY {0}_namespace_isolation ON {0} USING {1} WITH CHECK {1};\n",
      table, kGrantedPredicate);
}

std::string expand(const Migration& m, const backends::PostgresOptions& o) {
  std::string sql = m.sql;
  for (std::string_view t : {"entities", "notes", "edges", "events", "text_documents", "sparse_entries", "vectors"}) {
    replaceAll(sql, fmt::format("{{rls:{}}}", t), rlsBlock(t));
    replaceAll(sql, fmt::format("{{repolicy:{}}}", t), repolicyBlock(t));
  }
  replaceAll(sql, "{schema}", quoteIdent(o.schema));
  replaceAll(sql, "{role_literal}", quoteLiteral(o.appRole));
  replaceAll(sql, "{role}", quoteIdent(o.appRole));
  return sql;
}

// A text[] literal of the namespaces, as the scope token carries them.
std::string arrayLiteral(const std::vector<std::string>& values) {
  Params p;
  p.textArray(values);
  std::vector<const char*> v;
  std::vector<int> l;
  p.view(v, l);
  return std::string(v[0], static_cast<std::size_t>(l[0]));
}

std::string withUser(const std::string& url, const std::string& user) {
  if (user.empty()) return url;
  // A URI cannot take extra keywords; PQconninfoParse turns either form into keywords.
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(url.c_str(), &err);
  if (!opts) {
    std::string msg = err ? err : "unparsable connection string";
    if (err) PQfreemem(err);
    throw Error(ErrorCode::InvalidInput, std::string(kCap), "open", "bad PostgreSQL connection string: " + msg);
  }
  std::string out;
  for (auto* o = opts; o->keyword; ++o) {
    if (!o->val || std::string_view(o->keyword) == "user") continue;
    out += fmt::format("{}={} ", o->keyword, quoteLiteral(o->val));
  }
  PQconninfoFree(opts);
  out += "user=" + quoteLiteral(user);
  return out;
}
}  // namespace

Lease::~Lease() { release(); }

void Lease::release() {
  borrowed_ = nullptr;
  if (db_ && conn_) {
    db_->release(std::move(conn_));
    // After the write's commit: reads from now on wait for a replica to replay it.
    if (write_ && db_->router_) db_->router_->noteWrite();
  }
}

Conn& Lease::conn() {
  if (borrowed_) return *borrowed_;
  if (!conn_) {
    throw Error(ErrorCode::Transaction, std::string(kCap), "connection",
                "this handle's transaction has ended (committed or rolled back) and its connection went back to "
                "the pool; begin a new transaction");
  }
  return *conn_;
}

Database::Database(const backends::PostgresOptions& options)
    : options_(options), clock_(options.clock ? options.clock : &SystemClock::instance()) {
  if (options_.url.empty()) {
    throw Error(ErrorCode::InvalidInput, std::string(kCap), "open",
                "the PostgreSQL connection string is empty; give a libpq URI or key=value string");
  }
  if (options_.schema.empty()) throw Error(ErrorCode::InvalidInput, std::string(kCap), "open", "schema is empty");
  if (options_.poolSize < 1) throw Error(ErrorCode::InvalidInput, std::string(kCap), "open", "pool size must be >= 1");
  if (options_.namespaces.empty()) {
    throw Error(ErrorCode::InvalidInput, std::string(kCap), "open",
                "no namespaces granted: give the namespaces this backend may see, or {\"*\"} for all");
  }
  for (auto r : vocab::defaultSymmetricRelations()) symmetric_.emplace(r);
  for (const auto& r : options_.extraSymmetricRelations) symmetric_.insert(r);
  namespacesGuc_ = arrayLiteral(options_.namespaces);
  searchPath_ = fmt::format("{}, public", quoteIdent(options_.schema));
  poolSize_ = options_.poolSize;
  migrate();
  if (sharedSession_) poolSize_ = 1;
  auto lease = acquire(kCap, "open");
  serverVersion_ = lease.conn().exec("SELECT current_setting('server_version')", {}, kCap, "open").str(0, 0);
  if (options_.groupWrites) writeGroups_ = std::make_unique<WriteGroups>(*this);
  if (!options_.replicas.empty()) router_ = std::make_unique<ReplicaRouter>(*this);
}

Database::Database(const Database& primary, const std::string& conninfo)
    : options_(primary.options_),
      clock_(primary.clock_),
      symmetric_(primary.symmetric_),
      namespacesGuc_(primary.namespacesGuc_),
      scopeKey_(primary.scopeKey_),
      searchPath_(primary.searchPath_),
      hasVectors_(primary.hasVectors_),
      poolSize_(primary.options_.poolSize),
      schemaVersion_(primary.schemaVersion_),
      serverVersion_(primary.serverVersion_) {
  readBudget_.set(primary.readBudget());
  options_.url = conninfo;
  options_.replicas.clear();
  options_.groupWrites = false;
}

Database::~Database() = default;

std::string Database::location() const {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(options_.url.c_str(), &err);
  if (err) PQfreemem(err);
  std::string host, port, db, user;
  for (auto* o = opts; o && o->keyword; ++o) {
    if (!o->val) continue;
    std::string_view k = o->keyword;
    if (k == "host") host = o->val;
    if (k == "port") port = o->val;
    if (k == "dbname") db = o->val;
    if (k == "user") user = o->val;
  }
  if (opts) PQconninfoFree(opts);
  return fmt::format("postgresql://{}@{}:{}/{} schema {}", user, host, port, db, options_.schema);
}

void Database::migrate() {
  const std::string adminUrl = options_.adminUrl.empty() ? options_.url : options_.adminUrl;
  auto conn = Conn::connect(adminUrl, kCap);
  Conn& c = *conn;
  // PGlite shares one session among its clients: a role switched to by another client
  // would otherwise still be in force here.
  c.execScript("RESET ROLE", kCap, "migrate");
  // PGlite names itself in version(): "PostgreSQL 18.6 (PGlite 0.5.14) on wasm32-...".
  sharedSession_ = c.exec("SELECT strpos(version(), 'PGlite') > 0", {}, kCap, "migrate").getBool(0, 0);
  c.execScript(fmt::format("CREATE SCHEMA IF NOT EXISTS {}", quoteIdent(options_.schema)), kCap, "migrate");
  c.exec("SELECT set_config('search_path', $1, false)",
         Params().text(fmt::format("{}, public", quoteIdent(options_.schema))), kCap, "migrate");
  // Two processes migrating the same schema at once: the second waits here, then finds the
  // ledger up to date. Session-level lock, released below (or when the connection dies).
  c.exec("SELECT pg_advisory_lock(hashtext($1))", Params().text("khive.migrate." + options_.schema), kCap, "migrate");
  try {
    // A schema holding another program's tables and no khive ledger is refused before
    // anything is created in it.
    auto held = c.exec(
        "SELECT coalesce(string_agg(c.relname, ', ' ORDER BY c.relname) FILTER (WHERE c.relname <> "
        "'_schema_migrations'), ''), "
        "count(*) FILTER (WHERE c.relname = '_schema_migrations') > 0 "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')",
        Params().text(options_.schema), kCap, "migrate");
    if (!held.getBool(0, 1) && !held.view(0, 0).empty()) {
      throw Error(ErrorCode::InvalidInput, std::string(kCap), "open",
                  fmt::format("schema {} is not a khive schema: it has tables {} and no khive migration ledger; "
                              "khive leaves it untouched (give khive a schema of its own)",
                              options_.schema, held.view(0, 0)));
    }
    c.execScript(
        "CREATE TABLE IF NOT EXISTS _schema_migrations (version int4 PRIMARY KEY, description text NOT NULL, "
        "applied_at int8 NOT NULL)",
        kCap, "migrate");
    std::set<int> applied;
    auto rows = c.exec("SELECT version FROM _schema_migrations ORDER BY version", {}, kCap, "migrate");
    for (int i = 0; i < rows.rows(); ++i) applied.insert(static_cast<int>(rows.getInt(i, 0)));
    const int latest = migrations().back().version;
    if (!applied.empty() && *applied.rbegin() > latest) {
      throw Error(ErrorCode::Conflict, std::string(kCap), "migrate",
                  fmt::format("the database schema {} is at version {}, newer than this build of khive knows "
                              "({}); upgrade khive before opening it",
                              options_.schema, *applied.rbegin(), latest));
    }
    for (const auto& m : migrations()) {
      if (applied.contains(m.version)) continue;
      if (m.requiresExtension) {
        auto avail = c.exec("SELECT count(*) FROM pg_available_extensions WHERE name = $1",
                            Params().text(m.requiresExtension), kCap, "migrate");
        if (avail.getInt(0, 0) == 0) continue;
      }
      Tx tx(c, kCap, "migrate");
      c.execScript(expand(m, options_), kCap, "migrate");
      c.exec("INSERT INTO _schema_migrations (version, description, applied_at) VALUES ($1, $2, $3)",
             Params().integer(m.version).text(m.description).integer(now()), kCap, "migrate");
      tx.commit();
      applied.insert(m.version);
    }
    schemaVersion_ = applied.empty() ? 0 : *applied.rbegin();
    hasVectors_ = applied.contains(3);
    // The scope key: only this (owner) connection can read it; the pool signs with it.
    auto key = c.exec("SELECT encode(key, 'hex') FROM khive_scope_key WHERE id = 1", {}, kCap, "migrate");
    if (key.rows() != 1 || key.view(0, 0).size() != 64) {
      throw Error(ErrorCode::Driver, std::string(kCap), "migrate",
                  fmt::format("the scope key of schema {} is missing or malformed (khive_scope_key)", options_.schema));
    }
    scopeKey_.clear();
    const auto hex = key.view(0, 0);
    for (std::size_t i = 0; i < hex.size(); i += 2) {
      scopeKey_.push_back(static_cast<std::uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
    }
  } catch (...) {
    // Release the advisory lock before the error leaves (the connection closes right after,
    // which would release it too; this keeps the order obvious).
    if (c.txStatus() != PQTRANS_IDLE) PQclear(PQexec(c.raw(), "ROLLBACK"));
    PQclear(PQexec(c.raw(), "SELECT pg_advisory_unlock_all()"));
    throw;
  }
  c.exec("SELECT pg_advisory_unlock_all()", {}, kCap, "migrate");
}

std::unique_ptr<Conn> Database::openConnection() {
  auto conn = Conn::connect(withUser(options_.url, options_.user), kCap);
  Conn& c = *conn;
  auto session = c.exec(fmt::format("SELECT set_config('search_path', $1, false), set_config('statement_timeout', $2, "
                                    "false), {}.khive_session_binding()",
                                    quoteIdent(options_.schema)),
                        Params()
                            .text(fmt::format("{}, public", quoteIdent(options_.schema)))
                            .text(std::to_string(options_.statementTimeout.count())),
                        kCap, "connect");
  // This session's grant, signed for this session only (scope_token.h).
  c.setScopeToken(scopeToken(scopeKey_, session.view(0, 2), namespacesGuc_));
  if (!options_.appRole.empty()) {
    // A server that logs every client in as one superuser (PGlite) cannot enforce RLS on
    // that user; switch to the application role so the policies apply.
    auto r = c.exec("SELECT current_user = $1, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)",
                    Params().text(options_.appRole), kCap, "connect");
    if (!r.getBool(0, 0) && r.getBool(0, 1)) switchRole_ = true;
  }
  return conn;
}

Lease Database::acquire(std::string_view capability, std::string_view operation, bool readOnly) {
  if (auto* unit = WorkUnit::current(*this)) {
    if (Conn* c = unit->conn(!readOnly, capability, operation)) return Lease(*c);
  }
  if (readOnly && router_) return router_->acquireRead(capability, operation);
  return acquirePooled(capability, operation, readOnly);
}

Lease Database::acquirePooled(std::string_view capability, std::string_view operation, bool readOnly) {
  for (int attempt = 0;; ++attempt) {
    std::unique_ptr<Conn> conn;
    {
      std::unique_lock lock(mu_);
      ++waiting_;
      const bool got = cv_.wait_for(lock, options_.checkoutTimeout,
                                    [&] { return !idle_.empty() || open_ < poolSize_; });
      --waiting_;
      if (!got) {
        throw Error(ErrorCode::Pool, std::string(capability), std::string(operation),
                    fmt::format("no PostgreSQL connection came free within {} ms (pool size {}); raise poolSize "
                                "or retry",
                                options_.checkoutTimeout.count(), poolSize_));
      }
      if (!idle_.empty()) {
        conn = std::move(idle_.back());
        idle_.pop_back();
      } else {
        ++open_;
      }
    }
    try {
      if (!conn) conn = openConnection();
      // The session state a checkout needs: the signed scope token RLS reads, the role and
      // search_path, and read-only mode for readers. A connection that already carries
      // exactly this state (the pool set it on an earlier checkout, and nothing since could
      // have changed it) skips the round trip, unless it sat idle long enough that the server
      // may have closed it: then the setup doubles as the health check.
      // On a shared-session server (PGlite) another client may have changed any of it, so it
      // is set every time.
      // A reader's statement_timeout is the read budget's time, set in the same round trip.
      const std::int64_t timeoutMs = readOnly ? readBudget().time.count() : options_.statementTimeout.count();
      const bool current = !sharedSession_ && conn->sessionReadOnly() == readOnly &&
                           conn->sessionTimeoutMs() == timeoutMs &&
                           std::chrono::steady_clock::now() - conn->lastUsed() < kHealthCheckAfter;
      if (!current) {
        conn->forgetSessionState();
        // The token travels as a bound parameter: pg_stat_activity shows only "$1".
        conn->exec("SELECT set_config('khive.scope', $1, false), set_config('default_transaction_read_only', $2, "
                   "false), set_config('search_path', $3, false), CASE WHEN $4 THEN set_config('role', $5, false) "
                   "END, set_config('statement_timeout', $6, false)",
                   Params()
                       .text(conn->scopeToken())
                       .text(readOnly ? "on" : "off")
                       .text(searchPath_)
                       .boolean(switchRole_.load())
                       .text(options_.appRole)
                       .text(std::to_string(timeoutMs)),
                   capability, operation);
        conn->setSessionReadOnly(readOnly);
        conn->setSessionTimeoutMs(timeoutMs);
      }
      return Lease(*this, std::move(conn), !readOnly);
    } catch (const Error&) {
      const bool lost = !conn || !conn->ok();
      {
        std::lock_guard lock(mu_);
        --open_;
      }
      cv_.notify_one();
      // A connection the server closed while idle: drop it and try a fresh one, once.
      if (!lost || attempt >= 1 || !conn) throw;
    }
  }
}

void Database::setReadBudget(const storage::ReadBudget& budget) {
  readBudget_.set(budget);
  if (router_) router_->setReadBudget(budget);
}

void Database::dropIdle() {
  std::vector<std::unique_ptr<Conn>> idle;
  {
    std::lock_guard lock(mu_);
    idle.swap(idle_);
    open_ -= static_cast<int>(idle.size());
  }
  cv_.notify_all();
}

storage::ReadBudget Database::readBudget() const { return readBudget_.get(); }

void Database::analyze() {
  std::string sql = "RESET ROLE;\n";
  for (std::string_view t : {"entities", "notes", "edges", "events", "text_documents", "sparse_entries"}) {
    sql += fmt::format("ANALYZE {}.{};\n", quoteIdent(options_.schema), t);
  }
  if (hasVectors_) sql += fmt::format("ANALYZE {}.vectors;\n", quoteIdent(options_.schema));
  if (sharedSession_) {
    // A shared-session server (PGlite) logs every client in as its superuser: the pool's own
    // connection analyzes after RESET ROLE, and the next checkout sets its session anew.
    auto lease = acquire(kCap, "analyze");
    lease.conn().forgetSessionState();
    lease.conn().execScript(sql, kCap, "analyze");
    return;
  }
  const std::string adminUrl = options_.adminUrl.empty() ? options_.url : options_.adminUrl;
  auto conn = Conn::connect(adminUrl, kCap);
  conn->execScript(sql, kCap, "analyze");
}

storage::BackendStats Database::stats() {
  storage::BackendStats out;
  {
    std::lock_guard lock(mu_);
    out.poolSize = poolSize_;
    out.connectionsOpen = open_;
    out.connectionsInUse = open_ - static_cast<int>(idle_.size());
    out.waiting = waiting_;
  }
  if (writeGroups_) out.writeGroupSizes = writeGroups_->groupSizes();
  return out;
}

void Database::release(std::unique_ptr<Conn> conn) {
  bool keep = conn->ok();
  if (keep && conn->txStatus() != PQTRANS_IDLE) {
    conn->forgetSessionState();
    ResultPtr r(PQexec(conn->raw(), "ROLLBACK"));
    keep = conn->ok() && conn->txStatus() == PQTRANS_IDLE;
  }
  if (keep && (sharedSession_ || !conn->sessionReadOnly())) {
    // Reset on return when the session state is not known to be exactly what the pool set
    // (a caller's raw SQL ran, or a transaction was left open), and always on a shared-session
    // server, whose other clients must not inherit this grant. The next checkout sets it anew.
    // Otherwise the connection keeps its own token, which is bound to this server session and
    // grants nothing to any other: the pool hands it to no one but its next lease.
    conn->forgetSessionState();
    ResultPtr r(PQexec(conn->raw(),
                       "SELECT set_config('khive.scope', '', false), "
                       "set_config('default_transaction_read_only', 'off', false)"));
    keep = r && PQresultStatus(r.get()) == PGRES_TUPLES_OK;
  }
  const bool lost = !conn->ok();
  {
    std::lock_guard lock(mu_);
    if (keep) {
      idle_.push_back(std::move(conn));
    } else {
      --open_;
    }
  }
  cv_.notify_one();
  if (lost) {
    // The server went away or closed this session: the idle ones are most likely gone too,
    // and would each fail a caller's statement before being noticed.
    lost_.fetch_add(1, std::memory_order_relaxed);
    dropIdle();
  }
}

Result Database::writeStatement(std::string_view capability, std::string_view operation, std::string_view sql,
                                const Params& params, const MergedForm* merged) {
  // Inside a unit of work the statement joins the unit's transaction instead of a group.
  if (auto* unit = WorkUnit::current(*this)) return unit->conn(true, capability, operation)->exec(sql, params, capability, operation);
  if (writeGroups_) return writeGroups_->run(capability, operation, sql, params, merged);
  return run(capability, operation, [&](Conn& c) { return c.exec(sql, params, capability, operation); });
}

void Database::backoff(int attempt) {
  thread_local std::minstd_rand rng{std::random_device{}()};
  const int cap = std::min(50, 1 << std::min(attempt, 5));
  std::this_thread::sleep_for(std::chrono::milliseconds(1 + static_cast<int>(rng() % static_cast<unsigned>(cap))));
}

Tx::Tx(Conn& conn, std::string_view capability, std::string_view operation, bool serializable, bool readOnly)
    : conn_(conn), capability_(capability), operation_(operation) {
  if (conn_.txStatus() != PQTRANS_IDLE) {
    // Inside a unit of work's transaction; its isolation level and read/write mode hold.
    static std::atomic<std::uint64_t> counter{0};
    savepoint_ = fmt::format("khive_tx_{}", counter.fetch_add(1));
    conn_.execScript("SAVEPOINT " + savepoint_, capability_, operation_);
    open_ = true;
    return;
  }
  std::string begin = "BEGIN";
  if (serializable) begin += " ISOLATION LEVEL SERIALIZABLE";
  if (readOnly) begin += " READ ONLY";
  conn_.execScript(begin, capability_, operation_);
  open_ = true;
}

void Tx::commit() {
  if (!open_) {
    throw Error(ErrorCode::Transaction, capability_, operation_,
                "the transaction is no longer open (already committed or rolled back)");
  }
  open_ = false;
  conn_.execScript(savepoint_.empty() ? std::string("COMMIT") : "RELEASE SAVEPOINT " + savepoint_, capability_,
                   operation_);
}

void Tx::rollback() {
  if (!open_) return;
  open_ = false;
  conn_.execScript(savepoint_.empty() ? std::string("ROLLBACK")
                                      : "ROLLBACK TO SAVEPOINT " + savepoint_ + "; RELEASE SAVEPOINT " + savepoint_,
                   capability_, operation_);
}

Tx::~Tx() {
  if (!open_) return;
  open_ = false;
  // Errors here leave the connection in a failed transaction; the pool (or the unit of work
  // that owns the transaction) rolls back or drops it, so there is nothing more a destructor
  // should do.
  const std::string sql =
      savepoint_.empty() ? std::string("ROLLBACK")
                         : "ROLLBACK TO SAVEPOINT " + savepoint_ + "; RELEASE SAVEPOINT " + savepoint_;
  ResultPtr r(PQexec(conn_.raw(), sql.c_str()));
}

Conn* WorkUnit::conn(bool start, std::string_view capability, std::string_view operation) {
  if (lease_) return &lease_->conn();
  if (!start || !isOpen()) return nullptr;
  Lease lease = db_.acquirePooled(capability, operation, false);
  lease.conn().execScript("BEGIN", capability, operation);
  lease_.emplace(std::move(lease));
  return &lease_->conn();
}

void WorkUnit::commit() {
  requireOpen();
  close();
  if (!lease_) return;
  Conn& c = lease_->conn();
  if (c.txStatus() != PQTRANS_INTRANS) {
    // A statement failed and aborted the transaction: COMMIT would only roll it back.
    lease_.reset();  // the pool rolls back on return
    throw Error(ErrorCode::Transaction, "unit", "commit",
                "a statement of the unit of work failed, so its transaction was rolled back; nothing was written");
  }
  try {
    c.execScript("COMMIT", "unit", "commit");
  } catch (...) {
    lease_.reset();
    throw;
  }
  lease_.reset();
}

void WorkUnit::rollback() {
  close();
  if (!lease_) return;
  Conn& c = lease_->conn();
  if (c.ok() && c.txStatus() != PQTRANS_IDLE) {
    ResultPtr r(PQexec(c.raw(), "ROLLBACK"));
  }
  lease_.reset();
}

WorkUnit::~WorkUnit() { rollback(); }

}  // namespace khive::postgres
