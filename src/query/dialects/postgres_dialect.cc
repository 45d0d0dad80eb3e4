// PostgreSQL 15: ids are uuid, JSON is jsonb, placeholders are $n with an explicit cast.
//
// Quirks this dialect absorbs:
//  - Every placeholder carries its type ($3::text, $4::bigint, ...): the same text must mean the
//    same thing with or without server-side type inference, and a parameter reused in two
//    places must not be inferred two ways.
//  - Ids are uuid: they are compared and returned as text (id::text), canonical lower case.
//  - Case folding: lower() and ILIKE follow the collation's locale, which would fold 'É' to
//    'é'. Under COLLATE "C" PostgreSQL folds ASCII letters only, which is the rule of docs/query.md, and
//    orders by code point like SQLite's BINARY.
//  - jsonb values are typed with jsonb_typeof() before a cast (a cast of the wrong type is an
//    error, not a NULL). `#>>` yields NULL for JSON null, so IS NULL covers missing and null.
//  - The recursive step is a plain JOIN of the walk with edges (PostgreSQL has no
//    CROSS JOIN ... ON, and plans the join as an index nested loop). It needs typed NULLs in
//    recursive seeds and UNION branches, and keeps visited nodes in a uuid[].

#include <fmt/format.h>

#include "khive/query/postgres_dialect.h"

namespace khive::query {

std::string PostgresDialect::placeholder(int index, ParamType type) const {
  const char* cast = "text";
  switch (type) {
    case ParamType::Text: cast = "text"; break;
    case ParamType::Integer: cast = "bigint"; break;
    case ParamType::Real: cast = "double precision"; break;
    case ParamType::Bool: cast = "boolean"; break;
    case ParamType::JsonPath: cast = "text[]"; break;
    case ParamType::Id: cast = "uuid"; break;
    case ParamType::TextList: cast = "text[]"; break;
    case ParamType::IdList: cast = "uuid[]"; break;
  }
  return fmt::format("${}::{}", index, cast);
}

std::string PostgresDialect::jsonPathValue(const std::vector<std::string>& segments) const {
  std::string out = "{";
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (i) out += ",";
    out += fmt::format("\"{}\"", segments[i]);
  }
  return out + "}";
}

