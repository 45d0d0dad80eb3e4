// SQLite 3.40: ids are TEXT, JSON is TEXT read with JSON1, placeholders are ?NNN.
//
// Quirks this dialect absorbs:
//  - COLLATE NOCASE folds ASCII letters only, exactly the case rule of docs/query.md; LIKE does the same
//    by default (PRAGMA case_sensitive_like is never turned on by khive).
//  - json_extract() returns native SQL values, and TEXT sorts above every number, so
//    `json_extract(p, '$.year') > 3000` would hold for the string "abc". Every typed accessor
//    therefore checks json_type() first and yields NULL for a value of another type.
//  - Booleans are integers 1/0 (a bool parameter binds as 1/0).
//  - Recursive steps never join the walk with edges: with ANALYZE statistics SQLite 3.40 plans
//    that join with a Bloom filter it rebuilds over the whole edge table on every step (a
//    3-hop walk on 500k edges: 0.2 ms -> 100 ms), and neither CROSS JOIN, a unary '+' nor
//    INDEXED BY prevents it. Each walk row instead gathers its neighbours with a correlated
//    scalar subquery (always an index probe) into a JSON array that json_each unnests; the
//    depth test sits in a CASE around it so rows that take no step probe nothing:
//
//      FROM w0r AS w, json_each(CASE WHEN w.depth < ?4 THEN (SELECT json_group_array(o) FROM (
//               SELECT h.target_id AS o FROM edges AS h WHERE h.source_id = w.node_id AND <live>
//                 AND instr(w.path, '/' || h.target_id || '/') = 0 AND <h.target_id in scope>
//               UNION ALL                     -- one branch per index: symmetric relations
//               SELECT h.source_id FROM edges AS h WHERE h.target_id = w.node_id AND ...))
//           ELSE '[]' END) AS j                 -- next = j.value
//
//    The array holds bare ids unless the edge variable is used (then [id, edge id] pairs, next =
//    j.value ->> 0, edge = j.value ->> 1). A neighbour is tested (off the path, then live in
//    scope) inside the subquery, before it is collected: each node reached is probed once, and
//    the walk's end node needs no probe of its own. The last hop (Walk::rows) gathers the same
//    way, with the row's own node as the array's first item.

#include <fmt/format.h>

#include "khive/core/json.h"
#include "khive/query/sqlite_dialect.h"

