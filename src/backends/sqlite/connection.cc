#include "backends/sqlite/connection.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "backends/sqlite/wal_vfs.h"

namespace khive::sqlite {

namespace {
constexpr std::size_t kMaxCachedStatements = 256;

bool onlyTrailingNoise(const char* tail) {
  // Whitespace, semicolons and SQL comments may follow the statement; nothing else.
  const char* p = tail;
  while (*p) {
    if (std::isspace(static_cast<unsigned char>(*p)) || *p == ';') {
      ++p;
    } else if (p[0] == '-' && p[1] == '-') {
      while (*p && *p != '\n') ++p;
    } else if (p[0] == '/' && p[1] == '*') {
      const char* end = std::strstr(p + 2, "*/");
      if (!end) return true;
      p = end + 2;
    } else {
      return false;
    }
  }
  return true;
}
}  // namespace

void throwSqlite(sqlite3* db, int rc, std::string_view capability, std::string_view operation) {
  std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  int ext = db ? sqlite3_extended_errcode(db) : rc;
  ErrorCode code = ErrorCode::Driver;
  switch (rc & 0xFF) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      code = ErrorCode::Timeout;
      msg += " (another connection holds the database lock; retry, or raise the busy timeout)";
      break;
    case SQLITE_INTERRUPT:
      code = ErrorCode::Timeout;
      msg = "the operation ran past its time budget and was interrupted";
      break;
    case SQLITE_CONSTRAINT:
      code = (ext == SQLITE_CONSTRAINT_PRIMARYKEY || ext == SQLITE_CONSTRAINT_UNIQUE) ? ErrorCode::AlreadyExists
                                                                                       : ErrorCode::InvalidInput;
      break;
    case SQLITE_ERROR:
    case SQLITE_RANGE:
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
      code = ErrorCode::InvalidInput;
      break;
    case SQLITE_READONLY:
      code = ErrorCode::InvalidInput;
      msg += " (this connection is read-only; write through writer() or begin())";
      break;
    default:
      break;
  }
  throw Error(code, std::string(capability), std::string(operation), msg);
}

Stmt::~Stmt() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Stmt& Stmt::bind(int index, const storage::SqlValue& value) {
  using namespace storage;
  int rc = SQLITE_OK;
  if (std::holds_alternative<std::monostate>(value)) {
    rc = sqlite3_bind_null(stmt_, index);
  } else if (auto b = std::get_if<bool>(&value)) {
    rc = sqlite3_bind_int64(stmt_, index, *b ? 1 : 0);
  } else if (auto i = std::get_if<std::int64_t>(&value)) {
    rc = sqlite3_bind_int64(stmt_, index, *i);
  } else if (auto d = std::get_if<double>(&value)) {
    rc = sqlite3_bind_double(stmt_, index, *d);
  } else if (auto s = std::get_if<std::string>(&value)) {
    rc = sqlite3_bind_text64(stmt_, index, s->data(), s->size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  } else if (auto bl = std::get_if<Blob>(&value)) {
    rc = sqlite3_bind_blob64(stmt_, index, bl->data(), bl->size(), SQLITE_TRANSIENT);
  } else if (auto j = std::get_if<JsonParam>(&value)) {
    std::string text = j->value.dump();
    rc = sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  } else if (auto u = std::get_if<Uuid>(&value)) {
    std::string text = u->str();
    rc = sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  } else if (auto t = std::get_if<Timestamp>(&value)) {
    rc = sqlite3_bind_int64(stmt_, index, t->micros);
  }
  if (rc != SQLITE_OK) throwSqlite(db_, rc, capability_, operation_);
  return *this;
}

Stmt& Stmt::bindAll(const storage::SqlParams& params) {
  int expected = sqlite3_bind_parameter_count(stmt_);
  if (static_cast<int>(params.size()) != expected) {
    throw Error(ErrorCode::InvalidInput, std::string(capability_), std::string(operation_),
                fmt::format("the statement takes {} parameter(s) but {} were given", expected, params.size()));
  }
  for (std::size_t i = 0; i < params.size(); ++i) bind(static_cast<int>(i + 1), params[i]);
  return *this;
}

Stmt& Stmt::bindText(int index, std::string_view text) {
  int rc = sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK) throwSqlite(db_, rc, capability_, operation_);
  return *this;
}
Stmt& Stmt::bindInt(int index, std::int64_t v) {
  int rc = sqlite3_bind_int64(stmt_, index, v);
  if (rc != SQLITE_OK) throwSqlite(db_, rc, capability_, operation_);
  return *this;
}
Stmt& Stmt::bindDouble(int index, double v) {
  int rc = sqlite3_bind_double(stmt_, index, v);
  if (rc != SQLITE_OK) throwSqlite(db_, rc, capability_, operation_);
  return *this;
}
Stmt& Stmt::bindNull(int index) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK) throwSqlite(db_, rc, capability_, operation_);
  return *this;
}
Stmt& Stmt::bindOptText(int index, const std::optional<std::string>& v) {
  return v ? bindText(index, *v) : bindNull(index);
}
Stmt& Stmt::bindOptInt(int index, const std::optional<std::int64_t>& v) {
  return v ? bindInt(index, *v) : bindNull(index);
}
Stmt& Stmt::bindOptDouble(int index, const std::optional<double>& v) {
  return v ? bindDouble(index, *v) : bindNull(index);
}

