#include <sqlite3.h>

#include "backends/sqlite/migrations.h"
#include "backends/sqlite/stores.h"
#include "khive/backends/sqlite.h"

namespace khive {
namespace sqlite {
namespace {

// Owns the Database and one object per capability. Thread-safe.
class SqliteBackend final : public storage::Backend {
 public:
  explicit SqliteBackend(const backends::SqliteOptions& options)
      : db_(options), sql_(db_), entities_(db_), notes_(db_), graph_(db_), events_(db_) {}

  storage::BackendInfo info() override {
    using storage::Capability;
    storage::BackendInfo out;
    out.engine = "sqlite";
    out.engineVersion = sqlite3_libversion();
    out.location = db_.location();
    out.schemaVersion = db_.schemaVersion();
    for (auto c : {Capability::Sql, Capability::Entities, Capability::Notes, Capability::Graph, Capability::Events}) {
      out.capabilities.push_back({c, true, ""});
    }
    for (auto c : {Capability::Vectors, Capability::Sparse, Capability::Text}) {
      out.capabilities.push_back({c, false, unsupportedDetail(c)});
    }
    return out;
  }
  storage::SqlAccess& sql() override { return sql_; }
  storage::EntityStore& entities() override { return entities_; }
  storage::NoteStore& notes() override { return notes_; }
  storage::GraphStore& graph() override { return graph_; }
  storage::EventStore& events() override { return events_; }
  storage::VectorStore& vectors() override { throw unsupported(storage::Capability::Vectors); }
  storage::SparseStore& sparse() override { throw unsupported(storage::Capability::Sparse); }
  storage::TextSearch& text() override { throw unsupported(storage::Capability::Text); }

 private:
  static std::string unsupportedDetail(storage::Capability c) {
    return std::string("this khive build has no SQLite ") + storage::capabilityName(c) +
           " capability yet; build khive with the retrieval layer";
  }
  static Error unsupported(storage::Capability c) {
    return Error(ErrorCode::Unsupported, storage::capabilityName(c), "open", unsupportedDetail(c));
  }

  Database db_;
  SqliteSqlAccess sql_;
  SqliteEntityStore entities_;
  SqliteNoteStore notes_;
  SqliteGraphStore graph_;
  SqliteEventStore events_;
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
