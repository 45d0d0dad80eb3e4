#include <sqlite3.h>

#include "backends/sqlite/migrations.h"
#include "backends/sqlite/retrieval_stores.h"
#include "backends/sqlite/stores.h"
#include "khive/backends/sqlite.h"
#include "khive/query/sqlite_dialect.h"

namespace khive {
namespace sqlite {
namespace {

// Owns the Database and one object per capability. Thread-safe.
class SqliteBackend final : public storage::Backend {
 public:
  explicit SqliteBackend(const backends::SqliteOptions& options)
      : db_(options), sql_(db_), entities_(db_), notes_(db_), graph_(db_), events_(db_), vectors_(db_), sparse_(db_),
        text_(db_) {}

  storage::BackendInfo info() override {
    using storage::Capability;
    storage::BackendInfo out;
    out.engine = "sqlite";
    out.engineVersion = sqlite3_libversion();
    out.location = db_.location();
    out.schemaVersion = db_.schemaVersion();
    out.buildSchemaVersion = backends::sqliteSchemaVersion();
    for (auto c : {Capability::Sql, Capability::Entities, Capability::Notes, Capability::Graph, Capability::Events,
                   Capability::Vectors, Capability::Sparse, Capability::Text}) {
      out.capabilities.push_back({c, true, ""});
    }
    return out;
  }
  const storage::SqlDialect& dialect() const override { return query::sqliteDialect(); }
  storage::BackendDiagnostics diagnostics() override {
    auto reader = sql_.reader();
    auto used = [&](const char* option) {
      return storage::asInt(reader->queryScalar("SELECT sqlite_compileoption_used(?1)", {std::string(option)})) != 0;
    };
    storage::BackendDiagnostics out;
    out.extensions["fts5"] = Json{{"present", used("ENABLE_FTS5")}};
    out.extensions["json1"] = Json{{"present", storage::asInt(reader->queryScalar("SELECT json_valid('{}')")) == 1}};
    out.extensions["faiss"] = Json{{"present", true}, {"detail", "vector index (FAISS) built in"}};
    return out;
  }
  std::string integrityCheck() override {
    std::string out;
    for (const auto& r : sql_.reader()->query("PRAGMA integrity_check").rows)
      out += (out.empty() ? "" : "; ") + storage::displayValue(r[0]);
    return out;
  }
  storage::SqlAccess& sql() override { return sql_; }
  storage::EntityStore& entities() override { return entities_; }
  storage::NoteStore& notes() override { return notes_; }
  storage::GraphStore& graph() override { return graph_; }
  storage::EventStore& events() override { return events_; }
  storage::VectorStore& vectors() override { return vectors_; }
  storage::SparseStore& sparse() override { return sparse_; }
  storage::TextSearch& text() override { return text_; }
  void setReadBudget(const storage::ReadBudget& budget) override { db_.setReadBudget(budget); }
  storage::ReadBudget readBudget() const override { return db_.readBudget(); }
  // SQLite's planner runs without statistics here on purpose: with ANALYZE statistics,
  // SQLite 3.40 plans the recursive step of a walk with a Bloom filter over the whole edge
  // table (docs/design-notes.md, "Traversal"); the database runs PRAGMA optimize when it closes.
  void refreshStatistics() override {}
  std::unique_ptr<storage::UnitOfWork> beginWork() override { return std::make_unique<WorkUnit>(db_); }

 private:
  Database db_;
  SqliteSqlAccess sql_;
  SqliteEntityStore entities_;
  SqliteNoteStore notes_;
  SqliteGraphStore graph_;
  SqliteEventStore events_;
  SqliteVectorStore vectors_;
  SqliteSparseStore sparse_;
  SqliteTextSearch text_;
};

}  // namespace
}  // namespace sqlite

namespace backends {
std::unique_ptr<storage::Backend> openSqlite(const SqliteOptions& options) {
  return std::make_unique<sqlite::SqliteBackend>(options);
}

int sqliteSchemaVersion() { return sqlite::migrations().back().version; }
}  // namespace backends

}  // namespace khive
