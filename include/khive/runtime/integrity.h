#pragma once
// Consistency across capabilities, which the engine's own integrity check cannot see: what
// `khive db check` reports besides it.

#include <string>
#include <vector>

#include "khive/runtime/runtime.h"

namespace khive::runtime {

// One line per problem found, empty when consistent. Checks that every live entity and note
// has its text document when the backend has text search (without one, search cannot find
// the record). Sees what the backend's session sees: every namespace of an SQLite file, the
// granted namespaces on PostgreSQL (row-level security).
std::vector<std::string> checkConsistency(Runtime& rt);

}  // namespace khive::runtime
