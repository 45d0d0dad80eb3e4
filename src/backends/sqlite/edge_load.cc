// The SQLite EdgeLoad. add() validates each edge and keeps it in memory in a compact form
// (three 16-byte ids, the times and weight, the edge's input position, and indexes into the
// load's tables of relation and namespace names and of non-empty metadata texts): about 110
// bytes an edge, no lock on the khive file while the load fills. Nothing is written before
// finish(), so the load takes positions and can drop the latest edges (dropFrom). finish()
// sorts them by the clustered key (source, target, relation, namespace; the order they were
// added breaks ties) and upserts them in one write transaction: the inserts walk the edge
// table from left to right instead of landing on random pages, and each page is written
// about once. Into an empty edge table one INSERT ... SELECT over the staged edges writes
// them all (khive_staged_edges below). When the load is large next to the edges already
// stored, the table's secondary indexes are dropped first and built again by CREATE INDEX
// (one sort each, see buildIndexes) in the same transaction. That includes edges_ns_created:
// its key (namespace, created_at, ...) does not follow the load's order (each batch added has
// a time of its own), and keeping it made each row an insert into the middle of one of ~800
// pages (800k edges: rows 2.6-3.3 s with it kept, 0.9 s without; its build adds ~0.9 s).
#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <ranges>
#include <thread>
#include <unordered_map>

#include "backends/sqlite/stores.h"

namespace khive::sqlite {
namespace {

constexpr std::string_view kCap = "graph";
constexpr std::string_view kOp = "load_edges";
// Loads smaller than this write their rows into the indexes as they go.
constexpr std::int64_t kRebuildFrom = 20'000;

struct StagedEdge {
  Uuid source, target, id;  // source and target already in canonical order (symmetric relations)
  std::int64_t position = 0;  // in the input, as given to addAt()
  double weight = 1.0;
  Micros createdAt = 0, updatedAt = 0, deletedAt = 0;
  std::uint32_t relation = 0, ns = 0;  // indexes into the load's names
  std::uint32_t metadata = 0;          // index into the load's metadata texts; 0 is "{}"
  bool deleted = false;
};

// The staged edges, in blocks: growing never moves the edges already staged (one vector of
// 800k edges copied itself at every doubling, ~90 MB the last time, on the thread adding).
class StagedEdges {
 public:
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  StagedEdge& operator[](std::size_t i) { return blocks_[i / kBlock][i % kBlock]; }
  const StagedEdge& operator[](std::size_t i) const { return blocks_[i / kBlock][i % kBlock]; }
  void push_back(const StagedEdge& s) {
    if (size_ == blocks_.size() * kBlock) blocks_.push_back(std::make_unique<StagedEdge[]>(kBlock));
    (*this)[size_++] = s;
  }
  // Keeps the first n edges.
  void truncate(std::size_t n) {
    size_ = std::min(n, size_);
    blocks_.resize((size_ + kBlock - 1) / kBlock);
  }
  void release() {
    std::vector<std::unique_ptr<StagedEdge[]>>().swap(blocks_);
    size_ = 0;
  }

 private:
  static constexpr std::size_t kBlock = 1 << 15;
  std::vector<std::unique_ptr<StagedEdge[]>> blocks_;
  std::size_t size_ = 0;
};

struct NameHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

// The staged edges in write order, as one INSERT ... SELECT reads them: the table-valued
// function khive_staged_edges(?1), ?1 a pointer bound with sqlite3_bind_pointer. One statement
// then writes every row (cursors opened once, values read in place) instead of a bind, step
// and reset per edge.
struct StagedRows {
  const StagedEdges* staged = nullptr;
  const std::vector<std::uint32_t>* order = nullptr;
  const std::vector<std::string>* names = nullptr;
  const std::vector<std::string>* metadata = nullptr;
  std::int64_t yielded = 0;  // rows the statement read (one per natural key)
};
constexpr const char* kStagedRows = "khive_staged_edges";  // module name and pointer type

// One row per natural key: edges of one key are adjacent in write order, and their row is
// what upserting them one by one into an empty table leaves (the first edge's id and
// created_at; the last one's weight, metadata, updated_at and deleted_at).
struct RowsCursor : sqlite3_vtab_cursor {
  StagedRows* rows = nullptr;
  std::size_t at = 0, end = 0;  // the current key's edges: order[at, end)
  char id[36], source[36], target[36];

