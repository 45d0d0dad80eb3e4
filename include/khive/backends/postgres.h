#pragma once
// The PostgreSQL backend: many writers at once (MVCC), row-level security per namespace,
// pgvector for vectors and tsvector for text. Talks to the server through libpq.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "khive/core/clock.h"
#include "khive/storage/backend.h"

namespace khive::backends {

struct PostgresOptions {
  // libpq connection string or URI for the application's connections
  // ("postgresql://khive_app@db.example:5432/khive", "host=... dbname=..."). The role it logs
  // in as should be the non-superuser application role: row-level security is only a wall
  // for roles that are neither superusers nor table owners.
  std::string url;
  // Connection string of the role that owns the schema, used only to run migrations (DDL,
  // extensions, policies, the application role). Empty: `url` runs them (it must then own
  // the schema, and RLS still applies to it because every table FORCEs it).
  std::string adminUrl;
  // Logs the application's connections in as this user instead of the one in `url` (the
  // tests reuse the superuser's URL and log in as the application role this way).
  std::string user;
  // Schema that holds khive's tables; created by the migrations when missing. Extensions
  // (vector, pg_trgm) live in `public`.
  std::string schema = "public";
  // The application role the migrations create and grant (NOLOGIN is never set: it logs in).
  // When the server logs every client in as one user (PGlite), the backend switches to it
  // with SET ROLE on each new connection.
  std::string appRole = "khive_app";
  // Namespaces this backend's sessions may see and write, as a `khive.scope` token signed with
  // the schema's key (which the process reads over the owner's connection at open: the
  // application role cannot forge a grant) and bound to one server session. The pool sets it
  // on a connection's first checkout and again whenever the session may have changed (raw SQL
  // ran, a transaction was left open, long idle, or a shared-session server such as PGlite,
  // where it is also reset on every return). {"*"} grants every namespace.
  std::vector<std::string> namespaces{"*"};
  int poolSize = 8;  // connections, opened lazily, at most this many
  // How long a caller waits for a free connection before Error(Pool).
  std::chrono::milliseconds checkoutTimeout{10000};
  // Server-side limit on one statement (statement_timeout); 0 = none.
  std::chrono::milliseconds statementTimeout{0};
  // Attempts of a write that fails with a serialization failure or deadlock.
  int maxRetries = 8;
  // Single-statement writes of concurrent callers (an upsert, a link, an event) share one
  // transaction and one commit (backends/postgres/write_groups.h): with many writers, one WAL
  // flush serves many of them. False: each runs in its own transaction, committed at once.
  bool groupWrites = true;
  // Read replicas: libpq URLs of hot standbys streaming from `url`'s server (logged in as
  // `user` like `url`). Reads go to a healthy replica, round robin; writes, migrations and the
  // scope key stay on `url`. Read-your-writes for this backend: a read after one of its writes
  // waits up to `replicaWait` until the replica has replayed the primary's WAL position as of
  // that write, otherwise it reads from the primary. A replica that cannot be reached, is not
  // in recovery, or lags more than `replicaMaxLag` is skipped and tried again after
  // `replicaRetry` (backends/postgres/replica_router.h).
  std::vector<std::string> replicas;
  std::chrono::milliseconds replicaWait{200};
  std::chrono::milliseconds replicaMaxLag{5000};
  std::chrono::milliseconds replicaRetry{1000};
  // Not owned; must outlive the backend. nullptr = the system clock.
  const Clock* clock = nullptr;
  // Relations stored canonically besides the default symmetric ones.
  std::vector<std::string> extraSymmetricRelations;
};

// Connects, migrates (under an advisory lock, so concurrent processes are safe) and returns
// the backend. Throws Error(Conflict) when the database schema is newer than this build,
// Error(Unavailable) when the server cannot be reached, Error(InvalidInput) for bad options and for
// a schema holding tables but no khive migration ledger (another program's: left untouched).
// The vector capability needs pgvector on the server: without it vectors() throws
// Error(Unsupported) naming the extension, and everything else works.
std::unique_ptr<storage::Backend> openPostgres(const PostgresOptions& options);

// The schema version this build writes.
int postgresSchemaVersion();

}  // namespace khive::backends
