#include "backends/postgres/pg_conn.h"

#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <cstring>
#include <functional>

#include "khive/storage/sql_quote.h"

namespace khive::postgres {

namespace {

// Prepared statements kept per connection. Store SQL has a bounded number of shapes (lists
// travel as array parameters), so this only guards against unbounded dynamic SQL.
constexpr std::size_t kMaxPrepared = 512;

std::int64_t parseInt(std::string_view s) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) {
    throw Error(ErrorCode::Driver, "sql", "read", fmt::format("expected an integer from the server, got '{}'", s));
  }
  return v;
}

double parseDouble(std::string_view s) {
  if (s == "NaN") return std::nan("");
  if (s == "Infinity") return HUGE_VAL;
  if (s == "-Infinity") return -HUGE_VAL;
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) {
    throw Error(ErrorCode::Driver, "sql", "read", fmt::format("expected a number from the server, got '{}'", s));
  }
  return v;
}

std::string arrayElement(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

ErrorCode codeFor(std::string_view state) {
  if (state == "40001") return ErrorCode::Serialization;
  if (state == "40P01") return ErrorCode::Transaction;  // deadlock detected: retryable
  if (state == "23505") return ErrorCode::AlreadyExists;
  if (state == "57014" || state == "55P03") return ErrorCode::Timeout;  // canceled / lock not available
  if (state == "25006") return ErrorCode::InvalidInput;                 // read-only transaction
  if (state == "08P01") return ErrorCode::InvalidInput;  // e.g. "bind message supplies 0 parameters, but ... 1"
  if (state.starts_with("23") || state.starts_with("22") || state.starts_with("42") || state.starts_with("P0") ||
      state.starts_with("2F") || state.starts_with("0A") || state.starts_with("25") || state.starts_with("3F") ||
      state.starts_with("34") || state.starts_with("26") || state.starts_with("44")) {
    return ErrorCode::InvalidInput;
  }
  // Connection exceptions, and a server shutting down, starting up or in recovery.
  if (state.starts_with("08") || state.starts_with("57P")) return ErrorCode::Unavailable;
  return ErrorCode::Driver;
}

}  // namespace

std::optional<std::string> Result::optStr(int row, int col) const {
  if (isNull(row, col)) return std::nullopt;
  return str(row, col);
}
std::int64_t Result::getInt(int row, int col) const { return parseInt(view(row, col)); }
std::optional<std::int64_t> Result::optInt(int row, int col) const {
  if (isNull(row, col)) return std::nullopt;
  return getInt(row, col);
}
double Result::getDouble(int row, int col) const { return parseDouble(view(row, col)); }
std::optional<double> Result::optDouble(int row, int col) const {
  if (isNull(row, col)) return std::nullopt;
  return getDouble(row, col);
}
std::optional<Uuid> Result::optUuid(int row, int col) const {
  if (isNull(row, col)) return std::nullopt;
  return getUuid(row, col);
}
std::int64_t Result::affected() const {
  const char* n = r_ ? PQcmdTuples(r_.get()) : "";
  return *n ? parseInt(n) : 0;
}

storage::SqlValue Result::value(int row, int col) const {
  if (isNull(row, col)) return std::monostate{};
  switch (PQftype(r_.get(), col)) {
    case kOidBool: return getBool(row, col);
    case kOidInt2:
    case kOidInt4:
    case kOidInt8:
    case kOidOid: return getInt(row, col);
    case kOidFloat4:
    case kOidFloat8:
    case kOidNumeric: return getDouble(row, col);
    case kOidBytea: {
      std::size_t n = 0;
      auto* raw = PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(r_.get(), row, col)), &n);
      if (!raw) throw Error(ErrorCode::Driver, "sql", "read", "out of memory decoding a bytea value");
      storage::Blob b(raw, raw + n);
      PQfreemem(raw);
      return b;
    }
    default: return str(row, col);
  }
}

