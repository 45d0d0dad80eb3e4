#pragma once
// Request/response types shared by the capability interfaces.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "khive/core/clock.h"
#include "khive/core/json.h"
#include "khive/core/uuid.h"

namespace khive::storage {

// Offset paging. limit is 1..kMaxPageLimit; anything else is InvalidInput.
struct PageRequest {
  std::int64_t offset = 0;
  std::int64_t limit = 100;
};
inline constexpr std::int64_t kMaxPageLimit = 10'000;

template <class T>
struct Page {
  std::vector<T> items;
  // Offset of the next page, or nullopt when this page is the last.
  std::optional<std::int64_t> nextOffset;
};

// Per-row accounting of a batch write. A failed row does not stop the batch; rows that
// succeeded stay written. first_error is the message of the first failed row.
struct BatchWriteSummary {
  std::size_t attempted = 0;
  std::size_t affected = 0;
  std::size_t failed = 0;
  std::optional<std::string> firstError;

  // One failed row; the first failure's message is the one kept.
  void countFailure(std::string_view message) {
    ++failed;
    if (!firstError) firstError = std::string(message);
  }
  // Adds the counts of a later part of the same write.
  void merge(const BatchWriteSummary& later) {
    attempted += later.attempted;
    affected += later.affected;
    failed += later.failed;
    if (!firstError) firstError = later.firstError;
  }
};

enum class DeleteMode {
  Soft,  // sets deleted_at; normal reads stop seeing the record
  Hard,  // removes the row; for entities and notes also every incident edge, text, vectors
};

enum class Direction { Out, In, Both };

enum class SortOrder { Asc, Desc };

// A predicate on a JSON property path ("a.b.c": segments of [A-Za-z0-9_-]).
//   Eq/Ne/Lt/Le/Gt/Ge compare with value; In tests membership in the array value;
//   Range is lower <= x <= upper with either side optional (null); Exists ignores value.
// Numbers compare numerically, strings as strings, booleans as booleans. A missing property
// fails every predicate except Exists=false (see `exists`).
enum class PredicateOp { Eq, Ne, Lt, Le, Gt, Ge, In, Range, Exists };
struct PropertyPredicate {
  std::string path;
  PredicateOp op = PredicateOp::Eq;
  Json value;              // Eq..Ge: scalar; In: array; Exists: true/false (default true)
  Json upper;              // Range only: upper bound (value is the lower bound); null = open
};

// The eight capabilities of the storage contract.
enum class Capability { Sql, Entities, Notes, Graph, Events, Vectors, Sparse, Text };
const char* capabilityName(Capability c) noexcept;

struct CapabilityStatus {
  Capability capability;
  bool supported = false;
  std::string detail;  // why not, and what to install, when unsupported
};

}  // namespace khive::storage
