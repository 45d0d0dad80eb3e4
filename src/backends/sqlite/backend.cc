#include <sqlite3.h>

#include "backends/sqlite/migrations.h"
#include "backends/sqlite/retrieval_stores.h"
#include "backends/sqlite/stores.h"
#include "khive/backends/sqlite.h"
#include "khive/query/sqlite_dialect.h"
#include "khive/storage/store_backend.h"

namespace khive {
namespace sqlite {
namespace {

// The Database and one object per capability (StoreBackend), with what only SQLite has.
// Thread-safe.
class SqliteBackend final
    : public storage::StoreBackend<Database, WorkUnit, SqliteSqlAccess, SqliteEntityStore, SqliteNoteStore,
                                   SqliteGraphStore, SqliteEventStore, SqliteVectorStore, SqliteSparseStore,
                                   SqliteTextSearch> {
 public:
  explicit SqliteBackend(const backends::SqliteOptions& options) : StoreBackend(options) {}

  storage::BackendInfo info() override {
    using storage::Capability;
    auto out = infoOf("sqlite", sqlite3_libversion(), backends::sqliteSchemaVersion());
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
  // SQLite's planner runs without statistics here on purpose: with ANALYZE statistics,
  // SQLite 3.40 plans the recursive step of a walk with a Bloom filter over the whole edge
  // table (docs/design-notes.md, "Traversal"); the database runs PRAGMA optimize when it closes.
  void refreshStatistics() override {}
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