Params& Params::null(Oid type) {
  values_.emplace_back(std::nullopt);
  types_.push_back(type);
  formats_.push_back(0);
  return *this;
}
Params& Params::text(std::string_view s, Oid type) {
  values_.emplace_back(std::string(s));
  types_.push_back(type);
  formats_.push_back(0);
  return *this;
}
Params& Params::real(double v) {
  if (std::isnan(v)) return text("NaN", kOidFloat8);
  if (std::isinf(v)) return text(v > 0 ? "Infinity" : "-Infinity", kOidFloat8);
  return text(fmt::format("{}", v), kOidFloat8);  // shortest round-trip form
}
Params& Params::bytes(std::span<const std::uint8_t> b) {
  values_.emplace_back(std::string(reinterpret_cast<const char*>(b.data()), b.size()));
  types_.push_back(kOidBytea);
  formats_.push_back(1);
  return *this;
}
Params& Params::textArray(std::span<const std::string> values) {
  std::string lit = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) lit += ',';
    lit += arrayElement(values[i]);
  }
  lit += '}';
  return text(lit);
}
Params& Params::uuidArray(std::span<const Uuid> values) {
  std::string lit = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) lit += ',';
    lit += values[i].str();
  }
  lit += '}';
  return text(lit);
}
Params& Params::value(const storage::SqlValue& v) {
  struct Visitor {
    Params& p;
    void operator()(std::monostate) { p.null(); }
    void operator()(bool b) { p.boolean(b); }
    void operator()(std::int64_t i) { p.integer(i); }
    void operator()(double d) { p.real(d); }
    // Untyped: the server takes the type the statement needs there (text, uuid, jsonb, ...).
    void operator()(const std::string& s) { p.text(s); }
    void operator()(const storage::Blob& b) { p.bytes(b); }
    void operator()(const storage::JsonParam& j) { p.json(j.value); }
    void operator()(const Uuid& u) { p.uuid(u); }
    void operator()(const storage::Timestamp& t) { p.integer(t.micros); }
  };
  std::visit(Visitor{*this}, v);
  return *this;
}
Params Params::columns(std::span<const Params* const> rows) {
  Params out;
  if (rows.empty()) return out;
  for (std::size_t k = 0; k < rows.front()->size(); ++k) {
    std::string lit = "{";
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (i) lit += ',';
      const auto& v = rows[i]->values_.at(k);
      lit += v ? arrayElement(*v) : "NULL";
    }
    lit += '}';
    out.text(lit);
  }
  return out;
}

bool Params::allText() const noexcept {
  return std::all_of(formats_.begin(), formats_.end(), [](int f) { return f == 0; });
}

MergedForm MergedForm::of(std::string_view single, std::initializer_list<std::string_view> types,
                          std::vector<int> keyParams) {
  auto bad = [&] { throw std::logic_error("not a single-row INSERT: " + std::string(single)); };
  const auto open = single.find('(');
  const auto close = single.find(')', open);
  const auto values = single.find(" VALUES (", close);
  const auto valuesEnd = single.find(')', values);
  if (open == std::string_view::npos || close == std::string_view::npos || values == std::string_view::npos ||
      valuesEnd == std::string_view::npos || !single.starts_with("INSERT INTO ")) {
    bad();
  }
  std::vector<std::string> columns;
  for (std::string_view rest = single.substr(open + 1, close - open - 1); !rest.empty();) {
    const auto comma = rest.find(',');
    std::string_view col = rest.substr(0, comma);
    while (col.starts_with(' ')) col.remove_prefix(1);
    columns.emplace_back(col);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }
  if (columns.size() != types.size()) bad();
  std::string keys;
  for (int k : keyParams) {
    if (k < 0 || static_cast<std::size_t>(k) >= columns.size()) bad();
    keys += (keys.empty() ? "" : ", ") + columns[static_cast<std::size_t>(k)];
  }
  std::string sql(single.substr(0, values));
  sql += " SELECT * FROM unnest(";
  std::size_t i = 0;
  for (std::string_view t : types) sql += fmt::format("{}${}::{}[]", i ? ", " : "", i + 1, t), ++i;
  sql += ')';
  std::string_view tail = single.substr(valuesEnd + 1);
  if (const auto ret = tail.find(" RETURNING "); ret != std::string_view::npos) {
    sql += tail.substr(0, ret);
    sql += fmt::format(" RETURNING {}, {}", keys, tail.substr(ret + 11));
  } else {
    sql += fmt::format("{} RETURNING {}", tail, keys);
  }
  return MergedForm{std::move(sql), std::move(keyParams)};
}

