#include "backends/postgres/migrations.h"
#include "backends/postgres/stores.h"
#include "khive/backends/postgres.h"

namespace khive {
namespace postgres {
namespace {

// Owns the Database and one object per capability. Thread-safe.
class PostgresBackend final : public storage::Backend {
 public:
  explicit PostgresBackend(const backends::PostgresOptions& options)
      : db_(options),
        sql_(db_),
        entities_(db_),
        notes_(db_),
        graph_(db_),
        events_(db_),
        text_(db_),
        vectors_(db_),
        sparse_(db_) {}

  storage::BackendInfo info() override {
    using storage::Capability;
    storage::BackendInfo out;
    out.engine = "postgres";
    out.engineVersion = db_.serverVersion();
    out.location = db_.location();
    out.schemaVersion = db_.schemaVersion();
    out.buildSchemaVersion = backends::postgresSchemaVersion();
    for (auto c : {Capability::Sql, Capability::Entities, Capability::Notes, Capability::Graph, Capability::Events,
                   Capability::Sparse, Capability::Text}) {
      out.capabilities.push_back({c, true, ""});
    }
    out.capabilities.push_back({Capability::Vectors, db_.hasVectors(), db_.hasVectors() ? "" : noVectors()});
    return out;
  }
  storage::SqlAccess& sql() override { return sql_; }
  storage::EntityStore& entities() override { return entities_; }
  storage::NoteStore& notes() override { return notes_; }
  storage::GraphStore& graph() override { return graph_; }
  storage::EventStore& events() override { return events_; }
  storage::VectorStore& vectors() override {
    if (!db_.hasVectors()) throw Error(ErrorCode::Unsupported, "vectors", "open", noVectors());
    return vectors_;
  }
  storage::SparseStore& sparse() override { return sparse_; }
  storage::TextSearch& text() override { return text_; }
  void setReadBudget(const storage::ReadBudget& budget) override { db_.setReadBudget(budget); }
  storage::ReadBudget readBudget() const override { return db_.readBudget(); }
  void refreshStatistics() override { db_.analyze(); }
  std::unique_ptr<storage::UnitOfWork> beginWork() override { return std::make_unique<WorkUnit>(db_); }

 private:
  std::string noVectors() const {
    return "the PostgreSQL server " + db_.serverVersion() +
           " has no pgvector extension ('vector'): install it (e.g. the postgresql-<version>-pgvector package or "
           "https://github.com/pgvector/pgvector) and reopen; khive then creates it and the vector tables";
  }

  Database db_;
  PgSqlAccess sql_;
  PgEntityStore entities_;
  PgNoteStore notes_;
  PgGraphStore graph_;
  PgEventStore events_;
  PgTextSearch text_;
  PgVectorStore vectors_;
  PgSparseStore sparse_;
};

}  // namespace
}  // namespace postgres

namespace backends {
std::unique_ptr<storage::Backend> openPostgres(const PostgresOptions& options) {
  return std::make_unique<postgres::PostgresBackend>(options);
}

int postgresSchemaVersion() { return postgres::migrations().back().version; }
}  // namespace backends

}  // namespace khive