bool Stmt::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  if (conn_ && rc == SQLITE_INTERRUPT) conn_->throwInterrupted(rc, capability_, operation_);
  throwSqlite(db_, rc, capability_, operation_);
}

std::int64_t Stmt::run() {
  while (step()) {
  }
  return sqlite3_changes64(db_);
}

void Stmt::reset() {
  sqlite3_reset(stmt_);
}

std::string Stmt::getText(int col) const {
  auto p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  if (!p) return {};
  return std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)));
}

std::string_view Stmt::getTextView(int col) const {
  auto p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  if (!p) return {};
  return std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)));
}

std::optional<std::string> Stmt::getOptText(int col) const {
  if (isNull(col)) return std::nullopt;
  return getText(col);
}
std::optional<std::int64_t> Stmt::getOptInt(int col) const {
  if (isNull(col)) return std::nullopt;
  return getInt(col);
}
std::optional<double> Stmt::getOptDouble(int col) const {
  if (isNull(col)) return std::nullopt;
  return getDouble(col);
}

storage::SqlValue Stmt::getValue(int col) const {
  switch (sqlite3_column_type(stmt_, col)) {
    case SQLITE_INTEGER: return static_cast<std::int64_t>(sqlite3_column_int64(stmt_, col));
    case SQLITE_FLOAT: return sqlite3_column_double(stmt_, col);
    case SQLITE_TEXT: return getText(col);
    case SQLITE_BLOB: {
      auto p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, col));
      auto n = static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col));
      return storage::Blob(p, p + n);
    }
    default: return std::monostate{};
  }
}

namespace {
// Process-wide library settings, applied once before the first connection opens. Memory
// statistics are off: with them on, every allocation inside SQLite takes a global mutex.
void configureLibrary() {
  static const bool configured = [] {
    // SQLITE_MISUSE means the library was initialised already (by another user of SQLite in
    // this process); the defaults then stay, which is only slower.
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return true;
  }();
  (void)configured;
}
}  // namespace

void Conn::registerModule(const char* name, const sqlite3_module* module, std::string_view capability,
                          std::string_view operation) {
  if (std::find(modules_.begin(), modules_.end(), name) != modules_.end()) return;
  const int rc = sqlite3_create_module_v2(db(), name, module, nullptr, nullptr);
  if (rc != SQLITE_OK) throwSqlite(db(), rc, capability, operation);
  modules_.emplace_back(name);
}