Result projectRow(const Result& merged, std::span<const std::string_view> key) {
  const PGresult* m = merged.raw();
  const int keyCols = static_cast<int>(key.size());
  const int cols = PQnfields(m) - keyCols;
  std::vector<PGresAttDesc> attrs(static_cast<std::size_t>(std::max(cols, 0)));
  for (int c = 0; c < cols; ++c) {
    auto& a = attrs[static_cast<std::size_t>(c)];
    a.name = PQfname(m, keyCols + c);
    a.tableid = PQftable(m, keyCols + c);
    a.columnid = PQftablecol(m, keyCols + c);
    a.format = PQfformat(m, keyCols + c);
    a.typid = PQftype(m, keyCols + c);
    a.typlen = PQfsize(m, keyCols + c);
    a.atttypmod = PQfmod(m, keyCols + c);
  }
  ResultPtr out(PQmakeEmptyPGresult(nullptr, PGRES_TUPLES_OK));
  if (!out || PQsetResultAttrs(out.get(), cols, attrs.data()) == 0) throw std::bad_alloc();
  for (int r = 0; r < PQntuples(m); ++r) {
    bool match = true;
    for (int c = 0; c < keyCols && match; ++c) {
      match = !PQgetisnull(m, r, c) &&
              std::string_view(PQgetvalue(m, r, c), static_cast<std::size_t>(PQgetlength(m, r, c))) ==
                  key[static_cast<std::size_t>(c)];
    }
    if (!match) continue;
    for (int c = 0; c < cols; ++c) {
      const bool null = PQgetisnull(m, r, keyCols + c) != 0;
      if (PQsetvalue(out.get(), 0, c, null ? nullptr : PQgetvalue(m, r, keyCols + c),
                     null ? -1 : PQgetlength(m, r, keyCols + c)) == 0) {
        throw std::bad_alloc();
      }
    }
    break;
  }
  return Result(std::move(out));
}

void Params::view(std::vector<const char*>& values, std::vector<int>& lengths) const {
  values.clear();
  lengths.clear();
  for (const auto& v : values_) {
    values.push_back(v ? v->data() : nullptr);
    lengths.push_back(v ? static_cast<int>(v->size()) : 0);
  }
}

bool isConnectionLost(PGconn* conn) noexcept { return conn && PQstatus(conn) != CONNECTION_OK; }

void throwResult(const PGresult* r, PGconn* conn, std::string_view capability, std::string_view operation) {
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  std::string msg;
  if (r && PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY)) {
    msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    if (const char* d = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL)) msg += fmt::format(" ({})", d);
    if (const char* h = PQresultErrorField(r, PG_DIAG_MESSAGE_HINT)) msg += fmt::format(" hint: {}", h);
  } else {
    msg = conn ? PQerrorMessage(conn) : "unknown libpq failure";
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  }
  ErrorCode code = state ? codeFor(state) : ErrorCode::Driver;
  if (state && std::string_view(state) == "42501" && msg.find("row-level security") != std::string::npos) {
    msg += " (the record's namespace is not granted to this session: add it to the backend's namespaces)";
  }
  if (code == ErrorCode::Timeout && state && std::string_view(state) == "57014") {
    msg += " (the statement ran past its time budget, statement_timeout, and was cancelled; narrow the request "
           "(fewer or shorter hop ranges, a more selective start node, a LIMIT, fewer search terms) or raise the "
           "budget ([limits] time_budget_ms in khive.toml, or --timeout-ms))";
  }
  if (!state && isConnectionLost(conn)) {
    code = ErrorCode::Unavailable;
    msg = "lost the connection to PostgreSQL (a write in flight may or may not have committed): " + msg;
  }
  throw Error(code, std::string(capability), std::string(operation), msg);
}