  const StagedEdge& edge(std::size_t k) const { return (*rows->staged)[(*rows->order)[k]]; }
  // Finds the current key's last edge and counts the row.
  void findEnd() {
    const std::size_t n = rows ? rows->order->size() : 0;
    end = std::min(at + 1, n);
    if (at >= n) return;
    ++rows->yielded;
    const StagedEdge& first = edge(at);
    while (end < n) {
      const StagedEdge& e = edge(end);
      if (e.source != first.source || e.target != first.target || e.relation != first.relation || e.ns != first.ns)
        break;
      ++end;
    }
  }
};

int rowsConnect(sqlite3* db, void*, int, const char* const*, sqlite3_vtab** out, char**) {
  const int rc = sqlite3_declare_vtab(db,
                                      "CREATE TABLE x(id, namespace, source_id, target_id, relation, weight, metadata, "
                                      "created_at, updated_at, deleted_at, rows HIDDEN)");
  if (rc != SQLITE_OK) return rc;
  auto* table = new (std::nothrow) sqlite3_vtab();
  if (!table) return SQLITE_NOMEM;
  *out = table;
  return SQLITE_OK;
}
int rowsDisconnect(sqlite3_vtab* table) {
  delete table;
  return SQLITE_OK;
}
// Only a plan with the rows pointer given (rows = ?) is usable.
int rowsBestIndex(sqlite3_vtab*, sqlite3_index_info* info) {
  for (int i = 0; i < info->nConstraint; ++i) {
    const auto& c = info->aConstraint[i];
    if (c.iColumn == 10 && c.op == SQLITE_INDEX_CONSTRAINT_EQ && c.usable) {
      info->aConstraintUsage[i].argvIndex = 1;
      info->aConstraintUsage[i].omit = 1;
      info->estimatedCost = 1;
      return SQLITE_OK;
    }
  }
  return SQLITE_CONSTRAINT;
}
int rowsOpen(sqlite3_vtab*, sqlite3_vtab_cursor** out) {
  auto* cursor = new (std::nothrow) RowsCursor();
  if (!cursor) return SQLITE_NOMEM;
  *out = cursor;
  return SQLITE_OK;
}
int rowsClose(sqlite3_vtab_cursor* cursor) {
  delete static_cast<RowsCursor*>(cursor);
  return SQLITE_OK;
}
int rowsFilter(sqlite3_vtab_cursor* base, int, const char*, int argc, sqlite3_value** argv) {
  auto* cursor = static_cast<RowsCursor*>(base);
  cursor->rows = argc == 1 ? static_cast<StagedRows*>(sqlite3_value_pointer(argv[0], kStagedRows)) : nullptr;
  if (cursor->rows) cursor->rows->yielded = 0;
  cursor->at = 0;
  cursor->findEnd();
  return SQLITE_OK;
}
int rowsNext(sqlite3_vtab_cursor* base) {
  auto* cursor = static_cast<RowsCursor*>(base);
  cursor->at = cursor->end;
  cursor->findEnd();
  return SQLITE_OK;
}
int rowsEof(sqlite3_vtab_cursor* base) {
  const auto* cursor = static_cast<RowsCursor*>(base);
  return !cursor->rows || cursor->at >= cursor->rows->order->size();
}
int rowsColumn(sqlite3_vtab_cursor* base, sqlite3_context* ctx, int column) {
  auto* cursor = static_cast<RowsCursor*>(base);
  const StagedRows& rows = *cursor->rows;
  const StagedEdge& s = cursor->edge(cursor->at);          // id, source, target, created_at
  const StagedEdge& last = cursor->edge(cursor->end - 1);  // the values that win
  auto text = [&](const std::string& t) { sqlite3_result_text64(ctx, t.data(), t.size(), SQLITE_STATIC, SQLITE_UTF8); };
  auto uuid = [&](const Uuid& u, char* buffer) {
    u.format(buffer);
    sqlite3_result_text64(ctx, buffer, 36, SQLITE_STATIC, SQLITE_UTF8);
  };
  switch (column) {
    case 0:
      uuid(s.id, cursor->id);
      break;
    case 1:
      text((*rows.names)[s.ns]);
      break;
    case 2:
      uuid(s.source, cursor->source);
      break;
    case 3:
      uuid(s.target, cursor->target);
      break;
    case 4:
      text((*rows.names)[s.relation]);
      break;
    case 5:
      sqlite3_result_double(ctx, last.weight);
      break;
    case 6:
      text((*rows.metadata)[last.metadata]);
      break;
    case 7:
      sqlite3_result_int64(ctx, s.createdAt);
      break;
    case 8:
      sqlite3_result_int64(ctx, last.updatedAt);
      break;
    case 9:
      if (last.deleted)
        sqlite3_result_int64(ctx, last.deletedAt);
      else
        sqlite3_result_null(ctx);
      break;
    default:
      sqlite3_result_null(ctx);
      break;
  }
  return SQLITE_OK;
}
int rowsRowid(sqlite3_vtab_cursor* base, sqlite3_int64* rowid) {
  *rowid = static_cast<sqlite3_int64>(static_cast<RowsCursor*>(base)->at);
  return SQLITE_OK;
}

// Eponymous-only (no xCreate) and read-only.
const sqlite3_module kStagedRowsModule = {
    /* iVersion */ 0,
    /* xCreate */ nullptr,
    rowsConnect,
    rowsBestIndex,
    rowsDisconnect,
    /* xDestroy */ nullptr,
    rowsOpen,
    rowsClose,
    rowsFilter,
    rowsNext,
    rowsEof,
    rowsColumn,
    rowsRowid};

// Runs the CREATE INDEX statements of a load's rebuild. SQLite sorts an index's rows with its
// external merge sort. With temp storage in memory (the writer's setting) the sort keeps every
// row in an allocation of its own and sorts them all as one list on this thread; with temp
// storage in files and a 4 MiB cache, it sorts runs of 4 MiB on worker threads while this one
// reads the table, then merges them (the runs go to temporary files, which the page cache
// mostly keeps). For an 800k-edge load the two index builds took 1.1-1.2 s instead of
// 4.0-4.3 s, and the import's peak memory fell by ~150 MB. The writer's settings come back
// afterwards. An in-memory database keeps its in-memory sorts (no files).
void buildIndexes(Database& db, Conn& c, const std::vector<std::string>& statements) {
  if (statements.empty()) return;
  if (db.inMemory()) {
    for (const auto& sql : statements) c.exec(sql, kCap, kOp);
    return;
  }
  auto setting = [&](const char* pragma) {
    auto stmt = c.prepare(fmt::format("PRAGMA {}", pragma), kCap, kOp);
    stmt.step();
    const std::int64_t v = stmt.getInt(0);
    stmt.reset();
    return v;
  };
  const std::int64_t cacheSize = setting("cache_size"), threads = setting("threads"), tempStore = setting("temp_store");
  try {
    c.exec("PRAGMA temp_store=FILE;", kCap, kOp);
  } catch (const Error&) {
    // SQLite keeps the setting while its temporary database is open in a transaction.
    for (const auto& sql : statements) c.exec(sql, kCap, kOp);
    return;
  }
  const unsigned workers = std::clamp(std::thread::hardware_concurrency(), 1u, 4u);
  c.exec(fmt::format("PRAGMA threads={}; PRAGMA cache_size=-4096;", workers), kCap, kOp);
  auto restore = [&] {
    c.exec(fmt::format("PRAGMA cache_size={}; PRAGMA threads={};", cacheSize, threads), kCap, kOp);
    try {
      c.exec(fmt::format("PRAGMA temp_store={};", tempStore), kCap, kOp);
    } catch (const Error&) {
      // As above: the writer then keeps file temp storage, which serves it as well.
    }
  };
  try {
    for (const auto& sql : statements) c.exec(sql, kCap, kOp);
  } catch (...) {
    try {
      restore();
    } catch (const Error&) {
      // The statement's own error is the one to report.
    }
    throw;
  }
  restore();
}

class SqliteEdgeLoad final : public storage::EdgeLoad {
 public:
  explicit SqliteEdgeLoad(Database& db) : db_(db) { metadata_.emplace_back("{}"); }

