#pragma once
// Helpers for assembling parameterised PostgreSQL statements. User values always become
// bound parameters ($1, $2, ...); only fixed SQL and whitelisted identifiers reach the text.

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backends/postgres/pg_conn.h"
#include "khive/storage/request_checks.h"
#include "khive/storage/sql_builder.h"
#include "khive/storage/types.h"

namespace khive::postgres {

// Accumulates SQL text and its parameters, numbering placeholders. Thread-compatible.
class SqlBuilder {
 public:
  std::string sql;
  Params params;

  SqlBuilder& text(std::string_view s) {
    sql += s;
    return *this;
  }
  // Appends "$n" (with "::cast" when given) for a value added to params by `add`.
  template <class Add>
  SqlBuilder& param(Add&& add, std::string_view cast = {}) {
    add(params);
    sql += "$" + std::to_string(params.size());
    if (!cast.empty()) {
      sql += "::";
      sql += cast;
    }
    return *this;
  }
  SqlBuilder& str(std::string_view s) {
    return param([&](Params& p) { p.text(s); }, "text");
  }
  SqlBuilder& integer(std::int64_t v) {
    return param([&](Params& p) { p.integer(v); });
  }
  SqlBuilder& real(double v) {
    return param([&](Params& p) { p.real(v); });
  }
  SqlBuilder& uuid(const Uuid& u) {
    return param([&](Params& p) { p.uuid(u); });
  }
  // Appends a part written with the engine-neutral builder (its placeholders numbered on from
  // this builder's parameters).
  SqlBuilder& append(const storage::SqlBuilder& part) {
    sql += part.sql;
    for (const auto& v : part.params) params.value(v);
    return *this;
  }
  // "$n::text[]" / "$n::uuid[]" for a list, used as "= ANY (...)".
  SqlBuilder& texts(std::span<const std::string> v) {
    return param([&](Params& p) { p.textArray(v); }, "text[]");
  }
  SqlBuilder& uuids(std::span<const Uuid> v) {
    return param([&](Params& p) { p.uuidArray(v); }, "uuid[]");
  }
};

// INSERT INTO table (columns) VALUES ($1, ..., $n), one placeholder per column of the
// comma-separated `columns`.
std::string insertSql(std::string_view table, std::string_view columns);
// insertSql, then ON CONFLICT (id) DO UPDATE SET every column but id, namespace and created_at
// from the new row, WHERE the stored row has the new row's namespace, RETURNING created_at. The
// WHERE makes an id living in another namespace a no-op, which RETURNING reports as no row: the
// caller reports Conflict instead of moving the record.
std::string upsertByIdSql(std::string_view table, std::string_view columns);

// The request checks every engine shares (khive/storage/request_checks.h).
using storage::checkPage;
using storage::requireNamespaces;
// Escapes % _ and \ for LIKE ... ESCAPE '\'.
std::string escapeLike(std::string_view s);
// "a.b.c" -> {"a","b","c"} for the #> operators. InvalidInput for an empty path or a segment
// outside [A-Za-z0-9_-] (the same rule as SQLite's).
std::vector<std::string> jsonPath(std::string_view dotted, std::string_view capability, std::string_view operation);

// Appends " AND <predicate>" for each predicate on a jsonb column, as
// storage::appendPropertyPredicates writes it for every engine (khive/storage/sql_builder.h).
void appendPropertyPredicates(SqlBuilder& b, std::string_view column,
                              std::span<const storage::PropertyPredicate> predicates, std::string_view capability,
                              std::string_view operation);

}  // namespace khive::postgres
