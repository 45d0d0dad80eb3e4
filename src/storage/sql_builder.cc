#include "khive/storage/sql_builder.h"

#include <fmt/format.h>

#include "khive/core/error.h"
#include "khive/storage/request_checks.h"

namespace khive::storage {

std::string SqlBuilder::param(SqlValue value, ParamType type) {
  params.push_back(std::move(value));
  return dialect_->placeholder(static_cast<int>(before_ + params.size()), type);
}

namespace {

[[noreturn]] void refuse(std::string_view capability, std::string_view operation, std::string message) {
  throw Error(ErrorCode::InvalidInput, std::string(capability), std::string(operation), std::move(message));
}

// The typed comparison `<value at path> op value`: false (never NULL) when the stored value is
// missing or of another JSON type, so that NOT of it holds there.
std::string comparison(SqlBuilder& b, std::string_view column, const std::string& path, std::string_view op,
                       const Json& v, std::string_view capability, std::string_view operation) {
  const SqlDialect& d = b.dialect();
  std::string test;
  if (v.is_boolean()) {
    test = fmt::format("{} {} {}", d.jsonBool(column, path), op, b.param(v.get<bool>(), ParamType::Bool));
  } else if (v.is_number_integer()) {
    test = fmt::format("{} {} {}", d.jsonNumber(column, path), op, b.param(v.get<std::int64_t>(), ParamType::Integer));
  } else if (v.is_number()) {
    test = fmt::format("{} {} {}", d.jsonNumber(column, path), op, b.param(v.get<double>(), ParamType::Real));
  } else if (v.is_string()) {
    test = d.textCompareCs(d.jsonText(column, path), op, b.param(v.get<std::string>(), ParamType::Text));
  } else {
    refuse(capability, operation,
           fmt::format("property predicates compare with a string, number or boolean, not {}", v.dump()));
  }
  return fmt::format("COALESCE({}, {})", test, d.boolLiteral(false));
}

}  // namespace

void appendPropertyPredicate(SqlBuilder& b, std::string_view column, const PropertyPredicate& p,
                             std::string_view capability, std::string_view operation) {
  const SqlDialect& d = b.dialect();
  const auto segments = propertyPath(p.path, capability, operation);
  if (p.op == PredicateOp::In && p.value.is_array() && p.value.empty()) {
    b.text(d.boolLiteral(false));  // no parameter: every one bound must be used
    return;
  }
  const std::string path = b.param(d.jsonPathValue(segments), ParamType::JsonPath);
  auto compare = [&](std::string_view op, const Json& v) {
    return comparison(b, column, path, op, v, capability, operation);
  };
  switch (p.op) {
    case PredicateOp::Eq: b.text(compare("=", p.value)); return;
    case PredicateOp::Lt: b.text(compare("<", p.value)); return;
    case PredicateOp::Le: b.text(compare("<=", p.value)); return;
    case PredicateOp::Gt: b.text(compare(">", p.value)); return;
    case PredicateOp::Ge: b.text(compare(">=", p.value)); return;
    case PredicateOp::Ne:
      b.text(fmt::format("({} AND NOT {})", d.jsonExists(column, path), compare("=", p.value)));
      return;
    case PredicateOp::In: {
      if (!p.value.is_array()) refuse(capability, operation, "an In predicate takes an array of values");
      std::string any;
      for (const auto& v : p.value) any += (any.empty() ? "" : " OR ") + compare("=", v);
      b.text("(" + any + ")");
      return;
    }
    case PredicateOp::Range: {
      if (p.value.is_null() && p.upper.is_null()) {
        refuse(capability, operation, "a Range predicate needs a lower bound (value), an upper bound (upper) or both");
      }
      std::string both;
      if (!p.value.is_null()) both = compare(">=", p.value);
      if (!p.upper.is_null()) both += (both.empty() ? "" : " AND ") + compare("<=", p.upper);
      b.text("(" + both + ")");
      return;
    }
    case PredicateOp::Exists: {
      const bool want = p.value.is_boolean() ? p.value.get<bool>() : true;
      b.text(want ? d.jsonExists(column, path) : "NOT " + d.jsonExists(column, path));
      return;
    }
  }
}

void appendPropertyPredicates(SqlBuilder& b, std::string_view column, std::span<const PropertyPredicate> predicates,
                              std::string_view capability, std::string_view operation) {
  for (const auto& p : predicates) {
    b.text(" AND ");
    appendPropertyPredicate(b, column, p, capability, operation);
  }
}

}  // namespace khive::storage
