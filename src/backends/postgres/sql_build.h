#pragma once
// Helpers for assembling parameterised PostgreSQL statements. User values always become
// bound parameters ($1, $2, ...); only fixed SQL and whitelisted identifiers reach the text.

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backends/postgres/pg_conn.h"
#include "khive/storage/request_checks.h"
#include "khive/storage/types.h"

namespace khive::postgres {

// A condition on a row of a retrieval table (text_documents, vectors) aliased `r`: its subject is
// a live entity or note. Soft delete keeps the subject's retrieval rows, so counts of "indexed
// live data" need it. Both lookups are primary-key seeks.
inline constexpr std::string_view kLiveSubject =
    "(EXISTS (SELECT 1 FROM entities AS le WHERE le.id = r.subject_id AND le.deleted_at IS NULL) "
    "OR EXISTS (SELECT 1 FROM notes AS ln WHERE ln.id = r.subject_id AND ln.deleted_at IS NULL))";

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
  // "$n::text[]" / "$n::uuid[]" for a list, used as "= ANY (...)".
  SqlBuilder& texts(std::span<const std::string> v) {
    return param([&](Params& p) { p.textArray(v); }, "text[]");
  }
  SqlBuilder& uuids(std::span<const Uuid> v) {
    return param([&](Params& p) { p.uuidArray(v); }, "uuid[]");
  }
};

// The request checks every engine shares (khive/storage/request_checks.h).
using storage::checkPage;
using storage::requireNamespaces;
// Escapes % _ and \ for LIKE ... ESCAPE '\'.
std::string escapeLike(std::string_view s);
// "a.b.c" -> {"a","b","c"} for the #> operators. InvalidInput for an empty path or a segment
// outside [A-Za-z0-9_-] (the same rule as SQLite's).
std::vector<std::string> jsonPath(std::string_view dotted, std::string_view capability, std::string_view operation);

// Appends one predicate on a jsonb column, as storage::appendPropertyPredicate writes it for
// every engine (khive/storage/sql_builder.h).
void appendPropertyPredicate(SqlBuilder& b, std::string_view column, const storage::PropertyPredicate& p,
                             std::string_view capability, std::string_view operation);

}  // namespace khive::postgres