  void add(std::span<const Edge> edges) override {
    const std::vector<std::int64_t> positions(edges.size(), lastPosition_);
    addAt(edges, positions);
  }

  bool holdsUntilFinish() const override { return true; }

  void addAt(std::span<const Edge> edges, std::span<const std::int64_t> positions) override {
    if (finished_)
      throw Error(ErrorCode::InvalidInput, std::string(kCap), std::string(kOp), "the edge load is finished");
    if (positions.size() != edges.size())
      throw Error(ErrorCode::InvalidInput, std::string(kCap), std::string(kOp), "one position per edge");
    const Micros now = db_.now();
    // A batch that throws leaves no trace.
    const std::size_t before = staged_.size(), metadataBefore = metadata_.size(), failuresBefore = failures_.size();
    const std::int64_t lastBefore = lastPosition_;
    try {
      for (std::size_t k = 0; k < edges.size(); ++k) {
        const Edge& e = edges[k];
        if (positions[k] < lastPosition_)
          throw Error(ErrorCode::InvalidInput, std::string(kCap), std::string(kOp), "positions must not decrease");
        lastPosition_ = positions[k];
        EdgeForm form;
        try {
          form = storedFormOf(db_, e, now);
        } catch (const Error& err) {
          failures_.push_back({positions[k], err.what()});
          continue;
        }
        StagedEdge s;
        s.source = form.source;
        s.target = form.target;
        s.id = e.id;
        s.position = positions[k];
        s.weight = e.weight;
        s.createdAt = form.createdAt;
        s.updatedAt = form.updatedAt;
        s.deleted = e.deletedAt.has_value();
        s.deletedAt = e.deletedAt.value_or(0);
        s.relation = nameIndex(e.relation);
        s.ns = nameIndex(e.ns);
        if (!e.metadata.empty()) {
          s.metadata = static_cast<std::uint32_t>(metadata_.size());
          metadata_.push_back(e.metadata.dump());
        }
        staged_.push_back(s);
      }
    } catch (...) {
      staged_.truncate(before);
      metadata_.resize(metadataBefore);
      failures_.resize(failuresBefore);
      lastPosition_ = lastBefore;
      throw;
    }
  }

