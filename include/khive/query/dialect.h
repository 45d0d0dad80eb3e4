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

#include "khive/storage/sql_dialect.h"

namespace khive::query {

// Parameter and value types, and the dialect's fragments for parameters, ids, text and JSON,
// are the storage layer's (khive/storage/sql_dialect.h): the stores share them.
using storage::ParamType;
using storage::ValueType;

class SqlDialect : public storage::SqlDialect {
 public:
  // textEqualsCi of the `name` column of table alias `alias` (an entity or a note), where an
  // engine may compare a stored, indexed folded copy instead. Default: textEqualsCi.
  virtual std::string nameEqualsCi(std::string_view alias, std::string_view rhs) const;

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
  // An empty list of the same type (a named path's edges before its first hop).
  virtual std::string pathEmpty() const = 0;

  // --- named paths ------------------------------------------------------------------------
  // A JSON document: the ids of a visited list (pathInit/pathAppend), in order, as strings.
  virtual std::string pathIds(std::string_view path) const = 0;
  // A JSON document: the ids `ids` (id expressions), in order, as strings.
  virtual std::string idArray(const std::vector<std::string>& ids) const = 0;
  // JSON text of the path value {"nodes": <nodes>, "edges": <edges>} (both JSON documents).
  virtual std::string pathValue(std::string_view nodes, std::string_view edges) const = 0;

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

// The query dialect of a backend's dialect (storage::Backend::dialect()). Error(Unsupported)
// when the engine's dialect does not compile queries.
const SqlDialect& queryDialect(const storage::SqlDialect& dialect);

}  // namespace khive::query
