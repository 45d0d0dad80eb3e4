#pragma once
// Opens a storage backend from a location a person types.

#include <memory>
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

// A SQLite file at `path` (":memory:" for in-memory). Creates the parent directory.
std::unique_ptr<storage::Backend> openSqliteFile(const std::string& path,
                                                 const std::vector<std::string>& extraSymmetricRelations = {});

std::unique_ptr<storage::Backend> openConfigured(const BackendConfig& backend, const std::vector<std::string>& namespaces,
                                                 const std::vector<std::string>& extraSymmetricRelations = {});

}  // namespace khive::runtime