// A list parameter is an array literal: {"a","b"}, each item quoted with " and \ escaped.
std::string PostgresDialect::listValue(std::span<const std::string> items) const {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

std::string PostgresDialect::inList(std::string_view expr, std::string_view list) const {
  return fmt::format("{} = ANY ({})", expr, list);
}

std::string PostgresDialect::boolLiteral(bool value) const { return value ? "TRUE" : "FALSE"; }

std::string PostgresDialect::typedNull(ValueType type) const {
  switch (type) {
    case ValueType::Id: return "CAST(NULL AS uuid)";
    case ValueType::Integer: return "CAST(NULL AS bigint)";
    case ValueType::Real: return "CAST(NULL AS double precision)";
    case ValueType::Json: return "CAST(NULL AS jsonb)";
    case ValueType::Text: break;
  }
  return "CAST(NULL AS text)";
}

std::string PostgresDialect::idAsText(std::string_view expr) const { return fmt::format("({})::text", expr); }

std::string PostgresDialect::textEqualsCi(std::string_view lhs, std::string_view rhs) const {
  return fmt::format("lower(({}) COLLATE \"C\") = lower({} COLLATE \"C\")", lhs, rhs);
}

// name_folded = lower(name COLLATE "C"), stored and indexed (PostgreSQL migration 5): = is
// leakproof, so the index serves the match under row-level security.
std::string PostgresDialect::nameEqualsCi(std::string_view alias, std::string_view rhs) const {
  return fmt::format("{}.name_folded = lower({} COLLATE \"C\")", alias, rhs);
}

std::string PostgresDialect::textLikeCi(std::string_view lhs, std::string_view pattern) const {
  return fmt::format("({}) COLLATE \"C\" ILIKE {} ESCAPE '\\'", lhs, pattern);
}

std::string PostgresDialect::textCompareCs(std::string_view lhs, std::string_view op, std::string_view rhs) const {
  return fmt::format("({}) COLLATE \"C\" {} {}", lhs, op, rhs);
}

std::string PostgresDialect::jsonText(std::string_view doc, std::string_view path) const {
  return fmt::format("CASE WHEN jsonb_typeof({0} #> {1}) = 'string' THEN {0} #>> {1} END", doc, path);
}

std::string PostgresDialect::jsonNumber(std::string_view doc, std::string_view path) const {
  return fmt::format("CASE WHEN jsonb_typeof({0} #> {1}) = 'number' THEN ({0} #> {1})::numeric END", doc, path);
}

std::string PostgresDialect::jsonBool(std::string_view doc, std::string_view path) const {
  return fmt::format("CASE WHEN jsonb_typeof({0} #> {1}) = 'boolean' THEN ({0} #> {1})::boolean END", doc, path);
}

std::string PostgresDialect::jsonIsNull(std::string_view doc, std::string_view path) const {
  return fmt::format("(({} #>> {}) IS NULL)", doc, path);
}

std::string PostgresDialect::jsonExists(std::string_view doc, std::string_view path) const {
  return fmt::format("(({} #> {}) IS NOT NULL)", doc, path);
}

std::string PostgresDialect::jsonValueAsText(std::string_view doc, std::string_view path) const {
  return fmt::format("(({} #> {})::text)", doc, path);
}

std::string PostgresDialect::jsonDocumentAsText(std::string_view doc) const { return fmt::format("({})::text", doc); }

// The step is a join of the walk with edges; the last hop comes from a LATERAL subquery that
// yields each walk row itself, then (for a row of the last level) its steps onward:
//   w0r AS w CROSS JOIN LATERAL (SELECT w.node_id AS node UNION ALL SELECT h.target_id FROM
//     edges AS h WHERE w.depth = $k AND h.source_id = w.node_id AND ...) AS j
SqlDialect::Walk PostgresDialect::walk(const WalkRequest& r) const {
  const WalkHop hop = r.combined();
  const std::string& next = hop.next;
  std::string tests = fmt::format("{} AND {}", r.notVisited(next), r.nodeInScope(next));
  Walk out;
  out.step.from = fmt::format("{} AS w JOIN edges AS h ON {} AND {}", r.walk, hop.condition, r.liveEdge);
  out.step.next = next;
  if (r.wantEdge) out.step.edge = "h.id";
  out.step.where = fmt::format("{} AND {}", r.stepDepth, tests);
  out.rows.from = fmt::format(
      "{} AS w CROSS JOIN LATERAL (SELECT w.node_id AS node{} UNION ALL SELECT {}{} FROM edges AS h WHERE {} AND {} "
      "AND {} AND {}) AS j",
      r.walk, r.wantEdge ? ", w.last_edge AS edge" : "", next, r.wantEdge ? ", h.id" : "", r.lastDepth,
      hop.condition, r.liveEdge, tests);
  out.rows.node = "j.node";
  out.rows.hop = "CASE WHEN j.node = w.node_id THEN 0 ELSE 1 END";
  if (r.wantEdge) out.rows.edge = "j.edge";
  return out;
}

std::string PostgresDialect::pathInit(std::string_view id) const { return fmt::format("ARRAY[{}]", id); }

std::string PostgresDialect::pathAppend(std::string_view path, std::string_view id) const {
  return fmt::format("{} || {}", path, id);
}

std::string PostgresDialect::pathExcludes(std::string_view path, std::string_view id) const {
  return fmt::format("{} <> ALL({})", id, path);
}

std::string PostgresDialect::pathEmpty() const {
  return "CAST(ARRAY[] AS uuid[])";
}

std::string PostgresDialect::pathIds(std::string_view path) const {
  return fmt::format("to_jsonb(({})::text[])", path);
}

std::string PostgresDialect::idArray(const std::vector<std::string>& ids) const {
  return fmt::format("jsonb_build_array({})", fmt::join(ids, ", "));
}

std::string PostgresDialect::pathValue(std::string_view nodes, std::string_view edges) const {
  return fmt::format("(jsonb_build_object('nodes', {}, 'edges', {}))::text", nodes, edges);
}

std::string PostgresDialect::orderKey(std::string_view expr, ValueType type) const {
  bool text = type == ValueType::Text || type == ValueType::Id || type == ValueType::Json;
  return fmt::format("{}{} NULLS FIRST", expr, text ? " COLLATE \"C\"" : "");
}

std::string PostgresDialect::codePointText(std::string_view expr) const { return fmt::format("({}) COLLATE \"C\"", expr); }

std::string PostgresDialect::jsonFromText(std::string_view text) const { return fmt::format("({})::jsonb", text); }

std::string PostgresDialect::roundReal(std::string_view expr, int digits) const {
  return fmt::format("CAST(round(CAST({} AS numeric), {}) AS double precision)", expr, digits);
}

std::string PostgresDialect::collectList(std::string_view value, ValueType type, bool distinct) const {
  return fmt::format("jsonb_agg({}{}) FILTER (WHERE {} IS NOT NULL)", distinct ? "DISTINCT " : "",
                     type == ValueType::Json ? fmt::format("({})::jsonb", value) : fmt::format("to_jsonb({})", value),
                     value);
}

// The same order as SQLite's: numbers by value, strings by code point, the rest by JSON text.
std::string PostgresDialect::finishList(std::string_view list, std::string_view separator) const {
  constexpr std::string_view kOrder =
      "CASE jsonb_typeof(t.v) WHEN 'number' THEN 0 WHEN 'string' THEN 1 ELSE 2 END, CASE WHEN jsonb_typeof(t.v) = "
      "'number' THEN (t.v)::numeric END, CASE WHEN jsonb_typeof(t.v) = 'string' THEN t.v #>> '{}' END COLLATE \"C\", "
      "(t.v)::text COLLATE \"C\"";
  std::string from = fmt::format("FROM jsonb_array_elements(COALESCE({}, '[]'::jsonb)) AS t(v)", list);
  if (separator.empty()) {
    return fmt::format("(SELECT COALESCE(jsonb_agg(t.v ORDER BY {}), '[]'::jsonb)::text {})", kOrder, from);
  }
  return fmt::format("(SELECT COALESCE(string_agg(t.v #>> '{{}}', {} ORDER BY {}), '') {})", separator, kOrder, from);
}

const SqlDialect& postgresDialect() noexcept {
  static const PostgresDialect d;
  return d;
}

}  // namespace khive::query