namespace khive::query {

std::string SqlDialect::nameEqualsCi(std::string_view alias, std::string_view rhs) const {
  return textEqualsCi(fmt::format("{}.name", alias), rhs);
}

std::string SqlDialect::orderKeyDirected(std::string_view expr, ValueType type, bool descending) const {
  bool text = type == ValueType::Text || type == ValueType::Id || type == ValueType::Json;
  return fmt::format("{} {}", text ? codePointText(expr) : std::string(expr),
                     descending ? "DESC NULLS FIRST" : "ASC NULLS LAST");
}

std::string SqlDialect::explainStatement(std::string_view sql) const { return fmt::format("EXPLAIN {}", sql); }

std::string SqlDialect::jsonFromText(std::string_view text) const { return std::string(text); }

std::string SqlDialect::lookupFilter(std::string_view conditions, std::string_view) const {
  return std::string(conditions);
}

// SQLite 3.40 puts a Bloom filter on a keyed lookup when (with ANALYZE statistics) it expects
// more probes than the table has rows and the looked-up table has "self-culling" terms: terms
// on that table alone that the key does not use (deleted_at IS NULL, namespace IN (...)).
// Building the filter scans the whole table: after a walk that SQLite estimates large, the
// lookup of its end nodes in a 100k-entity table cost 10 ms instead of 50 us. Tying the filters
// to the anchor (the id being looked up) makes them terms of two tables, so nothing is
// self-culling; the key lookup itself is untouched:
//
//   LEFT JOIN entities AS n1e ON n1e.id = w0x.node_id
//     AND CASE WHEN w0x.node_id IS NULL THEN 0 ELSE (n1e.deleted_at IS NULL AND ...) END
std::string SqliteDialect::lookupFilter(std::string_view conditions, std::string_view anchor) const {
  return fmt::format("CASE WHEN {} IS NULL THEN 0 ELSE ({}) END", anchor, conditions);
}

std::string SqliteDialect::placeholder(int index, ParamType) const { return fmt::format("?{}", index); }

std::string SqliteDialect::jsonPathValue(const std::vector<std::string>& segments) const {
  std::string out = "$";
  for (auto& s : segments) out += fmt::format(".\"{}\"", s);
  return out;
}

// A list parameter is a JSON array of strings, unnested by json_each.
std::string SqliteDialect::listValue(std::span<const std::string> items) const {
  return Json(std::vector<std::string>(items.begin(), items.end())).dump();
}

std::string SqliteDialect::inList(std::string_view expr, std::string_view list) const {
  return fmt::format("{} IN (SELECT value FROM json_each({}))", expr, list);
}

std::string SqliteDialect::boolLiteral(bool value) const { return value ? "1" : "0"; }

std::string SqliteDialect::typedNull(ValueType) const { return "NULL"; }

std::string SqliteDialect::idAsText(std::string_view expr) const { return std::string(expr); }

std::string SqliteDialect::textEqualsCi(std::string_view lhs, std::string_view rhs) const {
  return fmt::format("{} = {} COLLATE NOCASE", lhs, rhs);
}

std::string SqliteDialect::textLikeCi(std::string_view lhs, std::string_view pattern) const {
  return fmt::format("{} LIKE {} ESCAPE '\\'", lhs, pattern);
}

std::string SqliteDialect::textCompareCs(std::string_view lhs, std::string_view op, std::string_view rhs) const {
  return fmt::format("{} {} {} COLLATE BINARY", lhs, op, rhs);
}

std::string SqliteDialect::jsonText(std::string_view doc, std::string_view path) const {
  return fmt::format("CASE WHEN json_type({0}, {1}) = 'text' THEN json_extract({0}, {1}) END", doc, path);
}

std::string SqliteDialect::jsonNumber(std::string_view doc, std::string_view path) const {
  return fmt::format("CASE WHEN json_type({0}, {1}) IN ('integer', 'real') THEN json_extract({0}, {1}) END", doc, path);
}

std::string SqliteDialect::jsonBool(std::string_view doc, std::string_view path) const {
  return fmt::format("CASE json_type({0}, {1}) WHEN 'true' THEN 1 WHEN 'false' THEN 0 END", doc, path);
}

std::string SqliteDialect::jsonIsNull(std::string_view doc, std::string_view path) const {
  return fmt::format("(json_extract({}, {}) IS NULL)", doc, path);
}

std::string SqliteDialect::jsonExists(std::string_view doc, std::string_view path) const {
  return fmt::format("(json_type({}, {}) IS NOT NULL)", doc, path);
}

std::string SqliteDialect::jsonValueAsText(std::string_view doc, std::string_view path) const {
  return fmt::format("({} -> {})", doc, path);
}

std::string SqliteDialect::jsonDocumentAsText(std::string_view doc) const { return fmt::format("json({})", doc); }

// Each walk row gathers the neighbours it steps to as one JSON array (bare ids, or [id, edge id]
// pairs with the edge variable): one correlated subquery, one index probe per branch, each
// neighbour tested off the path and in scope before it is collected. For the last hop the
// row's own node is the array's first item; the cycle guard keeps every neighbour apart from
// that node, so the hop is told by the id alone.
SqlDialect::Walk SqliteDialect::walk(const WalkRequest& r) const {
  std::vector<std::string> items, sources;  // "<item>", "FROM edges AS h WHERE <tests>"
  std::vector<std::string> branches;        // "<item> AS o FROM edges AS h WHERE <tests>"
  for (const auto& b : r.branches()) {
    items.push_back(r.wantEdge ? fmt::format("json_array({}, h.id)", b.next) : b.next);
    sources.push_back(fmt::format("FROM edges AS h WHERE {} AND {} AND {} AND {}", b.condition, r.liveEdge,
                                  r.notVisited(b.next), r.nodeInScope(b.next)));
    branches.push_back(items.back() + " AS o " + sources.back());
  }
  std::string gather =
      branches.size() == 1
          ? fmt::format("SELECT json_group_array({}) {}", items[0], sources[0])
          : fmt::format("SELECT json_group_array(o) FROM (SELECT {})", fmt::join(branches, " UNION ALL SELECT "));
  std::string self = r.wantEdge ? "json_array(w.node_id, w.last_edge)" : "w.node_id";
  std::string gatherWithSelf = fmt::format("SELECT json_group_array(o) FROM (SELECT {} AS o UNION ALL SELECT {})", self,
                                           fmt::join(branches, " UNION ALL SELECT "));
  Walk out;
  std::string next = r.wantEdge ? "(j.value ->> 0)" : "j.value";
  std::string edge = r.wantEdge ? "(j.value ->> 1)" : "";
  out.step.from = fmt::format("{} AS w, json_each(CASE WHEN {} THEN ({}) ELSE '[]' END) AS j", r.walk, r.stepDepth, gather);
  out.step.next = next;
  out.step.edge = edge;
  // CROSS JOIN, not a comma: SQLite runs a FROM clause's first subquery as a co-routine (its
  // rows streamed, so a LIMIT stops the walk early) only when an outer or cross join follows
  // it; otherwise it stores the whole recursive CTE first.
  out.rows.from = fmt::format("{} AS w CROSS JOIN json_each(CASE WHEN {} THEN ({}) ELSE json_array({}) END) AS j",
                              r.walk, r.lastDepth, gatherWithSelf, self);
  out.rows.node = next;
  out.rows.hop = fmt::format("({} <> w.node_id)", next);
  out.rows.edge = edge;
  return out;
}

// The visited list is '/id1/id2/': ids never contain '/', so a match of '/id/' is a whole id.
std::string SqliteDialect::pathInit(std::string_view id) const { return fmt::format("'/' || {} || '/'", id); }

std::string SqliteDialect::pathAppend(std::string_view path, std::string_view id) const {
  return fmt::format("{} || {} || '/'", path, id);
}

std::string SqliteDialect::pathExcludes(std::string_view path, std::string_view id) const {
  return fmt::format("instr({}, '/' || {} || '/') = 0", path, id);
}

std::string SqliteDialect::pathEmpty() const {
  return "'/'";
}

// '/id1/id2/' as ["id1","id2"]: ids hold no '/' nor '"'.
std::string SqliteDialect::pathIds(std::string_view path) const {
  return fmt::format(
      "json(CASE WHEN {0} = '/' THEN '[]' ELSE '[\"' || replace(substr({0}, 2, length({0}) - 2), '/', "
      "'\",\"') || '\"]' END)",
      path);
}

std::string SqliteDialect::idArray(const std::vector<std::string>& ids) const {
  return fmt::format("json_array({})", fmt::join(ids, ", "));
}

std::string SqliteDialect::pathValue(std::string_view nodes, std::string_view edges) const {
  return fmt::format("json_object('nodes', {}, 'edges', {})", nodes, edges);
}

std::string SqliteDialect::orderKey(std::string_view expr, ValueType type) const {
  bool text = type == ValueType::Text || type == ValueType::Id || type == ValueType::Json;
  return fmt::format("{}{} NULLS FIRST", expr, text ? " COLLATE BINARY" : "");
}

std::string SqliteDialect::codePointText(std::string_view expr) const { return fmt::format("{} COLLATE BINARY", expr); }

std::string SqliteDialect::explainStatement(std::string_view sql) const {
  return fmt::format("EXPLAIN QUERY PLAN {}", sql);
}

std::string SqliteDialect::roundReal(std::string_view expr, int digits) const {
  return fmt::format("round({}, {})", expr, digits);
}

std::string SqliteDialect::collectList(std::string_view value, ValueType type, bool distinct) const {
  return fmt::format("json_group_array({}{}) FILTER (WHERE {} IS NOT NULL)", distinct ? "DISTINCT " : "",
                     type == ValueType::Json ? fmt::format("json({})", value) : std::string(value), value);
}

// json_each yields a JSON string as text, a number as a number, true/false as 1/0; the items are
// put back into JSON (or lexical forms) in the order of the keys.
std::string SqliteDialect::finishList(std::string_view list, std::string_view separator) const {
  constexpr std::string_view kItems =
      "FROM (SELECT value, type FROM json_each(COALESCE({}, '[]')) ORDER BY CASE WHEN type IN ('integer', 'real') "
      "THEN 0 WHEN type = 'text' THEN 1 ELSE 2 END, CASE WHEN type IN ('integer', 'real') THEN value END, CASE WHEN "
      "type = 'text' THEN value END COLLATE BINARY, CAST(value AS TEXT) COLLATE BINARY)";
  std::string items = fmt::format(fmt::runtime(kItems), list);
  if (separator.empty()) {
    return fmt::format(
        "(SELECT json_group_array(CASE type WHEN 'true' THEN json('true') WHEN 'false' THEN json('false') WHEN 'null' "
        "THEN json('null') WHEN 'object' THEN json(value) WHEN 'array' THEN json(value) ELSE value END) {})",
        items);
  }
  return fmt::format(
      "(SELECT COALESCE(group_concat(CASE type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE value END, {}), "
      "'') {})",
      separator, items);
}

const SqlDialect& sqliteDialect() noexcept {
  static const SqliteDialect d;
  return d;
}

}  // namespace khive::query