  void dropFrom(std::int64_t position) override {
    if (finished_)
      throw Error(ErrorCode::InvalidInput, std::string(kCap), std::string(kOp), "the edge load is finished");
    // Positions never decrease: the first edge at or after `position` starts the dropped ones.
    const std::size_t firstDropped =
        *std::ranges::partition_point(std::views::iota(std::size_t{0}, staged_.size()),
                                      [&](std::size_t i) { return staged_[i].position < position; });
    // Metadata texts were appended in staging order: the first dropped one ends the kept ones.
    for (std::size_t i = firstDropped; i < staged_.size(); ++i) {
      if (staged_[i].metadata != 0) {
        metadata_.resize(staged_[i].metadata);
        break;
      }
    }
    staged_.truncate(firstDropped);
    failures_.erase(std::partition_point(failures_.begin(), failures_.end(),
                                         [&](const Failure& f) { return f.position < position; }),
                    failures_.end());
    lastPosition_ = std::min(lastPosition_, position);
  }

  storage::BatchWriteSummary finish() override {
    if (finished_) return summary_;
    storage::BatchWriteSummary written;
    if (!staged_.empty()) {
      // A failure (e.g. Timeout: another writer held the lock) writes nothing and keeps the
      // staged edges, so finish() may be called again.
      try {
        written = write(true);
      } catch (const Error& e) {
        // Rebuilding edges_id found two staged edges with one id and different natural keys:
        // write again with the indexes in place, which reports them row by row.
        if (e.code() != ErrorCode::AlreadyExists) throw;
        written = write(false);
      }
    }
    finished_ = true;
    for (const auto& f : failures_) {
      ++summary_.attempted;
      summary_.countFailure(f.message);
    }
    written.attempted = staged_.size();
    summary_.merge(written);
    staged_.release();
    std::vector<std::string>().swap(metadata_);
    std::vector<Failure>().swap(failures_);
    return summary_;
  }

