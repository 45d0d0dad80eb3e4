#include "backends/postgres/sql_build.h"

#include <fmt/format.h>

#include "khive/core/error.h"

namespace khive::postgres {

std::string escapeLike(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::vector<std::string> jsonPath(std::string_view dotted, std::string_view capability, std::string_view operation) {
  return storage::propertyPath(dotted, capability, operation);
}

namespace {

// One typed comparison of the value at `path` in `column` with a JSON scalar. CASE (not AND)
// guards the cast: SQL does not promise to evaluate AND's operands left to right, and
// casting a JSON string to numeric would fail.
void comparison(SqlBuilder& b, std::string_view column, const std::vector<std::string>& path, std::string_view op,
                const Json& v, std::string_view capability, std::string_view operation) {
  std::string_view type, cast;
  std::string value;
  if (v.is_boolean()) {
    type = "boolean";
    cast = "boolean";
    value = v.get<bool>() ? "true" : "false";
  } else if (v.is_number()) {
    type = "number";
    cast = "numeric";
    value = v.dump();
  } else if (v.is_string()) {
    type = "string";
    value = v.get<std::string>();
  } else {
    throw Error(ErrorCode::InvalidInput, std::string(capability), std::string(operation),
                fmt::format("property predicates compare with a string, number or boolean, not {}", v.dump()));
  }
  b.text("(CASE WHEN jsonb_typeof(").text(column).text(" #> ").texts(path).text(") = '").text(type).text("' THEN (");
  b.text(column).text(" #>> ").texts(path).text(")");
  if (!cast.empty()) {
    b.text("::").text(cast).text(" ").text(op).text(" ");
    b.param([&](Params& p) { p.text(value); }, cast);
  } else {
    b.text(" COLLATE \"C\" ").text(op).text(" ");
    b.str(value);
  }
  b.text(" ELSE false END)");
}

}  // namespace

void appendPropertyPredicate(SqlBuilder& b, std::string_view column, const storage::PropertyPredicate& p,
                             std::string_view capability, std::string_view operation) {
  using storage::PredicateOp;
  const auto path = jsonPath(p.path, capability, operation);
  switch (p.op) {
    case PredicateOp::Eq: comparison(b, column, path, "=", p.value, capability, operation); return;
    case PredicateOp::Lt: comparison(b, column, path, "<", p.value, capability, operation); return;
    case PredicateOp::Le: comparison(b, column, path, "<=", p.value, capability, operation); return;
    case PredicateOp::Gt: comparison(b, column, path, ">", p.value, capability, operation); return;
    case PredicateOp::Ge: comparison(b, column, path, ">=", p.value, capability, operation); return;
    case PredicateOp::Ne:
      b.text("((").text(column).text(" #> ").texts(path).text(") IS NOT NULL AND NOT ");
      comparison(b, column, path, "=", p.value, capability, operation);
      b.text(")");
      return;
    case PredicateOp::In: {
      if (!p.value.is_array()) {
        throw Error(ErrorCode::InvalidInput, std::string(capability), std::string(operation),
                    "an In predicate takes an array of values");
      }
      if (p.value.empty()) {
        b.text("false");
        return;
      }
      b.text("(");
      bool first = true;
      for (const auto& v : p.value) {
        if (!first) b.text(" OR ");
        first = false;
        comparison(b, column, path, "=", v, capability, operation);
      }
      b.text(")");
      return;
    }
    case PredicateOp::Range: {
      if (p.value.is_null() && p.upper.is_null()) {
        throw Error(ErrorCode::InvalidInput, std::string(capability), std::string(operation),
                    "a Range predicate needs a lower bound (value), an upper bound (upper) or both");
      }
      b.text("(true");
      if (!p.value.is_null()) {
        b.text(" AND ");
        comparison(b, column, path, ">=", p.value, capability, operation);
      }
      if (!p.upper.is_null()) {
        b.text(" AND ");
        comparison(b, column, path, "<=", p.upper, capability, operation);
      }
      b.text(")");
      return;
    }
    case PredicateOp::Exists: {
      bool want = p.value.is_boolean() ? p.value.get<bool>() : true;
      b.text("((").text(column).text(" #> ").texts(path).text(want ? ") IS NOT NULL)" : ") IS NULL)");
      return;
    }
  }
}

}  // namespace khive::postgres
