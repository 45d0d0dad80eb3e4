#pragma once
// The fields a query may name, per substrate, and the columns behind them. Whitelisted
// identifiers: the compiler writes only names from this table (and its own aliases) into SQL.

#include <optional>
#include <string_view>

#include "khive/query/dialect.h"

namespace khive::query::detail {

enum SubstrateBit : unsigned { kEntity = 1, kNote = 2, kEvent = 4, kEdge = 8 };

struct FieldInfo {
  std::string_view name;
  ValueType type;
  unsigned substrates;      // where the field exists
  std::string_view column;  // the column (same name in every table that has it)
};

// nullopt for an unknown field. "substrate" on entities and notes is computed, not a column.
std::optional<FieldInfo> findNodeField(std::string_view name, unsigned substrates);
std::optional<FieldInfo> findEdgeField(std::string_view name);

// Fields RETURN a expands to (entity/note nodes, event nodes, edges).
inline constexpr std::string_view kNodeReturnFields[] = {"id", "substrate", "kind", "name"};
inline constexpr std::string_view kEventReturnFields[] = {"id", "kind", "verb", "actor", "outcome"};
inline constexpr std::string_view kEdgeReturnFields[] = {"id", "relation", "source_id", "target_id", "weight"};

}  // namespace khive::query::detail