 private:
  std::uint32_t nameIndex(const std::string& name) {
    if (auto it = nameIds_.find(std::string_view(name)); it != nameIds_.end()) return it->second;
    const auto id = static_cast<std::uint32_t>(names_.size());
    names_.push_back(name);
    nameIds_.emplace(name, id);
    return id;
  }

  // The staged edges' positions in clustered-key order, ties in the order they were added
  // (as ORDER BY source, target, relation, namespace over the TEXT columns would give: a
  // canonical UUID's text sorts as its bytes).
  std::vector<std::uint32_t> clusteredOrder() const {
    std::vector<std::uint32_t> nameRank(names_.size());
    {
      std::vector<std::uint32_t> byName(names_.size());
      for (std::uint32_t i = 0; i < byName.size(); ++i) byName[i] = i;
      std::sort(byName.begin(), byName.end(), [&](auto a, auto b) { return names_[a] < names_[b]; });
      for (std::uint32_t r = 0; r < byName.size(); ++r) nameRank[byName[r]] = r;
    }
    // Sorting (first 8 bytes of the source, position) pairs keeps the sort in cache; only
    // ties on that prefix look at the rows.
    struct Key {
      std::uint64_t prefix;
      std::uint32_t pos;
    };
    std::vector<Key> keys(staged_.size());
    for (std::uint32_t i = 0; i < keys.size(); ++i) {
      std::uint64_t p = 0;
      for (int b = 0; b < 8; ++b) p = (p << 8) | staged_[i].source.bytes()[static_cast<std::size_t>(b)];
      keys[i] = {p, i};
    }
    std::sort(keys.begin(), keys.end(), [&](const Key& a, const Key& b) {
      if (a.prefix != b.prefix) return a.prefix < b.prefix;
      const StagedEdge& x = staged_[a.pos];
      const StagedEdge& y = staged_[b.pos];
      if (auto c = x.source <=> y.source; c != 0) return c < 0;
      if (auto c = x.target <=> y.target; c != 0) return c < 0;
      if (x.relation != y.relation) return nameRank[x.relation] < nameRank[y.relation];
      if (x.ns != y.ns) return nameRank[x.ns] < nameRank[y.ns];
      return a.pos < b.pos;
    });
    std::vector<std::uint32_t> order(keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) order[i] = keys[i].pos;
    return order;
  }

