#pragma once
// SqlDialect: everything the compiler needs to know about one SQL engine. The compiler never
// asks "which engine is this?"; it asks the dialect for a fragment. A third engine is a new
// subclass, never a new branch in the compiler.
//
// Dialects are stateless: every implementation is thread-safe.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace khive::query {

// The type of a bound parameter (PostgreSQL needs it for an explicit cast on the placeholder).
enum class ParamType { Text, Integer, Real, Bool, JsonPath };

// The type of a field or output column.
//   Id:   a record id (TEXT on SQLite, uuid on PostgreSQL), always returned as canonical text.
//   Json: a JSON document or the value at a JSON path, always returned as JSON text.
enum class ValueType { Text, Integer, Real, Id, Json };

class SqlDialect {
 public:
  virtual ~SqlDialect() = default;
  SqlDialect() = default;
  SqlDialect(const SqlDialect&) = delete;
  SqlDialect& operator=(const SqlDialect&) = delete;

  virtual std::string_view name() const noexcept = 0;

  // --- parameters -------------------------------------------------------------------------
  // The placeholder of 1-based parameter `index` (`?3` / `$3::text`). A number may repeat in
  // one statement and refers to the same value each time.
  virtual std::string placeholder(int index, ParamType type) const = 0;
  // The value to bind for the JSON path a.b.c (`$.a.b.c` / `{a,b,c}`). Segments are
  // identifiers ([A-Za-z_][A-Za-z0-9_]*), checked by the parser.
  virtual std::string jsonPathValue(const std::vector<std::string>& segments) const = 0;

  // --- values and types -------------------------------------------------------------------
  virtual std::string boolLiteral(bool value) const = 0;
  // A NULL of the given type (PostgreSQL needs typed NULLs in UNION and recursive seeds).
  virtual std::string typedNull(ValueType type) const = 0;
  // An id column/expression as canonical lower-case text.
  virtual std::string idAsText(std::string_view expr) const = 0;

  // --- string comparison (docs/query.md: = LIKE CONTAINS STARTS WITH IN fold ASCII case only;
  //     != < > <= >= are case-sensitive, by code point) ---------------------------------
  virtual std::string textEqualsCi(std::string_view lhs, std::string_view rhs) const = 0;
  // textEqualsCi of the `name` column of table alias `alias` (an entity or a note), where an
  // engine may compare a stored, indexed folded copy instead. Default: textEqualsCi.
  virtual std::string nameEqualsCi(std::string_view alias, std::string_view rhs) const;
  // `pattern` uses % and _ as wildcards and \ as the escape character.
  virtual std::string textLikeCi(std::string_view lhs, std::string_view pattern) const = 0;
  // op is one of = <> < > <= >=.
  virtual std::string textCompareCs(std::string_view lhs, std::string_view op, std::string_view rhs) const = 0;
  // Escapes % _ and \ so that `text` matches literally inside a LIKE pattern with ESCAPE '\'.
  virtual std::string escapeLike(std::string_view text) const;

  // --- JSON properties: `doc` is a JSON column, `path` a placeholder bound to jsonPathValue.
  //     Each typed accessor is NULL unless the value at the path has that JSON type. -------
  virtual std::string jsonText(std::string_view doc, std::string_view path) const = 0;
  virtual std::string jsonNumber(std::string_view doc, std::string_view path) const = 0;
  // Comparable with a ParamType::Bool placeholder.
  virtual std::string jsonBool(std::string_view doc, std::string_view path) const = 0;
  // True when the path is missing or holds JSON null.
  virtual std::string jsonIsNull(std::string_view doc, std::string_view path) const = 0;
  // The value at the path as JSON text (NULL when missing), for RETURN.
  virtual std::string jsonValueAsText(std::string_view doc, std::string_view path) const = 0;
  // A whole JSON column as JSON text, for RETURN.
  virtual std::string jsonDocumentAsText(std::string_view doc) const = 0;

