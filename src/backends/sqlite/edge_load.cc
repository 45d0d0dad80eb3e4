// The SQLite EdgeLoad. add() validates each edge and appends it to a table in a private,
// temporary on-disk database (no journal, no index; SQLite deletes the file on close), so
// staging takes no lock on the khive file and little memory. finish() reads the staged edges
// back sorted by the clustered key (source, target, relation, namespace) and upserts them
// in one write transaction: the inserts walk the edge table from left to right instead of
// landing on random pages, and each page is written about once. When the load is large
// next to the edges already stored, the table's secondary indexes are dropped first and
// built again by CREATE INDEX (one sort each) in the same transaction. edges_ns_created is
// kept: its key (namespace, created_at, then the clustered key) follows the load's own order,
// since add() stamps each batch with one time, so its rows append to a few pages; building
// it again cost a scan and a sort (~1.3 s of a 800k-edge import).
#include <fmt/format.h>

#include "backends/sqlite/stores.h"

namespace khive::sqlite {
namespace {

constexpr std::string_view kCap = "graph";
constexpr std::string_view kOp = "load_edges";
// Loads smaller than this write their rows into the indexes as they go.
constexpr std::int64_t kRebuildFrom = 20'000;

class SqliteEdgeLoad final : public storage::EdgeLoad {
 public:
  explicit SqliteEdgeLoad(Database& db) : db_(db), stage_(ConnOptions{.path = ""}) {
    stage_.exec(
        "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-16384; PRAGMA temp_store=FILE;"
        "CREATE TABLE staged (id TEXT, ns TEXT, source TEXT, target TEXT, relation TEXT, weight REAL, "
        "metadata TEXT, created_at INTEGER, updated_at INTEGER, deleted_at INTEGER)",
        kCap, kOp);
  }

  void add(std::span<const Edge> edges) override {
    if (finished_)
      throw Error(ErrorCode::InvalidInput, std::string(kCap), std::string(kOp), "the edge load is finished");
    const Micros now = db_.now();
    // Counted into the load only once the batch is staged: a failed batch leaves no trace.
    storage::BatchWriteSummary part;
    std::int64_t staged = 0;
    stage_.exec("BEGIN", kCap, kOp);
    try {
      auto insert = stage_.prepare("INSERT INTO staged VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)", kCap, kOp);
      for (const Edge& e : edges) {
        ++part.attempted;
        EdgeRow r;
        try {
          r = edgeRowOf(db_, e, now);
        } catch (const Error& err) {
          part.countFailure(err.what());
          continue;
        }
        bindEdgeRow(insert, r);
        insert.run();
        insert.reset();
        ++staged;
      }
      stage_.exec("COMMIT", kCap, kOp);
    } catch (...) {
      stage_.exec("ROLLBACK", kCap, kOp);
      throw;
    }
    summary_.merge(part);
    staged_ += staged;
  }

  storage::BatchWriteSummary finish() override {
    if (finished_ || staged_ == 0) {
      finished_ = true;
      return summary_;
    }
    // A failure (e.g. Timeout: another writer held the lock) writes nothing and keeps the
    // staged edges, so finish() may be called again.
    try {
      write(true);
    } catch (const Error& e) {
      // Rebuilding edges_id found two staged edges with one id and different natural keys:
      // write again with the indexes in place, which reports them row by row.
      if (e.code() != ErrorCode::AlreadyExists) throw;
      write(false);
    }
    finished_ = true;
    return summary_;
  }

 private:
  void write(bool mayRebuild) {
    storage::BatchWriteSummary written;
    WriteTx tx(db_, kCap, kOp);
    Conn& c = tx.conn();
    const bool noDeletedNodes = noSoftDeletedNodes(c);
    std::vector<std::string> rebuild;  // CREATE INDEX statements to run after the rows
    if (mayRebuild && staged_ >= kRebuildFrom) {
      auto stored = c.prepare("SELECT count(*) FROM (SELECT 1 FROM edges LIMIT ?)", kCap, kOp);
      stored.bindInt(1, staged_ / 2);
      stored.step();
      const bool few = stored.getInt(0) < staged_ / 2;
      stored.reset();  // a running statement would lock the schema against DROP INDEX
      if (few) {
        auto indexes = c.prepare(
            "SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'edges' AND sql IS NOT NULL "
            "AND name <> 'edges_ns_created'",
            kCap, kOp);
        std::vector<std::string> names;
        while (indexes.step()) {
          names.push_back(indexes.getText(0));
          rebuild.push_back(indexes.getText(1));
        }
        indexes.reset();
        for (const auto& name : names) c.exec(fmt::format("DROP INDEX \"{}\"", name), kCap, kOp);
      }
    }
    auto rows = stage_.prepare(
        "SELECT id, ns, source, target, relation, weight, metadata, created_at, updated_at, deleted_at FROM staged "
        "ORDER BY source, target, relation, ns, rowid",
        kCap, kOp);
    EdgeRow r;
    while (rows.step()) {
      r.id.assign(rows.getTextView(0));
      r.ns.assign(rows.getTextView(1));
      r.source.assign(rows.getTextView(2));
      r.target.assign(rows.getTextView(3));
      r.relation.assign(rows.getTextView(4));
      r.weight = rows.getDouble(5);
      r.metadata.assign(rows.getTextView(6));
      r.createdAt = rows.getInt(7);
      r.updatedAt = rows.getInt(8);
      r.deletedAt = rows.getOptInt(9);
      try {
        writeEdgeRow(c, r, noDeletedNodes);
        ++written.affected;
      } catch (const Error& e) {
        if (e.retryable()) throw;
        written.countFailure(e.what());
      }
    }
    rows.reset();
    for (const auto& sql : rebuild) c.exec(sql, kCap, kOp);
    tx.commit();
    summary_.merge(written);
  }

  Database& db_;
  Conn stage_;
  storage::BatchWriteSummary summary_;
  std::int64_t staged_ = 0;
  bool finished_ = false;
};

}  // namespace

std::unique_ptr<storage::EdgeLoad> makeEdgeLoad(Database& db) {
  return std::make_unique<SqliteEdgeLoad>(db);
}

}  // namespace khive::sqlite
