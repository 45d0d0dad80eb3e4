#pragma once
// The numeric arguments of the verbs with their range and default: one definition that the
// CLI's options (CLI::Range), the MCP tools' input schemas (minimum, maximum, default; the
// server refuses a value outside them with -32602) and the Runtime's own checks (InvalidInput,
// for every other entry point) all read. Also the most values one list argument may carry
// (kinds, relations, tags, roots, namespaces).
//
// Constants and a pure function: thread-safe.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "khive/query/compiler.h"
#include "khive/storage/graph_store.h"
#include "khive/storage/types.h"

namespace khive::runtime {

struct ArgBound {
  std::int64_t min, max, fallback;  // the range (inclusive) and the value when the argument is absent
};

inline constexpr ArgBound kListLimit{1, storage::kMaxPageLimit, 50};
inline constexpr ArgBound kListOffset{0, 1'000'000'000, 0};
inline constexpr ArgBound kNeighborsLimit{1, storage::kMaxPageLimit, 100};
inline constexpr ArgBound kTraverseDepth{1, storage::kMaxTraversalDepth, 3};
inline constexpr ArgBound kTraverseLimit{1, 100'000, 1000};  // nodes per root
inline constexpr ArgBound kPathDepth{1, storage::kMaxTraversalDepth, 6};
inline constexpr ArgBound kSearchTopK{1, 1000, 10};
inline constexpr ArgBound kQueryRowCap{1, query::kMaxRowCap, 500};
inline constexpr ArgBound kReindexBatch{1, 10'000, 256};
inline constexpr ArgBound kImportBatch{1, 100'000, 40'000};
inline constexpr ArgBound kTimeoutMs{1, 86'400'000, 30'000};  // --timeout-ms, [limits] time_budget_ms

// Values in one list argument of a request.
inline constexpr std::size_t kMaxListValues = 1000;
inline constexpr ArgBound kTraverseRoots{1, static_cast<std::int64_t>(kMaxListValues), 1};

// Throws Error(InvalidInput, "runtime", "arguments") unless bound.min <= value <= bound.max:
// "<argument> must be <min>..<max>, got <value>".
void checkBound(std::int64_t value, const ArgBound& bound, std::string_view argument);

}  // namespace khive::runtime
