#include "backends/sqlite/sql_build.h"

#include <fmt/format.h>

#include "backends/sqlite/connection.h"
#include "khive/core/error.h"

namespace khive::sqlite {

SqlBuilder& SqlBuilder::inList(std::span<const std::string> values) {
  sql += '(';
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) sql += ", ";
    param(values[i]);
  }
  sql += ')';
  return *this;
}

SqlBuilder& SqlBuilder::inList(std::span<const Uuid> values) {
  sql += '(';
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) sql += ", ";
    param(values[i].str());
  }
  sql += ')';
  return *this;
}

std::string escapeLike(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string jsonPath(std::string_view dotted, std::string_view capability, std::string_view operation) {
  std::string out = "$";
  for (const auto& seg : storage::propertyPath(dotted, capability, operation)) out += fmt::format(".\"{}\"", seg);
  return out;
}

namespace {

// The json_type() values a JSON literal may equal, and the SQL value to compare with.
struct TypedValue {
  std::string_view types;  // SQL list text
  storage::SqlValue value;
};

TypedValue typed(const Json& v, std::string_view capability, std::string_view operation) {
  if (v.is_boolean()) return {"('true', 'false')", static_cast<std::int64_t>(v.get<bool>() ? 1 : 0)};
  if (v.is_number_integer()) return {"('integer', 'real')", v.get<std::int64_t>()};
  if (v.is_number()) return {"('integer', 'real')", v.get<double>()};
  if (v.is_string()) return {"('text')", v.get<std::string>()};
  throw Error(ErrorCode::InvalidInput, std::string(capability), std::string(operation),
              fmt::format("property predicates compare with a string, number or boolean, not {}", v.dump()));
}

void comparison(SqlBuilder& b, std::string_view column, const std::string& path, std::string_view op,
                const Json& value, std::string_view capability, std::string_view operation) {
  auto tv = typed(value, capability, operation);
  b.text("(json_type(").text(column).text(", ").param(path).text(") IN ").text(tv.types);
  b.text(" AND json_extract(").text(column).text(", ").param(path).text(") ").text(op).text(" ");
  b.param(tv.value).text(")");
}

}  // namespace

void appendPropertyPredicate(SqlBuilder& b, std::string_view column, const storage::PropertyPredicate& p,
                             std::string_view capability, std::string_view operation) {
  using storage::PredicateOp;
  const std::string path = jsonPath(p.path, capability, operation);
  switch (p.op) {
    case PredicateOp::Eq: comparison(b, column, path, "=", p.value, capability, operation); return;
    case PredicateOp::Lt: comparison(b, column, path, "<", p.value, capability, operation); return;
    case PredicateOp::Le: comparison(b, column, path, "<=", p.value, capability, operation); return;
    case PredicateOp::Gt: comparison(b, column, path, ">", p.value, capability, operation); return;
    case PredicateOp::Ge: comparison(b, column, path, ">=", p.value, capability, operation); return;
    case PredicateOp::Ne:
      b.text("(json_type(").text(column).text(", ").param(path).text(") IS NOT NULL AND NOT ");
      comparison(b, column, path, "=", p.value, capability, operation);
      b.text(")");
      return;
    case PredicateOp::In: {
      if (!p.value.is_array()) {
        throw Error(ErrorCode::InvalidInput, std::string(capability), std::string(operation),
                    "an In predicate takes an array of values");
      }
      if (p.value.empty()) {
        b.text("0");
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
      b.text("(1");
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
      b.text("(json_type(").text(column).text(", ").param(path).text(want ? ") IS NOT NULL)" : ") IS NULL)");
      return;
    }
  }
}

void refreshEndpointState(Conn& conn, const std::string& nodeId, std::string_view capability,
                          std::string_view operation) {
  conn.prepare(
          "UPDATE edges SET endpoint_deleted ="
          " (SELECT count(*) FROM entities WHERE id = edges.source_id AND deleted_at IS NOT NULL)"
          " + (SELECT count(*) FROM notes WHERE id = edges.source_id AND deleted_at IS NOT NULL)"
          " + (SELECT count(*) FROM entities WHERE id = edges.target_id AND deleted_at IS NOT NULL)"
          " + (SELECT count(*) FROM notes WHERE id = edges.target_id AND deleted_at IS NOT NULL)"
          " WHERE source_id = ?1 OR target_id = ?1",
          capability, operation)
      .bindText(1, nodeId)
      .run();
}

StoredState readStoredState(Conn& conn, std::string_view table, const std::string& id, std::string_view capability) {
  const std::string sql = "SELECT namespace, created_at, deleted_at IS NOT NULL FROM " + std::string(table) + " WHERE id = ?";
  auto stmt = conn.prepare(sql, capability, "upsert");
  stmt.bindText(1, id);
  StoredState out;
  if (stmt.step()) {
    out.exists = true;
    out.ns = stmt.getText(0);
    out.createdAt = stmt.getInt(1);
    out.deleted = stmt.getInt(2) != 0;
  }
  return out;
}

}  // namespace khive::sqlite
