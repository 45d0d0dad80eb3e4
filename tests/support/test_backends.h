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
};

const std::vector<BackendCase>& backendCases();

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
