#pragma once
// Engine-neutral SQL: statement text with its parameters, the placeholders written by the
// engine's dialect (sql_dialect.h), and the fragments every store builds the same way on every
// engine. User values always become bound parameters; only fixed SQL and checked identifiers
// reach the text.

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "khive/storage/sql_access.h"
#include "khive/storage/sql_dialect.h"
#include "khive/storage/types.h"

namespace khive::storage {

// Accumulates SQL text and its parameters. Thread-compatible.
class SqlBuilder {
 public:
  // `paramsBefore`: parameters the statement already has before this part, so that the
  // placeholders written here number on from them.
  explicit SqlBuilder(const SqlDialect& dialect, std::size_t paramsBefore = 0)
      : dialect_(&dialect), before_(paramsBefore) {}

  std::string sql;
  SqlParams params;

  SqlBuilder& text(std::string_view s) {
    sql += s;
    return *this;
  }
  // Adds a parameter and returns its placeholder (to write once or several times).
  std::string param(SqlValue value, ParamType type);
  const SqlDialect& dialect() const noexcept { return *dialect_; }

 private:
  const SqlDialect* dialect_;
  std::size_t before_;
};

// Appends one predicate on the JSON column `column` (PropertyPredicate in types.h). Typed on
// every engine: a number matches only JSON numbers, a string only JSON strings (compared by
// code point), a boolean only JSON booleans; a missing property fails every predicate except
// Exists=false. InvalidInput for a bad path, an In without an array, a Range without bounds,
// or a value that is not a string, number or boolean.
void appendPropertyPredicate(SqlBuilder& b, std::string_view column, const PropertyPredicate& p,
                             std::string_view capability, std::string_view operation);
// " AND <predicate>" for each of `predicates`, as appendPropertyPredicate writes it.
void appendPropertyPredicates(SqlBuilder& b, std::string_view column, std::span<const PropertyPredicate> predicates,
                              std::string_view capability, std::string_view operation);
// The same appended to an engine's own statement builder `b` (one with a `params` list and
// append(const SqlBuilder&)), its placeholders written by `dialect`.
template <class Builder>
void appendPropertyPredicates(Builder& b, const SqlDialect& dialect, std::string_view column,
                              std::span<const PropertyPredicate> predicates, std::string_view capability,
                              std::string_view operation) {
  SqlBuilder part(dialect, b.params.size());
  appendPropertyPredicates(part, column, predicates, capability, operation);
  b.append(part);
}

}  // namespace khive::storage
