#pragma once
// Small helpers for assembling parameterised SQLite statements. User values always become
// bound parameters; only fixed SQL and compiler-made identifiers reach the SQL text.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "khive/core/uuid.h"
#include "khive/storage/sql_access.h"
#include "khive/storage/sql_builder.h"
#include "khive/storage/request_checks.h"
#include "khive/storage/types.h"

namespace khive::sqlite {

// Accumulates a WHERE clause and its parameters.
class SqlBuilder {
 public:
  std::string sql;
  storage::SqlParams params;

  SqlBuilder& text(std::string_view s) {
    sql += s;
    return *this;
  }
  SqlBuilder& param(storage::SqlValue v) {
    sql += '?';
    params.push_back(std::move(v));
    return *this;
  }
  SqlBuilder& integer(std::int64_t v) { return param(v); }
  // Appends a part written with the engine-neutral builder (its placeholders numbered on from
  // this builder's parameters).
  SqlBuilder& append(const storage::SqlBuilder& part) {
    sql += part.sql;
    params.insert(params.end(), part.params.begin(), part.params.end());
    return *this;
  }
  // "(?, ?, ?)" for the values.
  SqlBuilder& inList(std::span<const std::string> values);
  SqlBuilder& inList(std::span<const Uuid> values);
};

// The request checks every engine shares (khive/storage/request_checks.h).
using storage::checkPage;
using storage::requireNamespaces;

// Escapes % _ and \ for use in LIKE ... ESCAPE '\'.
std::string escapeLike(std::string_view s);

// Turns "a.b.c" into the JSON path '$."a"."b"."c"'. InvalidInput for an empty path or a
// segment outside [A-Za-z0-9_-].
std::string jsonPath(std::string_view dotted, std::string_view capability, std::string_view operation);

// Appends " AND <predicate>" for each predicate on a JSON column (e.g. "properties" or
// "n.properties") to b, as storage::appendPropertyPredicates writes it for every engine.
void appendPropertyPredicates(SqlBuilder& b, std::string_view column,
                              std::span<const storage::PropertyPredicate> predicates, std::string_view capability,
                              std::string_view operation);

class Conn;
// Recomputes edges.endpoint_deleted for every edge touching `nodeId` from the current
// deleted_at of both endpoints (entities or notes). Idempotent; run after any change of a
// node's deletion state, inside the same transaction.
void refreshEndpointState(Conn& conn, const std::string& nodeId, std::string_view capability,
                          std::string_view operation);

// What an upsert found before writing a record: its namespace, created_at and whether it was
// soft-deleted. Read with one primary-key probe; RETURNING would cost more (SQLite runs it
// through a statement journal: measured 12 -> 41 us per row).
struct StoredState {
  bool exists = false;
  std::string ns;
  std::int64_t createdAt = 0;
  bool deleted = false;
};
// `table` is "entities" or "notes".
StoredState readStoredState(Conn& conn, std::string_view table, const std::string& id, std::string_view capability);

}  // namespace khive::sqlite