  // The rows written and refused by the transaction that committed.
  storage::BatchWriteSummary write(bool mayRebuild) {
    const std::vector<std::uint32_t> order = clusteredOrder();
    const auto count = static_cast<std::int64_t>(staged_.size());
    storage::BatchWriteSummary written;
    WriteTx tx(db_, kCap, kOp);
    Conn& c = tx.conn();
    const bool noDeletedNodes = noSoftDeletedNodes(c);
    bool tableWasEmpty = false;
    {
      auto any = c.prepare("SELECT NOT EXISTS (SELECT 1 FROM edges)", kCap, kOp);
      any.step();
      tableWasEmpty = any.getInt(0) != 0;
    }
    std::vector<std::string> rebuild;  // CREATE INDEX statements to run after the rows
    if (mayRebuild && count >= kRebuildFrom) {
      auto stored = c.prepare("SELECT count(*) FROM (SELECT 1 FROM edges LIMIT ?)", kCap, kOp);
      stored.bindInt(1, count / 2);
      stored.step();
      const bool few = stored.getInt(0) < count / 2;
      stored.reset();  // a running statement would lock the schema against DROP INDEX
      if (few) {
        auto indexes = c.prepare(
            "SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'edges' AND sql IS NOT NULL", kCap,
            kOp);
        std::vector<std::string> names;
        while (indexes.step()) {
          names.push_back(indexes.getText(0));
          rebuild.push_back(indexes.getText(1));
        }
        indexes.reset();
        for (const auto& name : names) c.exec(fmt::format("DROP INDEX \"{}\"", name), kCap, kOp);
      }
    }
    // Into an empty table with no soft-deleted node (a first import), every row is new and its
    // endpoint state 0: one statement inserts a row per natural key (RowsCursor). A row it
    // ignores broke a constraint or reused a stored edge's id; then every edge is written
    // again one by one below, which reports it (the rows inserted are found and rewritten
    // with the same values).
    if (noDeletedNodes && tableWasEmpty) {
      c.registerModule(kStagedRows, &kStagedRowsModule, kCap, kOp);
      auto bulk = c.prepare(
          "INSERT OR IGNORE INTO edges (id, namespace, source_id, target_id, relation, weight, metadata, created_at, "
          "updated_at, deleted_at, endpoint_deleted) SELECT id, namespace, source_id, target_id, relation, weight, "
          "metadata, created_at, updated_at, deleted_at, 0 FROM khive_staged_edges(?1)",
          kCap, kOp);
      StagedRows rows{.staged = &staged_, .order = &order, .names = &names_, .metadata = &metadata_};
      sqlite3_bind_pointer(bulk.raw(), 1, &rows, kStagedRows, nullptr);
      if (bulk.run() == rows.yielded) {
        written.affected = static_cast<std::size_t>(count);
        buildIndexes(db_, c, rebuild);
        tx.commit();
        return written;
      }
    }
    EdgeRow r;
    for (std::uint32_t pos : order) {
      const StagedEdge& s = staged_[pos];
      r.id.resize(36);
      s.id.format(r.id.data());
      r.source.resize(36);
      s.source.format(r.source.data());
      r.target.resize(36);
      s.target.format(r.target.data());
      r.ns.assign(names_[s.ns]);
      r.relation.assign(names_[s.relation]);
      r.metadata.assign(metadata_[s.metadata]);
      r.weight = s.weight;
      r.createdAt = s.createdAt;
      r.updatedAt = s.updatedAt;
      r.deletedAt = s.deleted ? std::optional<Micros>(s.deletedAt) : std::nullopt;
      try {
        writeEdgeRow(c, r, noDeletedNodes);
        ++written.affected;
      } catch (const Error& e) {
        if (e.retryable()) throw;
        written.countFailure(e.what());
      }
    }
    buildIndexes(db_, c, rebuild);
    tx.commit();
    return written;
  }

  Database& db_;
  StagedEdges staged_;
  std::vector<std::string> names_;  // relation and namespace names, by index
  std::unordered_map<std::string, std::uint32_t, NameHash, std::equal_to<>> nameIds_;
  std::vector<std::string> metadata_;  // metadata texts other than "{}", by index (0 is "{}")
  struct Failure {
    std::int64_t position;
    std::string message;
  };
  std::vector<Failure> failures_;  // edges add() refused, in input order
  std::int64_t lastPosition_ = 0;
  storage::BatchWriteSummary summary_;  // returned by finish()
  bool finished_ = false;
};

}  // namespace

std::unique_ptr<storage::EdgeLoad> makeEdgeLoad(Database& db) {
  return std::make_unique<SqliteEdgeLoad>(db);
}

}  // namespace khive::sqlite