std::unique_ptr<Conn> Conn::connect(const std::string& url, std::string_view capability) {
  PGconn* raw = PQconnectdb(url.c_str());
  std::unique_ptr<Conn> c(new Conn(raw));
  if (!raw || PQstatus(raw) != CONNECTION_OK) {
    std::string msg = raw ? PQerrorMessage(raw) : "out of memory";
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    // A server that refused us (authentication, an unknown role or database) is up: Driver.
    // One that could not be reached, or is starting up or shutting down: Unavailable.
    const bool refused =
        msg.find("authentication") != std::string::npos || msg.find("does not exist") != std::string::npos;
    throw Error(raw && !refused ? ErrorCode::Unavailable : ErrorCode::Driver, std::string(capability), "connect",
                fmt::format("cannot connect to PostgreSQL: {}; check the connection string and that the "
                            "server is running",
                            msg));
  }
  // Notices (e.g. "relation already exists, skipping") are not errors; keep them off stderr.
  PQsetNoticeProcessor(raw, [](void*, const char*) {}, nullptr);
  return c;
}

const std::string& Conn::prepared(std::string_view sql, const Params& params, std::string_view capability,
                                  std::string_view operation) {
  // The parameter types are part of a prepared statement: the same text bound with other
  // types is another statement.
  std::string key(sql);
  for (std::size_t i = 0; i < params.size(); ++i) key += fmt::format("\x1f{}", params.types()[i]);
  if (auto it = statements_.find(key); it != statements_.end()) return it->second;
  static const std::string kNone;
  if (statements_.size() >= kMaxPrepared) return kNone;  // full: run unprepared
  // Names unique per process and connection: PGlite serves every client from one shared
  // session, where prepared statements of one connection are visible to (and collide
  // with) the others.
  static std::atomic<std::uint64_t> counter{0};
  std::string name = fmt::format("k{}_{}", static_cast<long>(::getpid()), counter.fetch_add(1));
  ResultPtr r(PQprepare(conn_.get(), name.c_str(), std::string(sql).c_str(), static_cast<int>(params.size()),
                        params.types()));
  if (!r || PQresultStatus(r.get()) != PGRES_COMMAND_OK) throwResult(r.get(), conn_.get(), capability, operation);
  return statements_.emplace(std::move(key), std::move(name)).first->second;
}

namespace {
Result checked(ResultPtr r, PGconn* conn, std::string_view capability, std::string_view operation) {
  auto st = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) throwResult(r.get(), conn, capability, operation);
  return Result(std::move(r));
}
}  // namespace

Result Conn::exec(std::string_view sql, const Params& params, std::string_view capability,
                  std::string_view operation) {
  lastUsed_ = std::chrono::steady_clock::now();
  const std::string& name = prepared(sql, params, capability, operation);
  if (name.empty()) return execOnce(sql, params, capability, operation);
  std::vector<const char*> values;
  std::vector<int> lengths;
  params.view(values, lengths);
  ResultPtr r(PQexecPrepared(conn_.get(), name.c_str(), static_cast<int>(params.size()), values.data(),
                             lengths.data(), params.formats(), 0));
  return checked(std::move(r), conn_.get(), capability, operation);
}

Result Conn::execOnce(std::string_view sql, const Params& params, std::string_view capability,
                      std::string_view operation) {
  lastUsed_ = std::chrono::steady_clock::now();
  std::vector<const char*> values;
  std::vector<int> lengths;
  params.view(values, lengths);
  std::string text(sql);
  ResultPtr r(PQexecParams(conn_.get(), text.c_str(), static_cast<int>(params.size()), params.types(),
                           values.data(), lengths.data(), params.formats(), 0));
  return checked(std::move(r), conn_.get(), capability, operation);
}

