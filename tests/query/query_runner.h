#pragma once
// Test-side convenience: run a CompiledQuery on a backend's SQL capability. (The query layer
// itself never executes.) Also renders result values in the backend-neutral form the parity
// files use.

#include <string>
#include <vector>

#include "khive/query/compiler.h"
#include "khive/storage/backend.h"

namespace khive::testing {

struct QueryRun {
  std::vector<std::string> columns;
  std::vector<storage::SqlRow> rows;  // at most rowCap rows
  bool truncated = false;
};

// Runs `compiled` on a pooled reader and applies the row cap.
QueryRun runCompiled(storage::Backend& backend, const query::CompiledQuery& compiled);

// Canonical text of one value of a column of `type`: NULL, integers as digits, reals in the
// shortest round-trip form (2.0 -> 2), JSON re-serialised compactly with sorted keys, fixture
// ids as @Name.
std::string renderValue(const storage::SqlValue& value, query::ValueType type);
// Appends the UTF-8 encoding of code point `cp` (at most U+FFFF: the \uXXXX escapes of the
// reference engines' text).
void appendUtf8(std::string& out, unsigned cp);

std::string renderRow(const storage::SqlRow& row, const std::vector<query::OutputColumn>& columns);

}  // namespace khive::testing