Conn::Conn(const ConnOptions& options) {
  configureLibrary();
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX |
              (options.readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
  // A URI naming another VFS (memdb for :memory:) overrides this one.
  int rc = sqlite3_open_v2(options.path.c_str(), &raw, flags, walBufferingVfs());
  db_.reset(raw);
  if (rc != SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    throw Error(ErrorCode::Driver, "sql", "open",
                fmt::format("cannot open SQLite database '{}': {}", options.path, msg));
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, static_cast<int>(options.busyTimeout.count()));
  sqlite3_progress_handler(raw, 1000, &Conn::progressCallback, this);
}

// Runs every thousand virtual-machine instructions of a statement on this connection.
int Conn::progressCallback(void* self) {
  auto& c = *static_cast<Conn*>(self);
  if (c.budget_.work > 0 && ++c.ticks_ > c.budget_.work) {
    c.stop_ = Stop::Work;
    return 1;
  }
  if (!c.deadline_ && !c.budgetEnd_) return 0;
  const auto now = std::chrono::steady_clock::now();
  if (c.deadline_ && now > *c.deadline_) {
    c.stop_ = Stop::Deadline;
    return 1;
  }
  if (c.budgetEnd_ && now > *c.budgetEnd_) {
    c.stop_ = Stop::Time;
    return 1;
  }
  return 0;
}

void Conn::setBudget(const storage::ReadBudget& budget) {
  budget_ = budget;
  budgetEnd_.reset();
  ticks_ = 0;
}

void Conn::armBudget() {
  stop_ = Stop::None;
  ticks_ = 0;
  if (budget_.time.count() > 0) budgetEnd_ = std::chrono::steady_clock::now() + budget_.time;
}

void Conn::throwInterrupted(int rc, std::string_view capability, std::string_view operation) const {
  switch (stop_) {
    case Stop::Time: storage::throwTimeBudgetExceeded(budget_.time, capability, operation);
    case Stop::Work: storage::throwWorkBudgetExceeded(budget_.work, capability, operation);
    default: throwSqlite(db_.get(), rc, capability, operation);
  }
}

void Conn::setDeadline(std::optional<std::chrono::steady_clock::time_point> deadline) { deadline_ = deadline; }

bool Conn::deadlinePassed() const {
  return deadline_ && std::chrono::steady_clock::now() > *deadline_;
}

Stmt Conn::prepare(std::string_view sql, std::string_view capability, std::string_view operation) {
  armBudget();
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    std::string key(sql);
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v3(db_.get(), key.c_str(), static_cast<int>(key.size()), SQLITE_PREPARE_PERSISTENT,
                                &raw, &tail);
    if (rc != SQLITE_OK) throwSqlite(db_.get(), rc, capability, operation);
    StmtPtr owned(raw);
    if (!raw) {
      throw Error(ErrorCode::InvalidInput, std::string(capability), std::string(operation),
                  "the SQL text holds no statement");
    }
    if (tail && !onlyTrailingNoise(tail)) {
      throw Error(ErrorCode::InvalidInput, std::string(capability), std::string(operation),
                  "the SQL text holds more than one statement; run one statement per call");
    }
    // A full cache does not evict (an evicted statement may be in use further up the stack):
    // the statement is used once and finalized by its Stmt.
    if (cache_.size() >= kMaxCachedStatements)
      return Stmt(db_.get(), raw, capability, operation, std::move(owned), this);
    it = cache_.emplace(std::move(key), std::move(owned)).first;
  }
  return Stmt(db_.get(), it->second.get(), capability, operation, nullptr, this);
}

void Conn::exec(std::string_view sql, std::string_view capability, std::string_view operation) {
  std::string text(sql);
  char* err = nullptr;
  armBudget();
  int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    sqlite3_free(err);
    if (rc == SQLITE_INTERRUPT) throwInterrupted(rc, capability, operation);
    throwSqlite(db_.get(), rc, capability, operation);
  }
}

}  // namespace khive::sqlite