void Conn::execScript(std::string_view sql, std::string_view capability, std::string_view operation) {
  lastUsed_ = std::chrono::steady_clock::now();
  std::string text(sql);
  // PQexec returns only the last result; an error stops the script and is that result.
  ResultPtr r(PQexec(conn_.get(), text.c_str()));
  checked(std::move(r), conn_.get(), capability, operation);
}

namespace {
// Reads a pipeline's results up to its sync: `each` gets every query's result in order
// (succeeded, failed, or PIPELINE_ABORTED for one the server skipped after a failure).
// Returns the first failure's error.
std::optional<Error> drainPipeline(PGconn* c, std::string_view capability, std::string_view operation,
                                   const std::function<void(ResultPtr)>& each) {
  std::optional<Error> first;
  for (;;) {
    ResultPtr r(PQgetResult(c));
    if (!r) {
      if (PQstatus(c) != CONNECTION_OK) break;
      continue;  // end of one query's results
    }
    const auto st = PQresultStatus(r.get());
    if (st == PGRES_PIPELINE_SYNC) break;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_PIPELINE_ABORTED && !first) {
      try {
        throwResult(r.get(), c, capability, operation);
      } catch (const Error& e) {
        first = e;
      }
    }
    each(std::move(r));
  }
  return first;
}
}  // namespace

std::vector<std::int64_t> Conn::execPipeline(std::string_view sql, std::span<const Params> rows,
                                             std::string_view capability, std::string_view operation) {
  std::vector<std::int64_t> changed;
  if (rows.empty()) return changed;
  lastUsed_ = std::chrono::steady_clock::now();
  std::string name = prepared(sql, rows[0], capability, operation);
  PGconn* c = conn_.get();
  if (name.empty()) {
    // Cache full: prepare an unnamed statement for this batch.
    ResultPtr r(PQprepare(c, "", std::string(sql).c_str(), static_cast<int>(rows[0].size()), rows[0].types()));
    if (!r || PQresultStatus(r.get()) != PGRES_COMMAND_OK) throwResult(r.get(), c, capability, operation);
  }
  if (PQenterPipelineMode(c) != 1) throwResult(nullptr, c, capability, operation);
  // Send everything, then read. A batch this size fits the socket buffers comfortably only up
  // to a point; libpq flushes as it goes (PQsendQueryPrepared flushes when its buffer fills),
  // and the server keeps answering, so reading after sending cannot deadlock for the batch
  // sizes the stores use (they chunk at kPipelineChunk rows).
  std::vector<const char*> values;
  std::vector<int> lengths;
  bool sendFailed = false;
  for (const auto& p : rows) {
    p.view(values, lengths);
    if (PQsendQueryPrepared(c, name.c_str(), static_cast<int>(p.size()), values.data(), lengths.data(), p.formats(),
                            0) != 1) {
      sendFailed = true;
      break;
    }
  }
  if (PQpipelineSync(c) != 1) sendFailed = true;
  const auto first = drainPipeline(c, capability, operation, [&](ResultPtr r) {
    const auto st = PQresultStatus(r.get());
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
      changed.push_back(Result(std::move(r)).affected());
    } else if (st == PGRES_PIPELINE_ABORTED) {
      changed.push_back(0);
    }
  });
  PQexitPipelineMode(c);
  if (first) throw *first;
  if (sendFailed) throwResult(nullptr, c, capability, operation);
  return changed;
}

