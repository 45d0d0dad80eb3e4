#pragma once
// The backends every parameterised suite (contract, parity, retrieval) runs against.
// Each case makes a fresh, empty backend. A backend whose service is not configured in the
// environment is listed with `skipReason` set; suites report it as skipped with that reason.
// The README's test command starts every service, and fails if one it started is missing.

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "khive/storage/backend.h"

namespace khive::testing {

struct BackendCase {
  std::string name;  // "sqlite_file", "sqlite_memory", "postgres15", "pglite"
  // Makes a fresh, empty backend (a new file, a new in-memory database, a new schema/database).
  std::function<std::unique_ptr<storage::Backend>()> make;
  std::string skipReason;  // non-empty: not available here, and why
  // File-backed SQLite and PostgreSQL let readers read while a write transaction is open;
  // in-memory SQLite (no WAL) makes them wait for the commit.
  bool readersRunDuringWrites = true;
  bool hasVectors = true;  // false: the vector capability is expected to be Unsupported
  // PostgreSQL cases only (empty elsewhere): opens a backend on `schema` (migrated when new)
  // whose sessions are granted only `namespaces`, as the non-superuser application role. Two
  // calls with one schema share the data, so one actor can try to reach another's rows.
  std::function<std::unique_ptr<storage::Backend>(const std::string& schema,
                                                   const std::vector<std::string>& namespaces)>
      openScoped;
  // PostgreSQL cases only: make() with backends::PostgresOptions::groupWrites set as given.
  std::function<std::unique_ptr<storage::Backend>(bool groupWrites)> makeWithGroupWrites;
};

const std::vector<BackendCase>& backendCases();

// A new "concept" entity with a fresh id.
Entity conceptEntity(const std::string& ns, const std::string& name);

// The PostgreSQL cases of backendCases(): native PostgreSQL 15 and PGlite.
std::vector<BackendCase> postgresCases();

// True when the README's test command started every service (it exports
// KHIVE_REQUIRE_SERVICES=1): an unavailable backend is then a failure, not a skip.
bool servicesRequired();

// In a test body or SetUp() (a function returning void): when the case is unavailable, fails
// the test if services are required and skips it with the reason otherwise.
#define KHIVE_SKIP_UNAVAILABLE_BACKEND(c)                                                                   \
  do {                                                                                                    \
    const ::khive::testing::BackendCase& khiveCase_ = (c);                                                \
    if (!khiveCase_.skipReason.empty()) {                                                                 \
      if (::khive::testing::servicesRequired()) {                                                         \
        FAIL() << khiveCase_.name << " was required (KHIVE_REQUIRE_SERVICES) but is missing: " << khiveCase_.skipReason; \
      }                                                                                                   \
      GTEST_SKIP() << khiveCase_.skipReason;                                                              \
    }                                                                                                     \
  } while (0)

// gtest prints a parameter with this instead of its bytes.
inline void PrintTo(const BackendCase& c, std::ostream* os) { *os << c.name; }

// gtest name generator: the case's name.
struct BackendCaseName {
  template <class ParamInfo>
  std::string operator()(const ParamInfo& info) const {
    return info.param.name;
  }
};

}  // namespace khive::testing
