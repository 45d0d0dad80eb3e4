#include "backends/postgres/migrations.h"
#include "backends/postgres/replica_router.h"
#include "backends/postgres/stores.h"
#include "khive/backends/postgres.h"
#include "khive/query/postgres_dialect.h"
#include "khive/storage/store_backend.h"

namespace khive {
namespace postgres {
namespace {

// The Database and one object per capability (StoreBackend), with what only PostgreSQL
// has. Thread-safe.
class PostgresBackend final
    : public storage::StoreBackend<Database, WorkUnit, PgSqlAccess, PgEntityStore, PgNoteStore, PgGraphStore,
                                   PgEventStore, PgVectorStore, PgSparseStore, PgTextSearch> {
 public:
  explicit PostgresBackend(const backends::PostgresOptions& options) : StoreBackend(options) {}

  storage::BackendInfo info() override {
    using storage::Capability;
    auto out = infoOf("postgres", db_.serverVersion(), backends::postgresSchemaVersion());
    for (auto c : {Capability::Sql, Capability::Entities, Capability::Notes, Capability::Graph, Capability::Events,
                   Capability::Sparse, Capability::Text}) {
      out.capabilities.push_back({c, true, ""});
    }
    out.capabilities.push_back({Capability::Vectors, db_.hasVectors(), db_.hasVectors() ? "" : noVectors()});
    return out;
  }
  const storage::SqlDialect& dialect() const override { return query::postgresDialect(); }
  // The extensions of the database; without pgvector the vector migration waits for it, so the
  // schema stays one version behind until it is installed.
  storage::BackendDiagnostics diagnostics() override {
    auto reader = sql_.reader();
    storage::BackendDiagnostics out;
    for (const auto& r : reader->query("SELECT extname, extversion FROM pg_extension ORDER BY extname").rows)
      out.extensions[storage::asText(r[0])] = Json{{"present", true}, {"version", storage::asText(r[1])}};
    if (!out.extensions.contains("vector")) {
      auto avail = reader->query("SELECT default_version FROM pg_available_extensions WHERE name = 'vector'").rows;
      std::string hint =
          avail.empty()
              ? "pgvector is not installed on the server: apt install postgresql-15-pgvector (match your server's "
                "major version), then CREATE EXTENSION vector; (khive creates it when it may)"
              : "pgvector is available but not created in this database: CREATE EXTENSION vector;";
      out.extensions["vector"] = Json{{"present", false}, {"available", !avail.empty()}, {"hint", hint}};
      out.problems.push_back("no pgvector: " + hint);
    }
    if (auto* router = db_.replicas()) {
      for (auto& p : router->problems()) out.problems.push_back(std::move(p));
    }
    if (!db_.hasVectors() && db_.schemaVersion() < backends::postgresSchemaVersion())
      out.schemaNote = "the pgvector migration waits for the extension";
    return out;
  }
  // PostgreSQL keeps its own structures consistent (checksums, WAL); the check here is that the
  // server answers on this backend's session.
  std::string integrityCheck() override {
    sql_.reader()->queryScalar("SELECT 1");
    return "ok";
  }
  storage::VectorStore& vectors() override {
    if (!db_.hasVectors()) throw Error(ErrorCode::Unsupported, "vectors", "open", noVectors());
    return vectors_;
  }
  void refreshStatistics() override { db_.analyze(); }
  storage::BackendStats stats() override { return db_.stats(); }

 private:
  std::string noVectors() const {
    return "the PostgreSQL server " + db_.serverVersion() +
           " has no pgvector extension ('vector'): install it (e.g. the postgresql-<version>-pgvector package or "
           "https://github.com/pgvector/pgvector) and reopen; khive then creates it and the vector tables";
  }
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