std::vector<Result> Conn::execTransaction(std::span<const Statement> statements, std::string_view capability,
                                          std::string_view operation, bool implicit) {
  lastUsed_ = std::chrono::steady_clock::now();
  PGconn* c = conn_.get();
  // Prepared before the pipeline starts (preparing is a round trip of its own); a statement
  // the full cache cannot take travels unprepared.
  std::vector<const std::string*> names;
  names.reserve(statements.size());
  for (const auto& st : statements) names.push_back(&prepared(st.sql, *st.params, capability, operation));
  if (PQenterPipelineMode(c) != 1) throwResult(nullptr, c, capability, operation);
  auto sendPlain = [&](const char* sql) { return PQsendQueryParams(c, sql, 0, nullptr, nullptr, nullptr, nullptr, 0); };
  // One statement is a transaction by itself (autocommit).
  const bool block = statements.size() > 1 && !implicit;
  bool sendFailed = block && sendPlain("BEGIN") != 1;
  std::vector<const char*> values;
  std::vector<int> lengths;
  std::string text;
  for (std::size_t i = 0; i < statements.size() && !sendFailed; ++i) {
    const Params& p = *statements[i].params;
    p.view(values, lengths);
    const int n = static_cast<int>(p.size());
    if (!names[i]->empty()) {
      sendFailed = PQsendQueryPrepared(c, names[i]->c_str(), n, values.data(), lengths.data(), p.formats(), 0) != 1;
    } else {
      text.assign(statements[i].sql);
      sendFailed = PQsendQueryParams(c, text.c_str(), n, p.types(), values.data(), lengths.data(), p.formats(), 0) != 1;
    }
  }
  if (block && !sendFailed) sendFailed = sendPlain("COMMIT") != 1;
  if (PQpipelineSync(c) != 1) sendFailed = true;
  // Results in order: BEGIN, one per statement, COMMIT, then the sync. After a failure the
  // server skips to the sync (PIPELINE_ABORTED for each skipped query).
  std::vector<Result> out;
  out.reserve(statements.size());
  std::size_t query = 0;
  const auto first = drainPipeline(c, capability, operation, [&](ResultPtr r) {
    const std::size_t index = query++;
    const auto st = PQresultStatus(r.get());
    if ((st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) && (!block || (index >= 1 && index <= statements.size()))) {
      out.emplace_back(std::move(r));
    }
  });
  PQexitPipelineMode(c);
  // A failed statement leaves the transaction block open and aborted.
  if (ok() && txStatus() != PQTRANS_IDLE) ResultPtr(PQexec(c, "ROLLBACK"));
  if (first) throw *first;
  if (sendFailed || out.size() != statements.size() || query != statements.size() + (block ? 2 : 0)) {
    throwResult(nullptr, c, capability, operation);
  }
  return out;
}

std::int64_t Conn::copyIn(std::string_view copySql, std::string_view data, std::string_view capability,
                          std::string_view operation) {
  lastUsed_ = std::chrono::steady_clock::now();
  PGconn* c = conn_.get();
  std::string text(copySql);
  ResultPtr start(PQexec(c, text.c_str()));
  if (!start || PQresultStatus(start.get()) != PGRES_COPY_IN) {
    if (start && PQresultStatus(start.get()) == PGRES_FATAL_ERROR) throwResult(start.get(), c, capability, operation);
    throw Error(ErrorCode::Unsupported, std::string(capability), std::string(operation),
                "the server does not accept COPY FROM STDIN; using batched INSERT instead");
  }
  if (PQputCopyData(c, data.data(), static_cast<int>(data.size())) != 1 || PQputCopyEnd(c, nullptr) != 1) {
    throwResult(nullptr, c, capability, operation);
  }
  std::int64_t n = 0;
  std::optional<Error> failure;
  while (ResultPtr r{PQgetResult(c)}) {
    if (PQresultStatus(r.get()) == PGRES_COMMAND_OK) {
      n += Result(std::move(r)).affected();
    } else if (!failure) {
      try {
        throwResult(r.get(), c, capability, operation);
      } catch (const Error& e) {
        failure = e;
      }
    }
  }
  if (failure) throw *failure;
  return n;
}

std::string quoteIdent(std::string_view name) { return storage::quoteSql(name, '"'); }

std::string quoteLiteral(std::string_view s) { return storage::quoteSql(s, '\''); }

}  // namespace khive::postgres
