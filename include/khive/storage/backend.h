#pragma once
// A storage backend: one engine implementing the eight capabilities.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "khive/core/json.h"
#include "khive/storage/entity_store.h"
#include "khive/storage/event_store.h"
#include "khive/storage/graph_store.h"
#include "khive/storage/sql_access.h"
#include "khive/storage/sql_dialect.h"
#include "khive/storage/text_search.h"
#include "khive/storage/types.h"
#include "khive/storage/unit_of_work.h"
#include "khive/storage/vector_store.h"

namespace khive::storage {

struct BackendInfo {
  std::string engine;          // "sqlite", "postgres"
  std::string engineVersion;   // e.g. "3.40.1"
  std::string location;        // file path, ":memory:", or connection target (no password)
  int schemaVersion = 0;        // the database's
  int buildSchemaVersion = 0;   // the version this build's migrations bring it to
  std::vector<CapabilityStatus> capabilities;
};

// What the engine itself reports for `khive doctor`.
struct BackendDiagnostics {
  // The engine's own extensions for text and vectors, by name: {"present": bool, ...} with
  // the version, a detail or a hint where the engine has one.
  Json extensions = Json::object();
  // Problems found, each saying what to do about it.
  std::vector<std::string> problems;
  // Non-empty when the schema stays behind this build's version until an extension named in
  // `problems` is installed: what it waits for. Doctor reports it instead of a migration to run.
  std::string schemaNote;
};

// What a backend's connection pool and write grouping are doing, for monitoring (the /metrics of
// `khive serve`). A snapshot; value type.
struct BackendStats {
  int poolSize = 0;          // connections the pool opens at most; 0: the engine has no pool
  int connectionsOpen = 0;   // open now (idle + in use)
  int connectionsInUse = 0;  // checked out now
  int waiting = 0;           // callers waiting now for a connection to come free
  // writeGroupSizes[n]: groups of n concurrent single-statement writes committed together so
  // far (n >= 1; index 0 unused). Empty when the engine does not group writes.
  std::vector<std::uint64_t> writeGroupSizes;
};

// Thread-safe. Accessors for a capability the backend lacks throw Error(Unsupported) with a
// message that says what to install or configure.
class Backend {
 public:
  virtual ~Backend() = default;
  Backend() = default;
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;

  virtual BackendInfo info() = 0;
  // The engine's SQL dialect: the query compiler, the shared SQL builders and the runtime
  // write their SQL for this engine with it.
  virtual const SqlDialect& dialect() const = 0;
  // The engine's extensions and what is missing (doctor). Error(Driver) when it fails.
  virtual BackendDiagnostics diagnostics() = 0;
  // The engine's own check of the database's structure: "ok", or what it found, joined by
  // "; ". Error(Driver) when it cannot run.
  virtual std::string integrityCheck() = 0;
  virtual SqlAccess& sql() = 0;
  virtual EntityStore& entities() = 0;
  virtual NoteStore& notes() = 0;
  virtual GraphStore& graph() = 0;
  virtual EventStore& events() = 0;
  virtual VectorStore& vectors() = 0;
  virtual SparseStore& sparse() = 0;
  virtual TextSearch& text() = 0;

  // The budget of every read statement run on a reader from now on: SqlAccess::reader(),
  // read-only transactions, and the reads of every capability (get, query, neighbors,
  // shortestPath, search, ...). The default is unbounded. Thread-safe; statements already
  // running keep the budget they started with.
  virtual void setReadBudget(const ReadBudget& budget) = 0;
  virtual ReadBudget readBudget() const = 0;

  // Brings the query planner's statistics up to date after a bulk load (an import) changed
  // the size and shape of the tables, so the next queries are planned for the data as it now
  // is. Engines whose planner needs no refresh do nothing. Error(Driver) when it fails.
  virtual void refreshStatistics() = 0;

  // Opens a unit of work on the calling thread (unit_of_work.h).
  virtual std::unique_ptr<UnitOfWork> beginWork() = 0;

  // The pool and write-grouping counters now; an engine without either reports zeros.
  virtual BackendStats stats() { return {}; }
};

}  // namespace khive::storage