  // --- recursive walks --------------------------------------------------------------------
  // A walk of at most k hops is two CTEs: a recursive one holding the walk rows of depth 0 to
  // k - 1 (each a simple path with its visited list, or, when the compiler needs reachability
  // only, a distinct (start, node, depth)), and the walk itself, which reads every one of those
  // rows and extends those of depth k - 1 by their last hop. The rows of the last hop are never
  // expanded, so they do not go through the recursive CTE's queue.
  //
  // One step of a walk: how the walk row `<walk> AS w` reaches its neighbours over
  // `edges AS h`. The compiler describes the step twice: `combined` is one condition on h and
  // w.node_id with the neighbour's id in terms of h (an OR when symmetric relations also run
  // backwards), and `branches` splits the same edges into disjoint index-friendly parts, each
  // with its own neighbour expression; a dialect uses whichever its engine plans better.
  struct WalkHop {
    std::string condition;  // selects w's edges (mentions w.node_id and h)
    std::string next;       // the neighbour's id in terms of h
  };
  using IdTest = std::function<std::string(std::string_view)>;
  struct WalkRequest {
    std::string walk;                // the recursive CTE's name
    // Each form is built on demand (its text and parameters cost compile time): call the one
    // the dialect uses.
    std::function<WalkHop()> combined;
    std::function<std::vector<WalkHop>()> branches;  // same edges as `combined`
    std::string liveEdge;            // the live, in-scope test of h
    std::string stepDepth;           // rows of w that the recursion expands (a test of w.depth)
    std::string lastDepth;           // rows of w that take the last hop (a test of w.depth)
    IdTest notVisited;               // the cycle guard: false at least for w.node_id itself
    IdTest nodeInScope;              // live, in-scope test of a node id
    bool wantEdge = false;           // whether the traversed edge's id is used
  };
  // A step applies all of the request's tests: it yields only neighbours that are off the path
  // and live in scope, from rows that pass its depth test. So every walk row but a seed is a
  // live node in scope, and the compiler does not test a walk's end node again when it reads
  // its id alone.
  struct WalkStep {
    std::string from;   // FROM clause of the recursive member
    std::string next;   // the neighbour's id in the select list
    std::string edge;   // the traversed edge's id (empty unless wantEdge)
    std::string where;  // conditions the FROM clause does not already apply (may be empty)
  };
  // The rows of the whole walk, read from the recursive CTE `r.walk` in one pass: every row of
  // it (hop 0: `node` is w.node_id, `edge` w.last_edge) and, for each row that passes
  // r.lastDepth, each step onward (hop 1: `node` and `edge` the neighbour's and the traversed
  // edge's). `hop` is an integer expression, 0 or 1.
  struct WalkRows {
    std::string from;
    std::string node;
    std::string hop;
    std::string edge;   // empty unless wantEdge
    std::string where;  // may be empty
  };
  // The recursive member's step (rows passing r.stepDepth) and the walk's rows, in one call so
  // that a dialect writes the neighbour tests once for both.
  struct Walk {
    WalkStep step;
    WalkRows rows;
  };
  virtual Walk walk(const WalkRequest& r) const = 0;
  // Visited-node list of a walk: a new list holding `id`, the list with `id` appended, and a
  // test that `id` is not in the list.
  virtual std::string pathInit(std::string_view id) const = 0;
  virtual std::string pathAppend(std::string_view path, std::string_view id) const = 0;
  virtual std::string pathExcludes(std::string_view path, std::string_view id) const = 0;

  // --- lookups ----------------------------------------------------------------------------
  // The filters of a row looked up by key from `anchor` (a node joined by the id an edge or a
  // walk produced, an edge joined from its endpoint). Default: `conditions` unchanged.
  virtual std::string lookupFilter(std::string_view conditions, std::string_view anchor) const;

  // --- ordering ---------------------------------------------------------------------------
  // An ORDER BY key with the same order on every engine: code-point order for text, NULLs first.
  virtual std::string orderKey(std::string_view expr, ValueType type) const = 0;

  // The statement that shows the engine's plan of `sql` without running it (EXPLAIN QUERY PLAN /
  // EXPLAIN), with the same parameters. Default: "EXPLAIN " + sql.
  virtual std::string explainStatement(std::string_view sql) const;

  // --- ORDER BY and aggregates ------------------------------------------------------------
  // Text compared by code point (min/max of text, ordering).
  virtual std::string codePointText(std::string_view expr) const = 0;
  // An ORDER BY key of the query text, the same on every engine: code-point order for text,
  // and Cypher's NULL placement (NULLs last ascending, first descending). Default: built on
  // codePointText with standard NULLS FIRST/LAST.
  virtual std::string orderKeyDirected(std::string_view expr, ValueType type, bool descending) const;
  // A real number rounded to `digits` decimal places, as a real.
  virtual std::string roundReal(std::string_view expr, int digits) const = 0;
  // A JSON document from JSON text (a returned JSON value), for the JSON accessors above.
  // Default: the text itself.
  virtual std::string jsonFromText(std::string_view text) const;
  // An aggregate collecting the non-NULL values of `value` (of `type`; Json values are JSON
  // text) into a JSON list, in any order; NULL or a list when no row has a value.
  virtual std::string collectList(std::string_view value, ValueType type, bool distinct) const = 0;
  // The collected `list` (a column of collectList) in a fixed order: numbers by value, then
  // strings by code point, then other JSON by its text. With an empty `separator`, the list as
  // JSON text ('[]' when NULL); otherwise its items' lexical forms joined by the separator
  // (a placeholder; '' when NULL).
  virtual std::string finishList(std::string_view list, std::string_view separator) const = 0;
};

}  // namespace khive::query
