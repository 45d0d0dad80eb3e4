#pragma once
// Opens a storage backend from a location a person types.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "khive/runtime/config.h"
#include "khive/storage/backend.h"

namespace khive::runtime {

// Accepted forms:
//   sqlite::memory:               private in-memory SQLite database
//   sqlite:///abs/path.db         SQLite file (sqlite://rel/path.db for a relative path)
//   postgresql://... postgres://...   PostgreSQL (libpq URI)
// Throws Error(InvalidInput) for any other form; the backend's own errors (Driver when a
// server is down, Conflict for a schema newer than this build) propagate. `namespaces` is the
// PostgreSQL session grant (row-level security); SQLite ignores it.
std::unique_ptr<storage::Backend> openBackendUrl(std::string_view url, const std::vector<std::string>& namespaces,
                                                 const std::vector<std::string>& extraSymmetricRelations = {});

// A SQLite file at `path` (":memory:" for in-memory) with `readers` reader connections.
// Creates the parent directory. writerCacheMiB > 0 sets backends::SqliteOptions::writerCacheMiB
// (else its default).
std::unique_ptr<storage::Backend> openSqliteFile(const std::string& path,
                                                 const std::vector<std::string>& extraSymmetricRelations = {},
                                                 int readers = 4, std::int64_t writerCacheMiB = 0);

std::unique_ptr<storage::Backend> openConfigured(const BackendConfig& backend, const std::vector<std::string>& namespaces,
                                                 const std::vector<std::string>& extraSymmetricRelations = {});

// The store a server shares between its callers. When the engine enforces a caller's namespaces
// per connection (PostgreSQL row-level security), each namespace set gets a backend (a pool) of
// its own from `scoped`; otherwise `scoped` is empty and every caller uses `shared`.
struct ServedStore {
  std::shared_ptr<storage::Backend> shared;  // every namespace ("*")
  std::function<std::shared_ptr<storage::Backend>(const std::vector<std::string>& namespaces)> scoped;
};

// Pool settings of a served store's backends.
struct ServedPools {
  int poolSize = 4;
  std::chrono::milliseconds checkoutTimeout{5000};
};

// Opens the store a server runs on, found the way the CLI finds it: `db` (a SQLite file), else
// `backendUrl`, else the config's first backend, else the default database file.
ServedStore openServedStore(const std::optional<std::string>& db, const std::optional<std::string>& backendUrl,
                            const Config& config, const ServedPools& pools,
                            const std::vector<std::string>& extraSymmetricRelations = {});

}  // namespace khive::runtime
