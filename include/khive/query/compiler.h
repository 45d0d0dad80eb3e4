#pragma once
// From a parsed Query to a CompiledQuery: bind (resolve variables, fields, relations; check hop
// bounds and limits) and compile to one SELECT/WITH statement through a SqlDialect.
// The query layer compiles; it never executes. Callers run `sql` with `params` on a
// connection of the matching engine and pass the rows through applyRowCap().

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "khive/core/json.h"
#include "khive/query/ast.h"
#include "khive/query/dialect.h"
#include "khive/storage/sql_access.h"

namespace khive::query {

inline constexpr int kMaxHops = 10;
inline constexpr int kDefaultHops = 5;            // bare `*` and SPARQL `+`
inline constexpr std::int64_t kDefaultRowCap = 500;
inline constexpr std::int64_t kMaxRowCap = 10'000;
inline constexpr std::int64_t kMaxLimit = 1'000'000;  // LIMIT and SKIP

struct CompileOptions {
  // The namespace scope, applied to every node and edge alias. Required (InvalidInput if empty).
  std::vector<std::string> namespaces;
  // At most this many rows come back (1..kMaxRowCap); more available rows set `truncated`.
  std::int64_t rowCap = kDefaultRowCap;
  // A query text longer than this (bytes) is refused before it is read (InvalidInput).
  std::size_t maxQueryBytes = 64 << 10;
  // Values of `$name` references in the query text (a JSON object of scalars or arrays).
  Json parameters = Json::object();
  // Vocabulary additions (the default relations are always known).
  std::vector<std::string> extraRelations;
  std::vector<std::string> extraSymmetricRelations;
};

// ---- bound form ------------------------------------------------------------------------

// A resolved literal: null, bool, integer, float, string.
using Scalar = std::variant<std::monostate, bool, std::int64_t, double, std::string>;

// What a column reads of the named path: the path ({"nodes": [ids], "edges": [ids]}), its
// length (edges), its node ids or its edge ids, in the order of the pattern.
enum class PathPart { None, Whole, Length, Nodes, Edges };

struct BoundField {
  int alias = -1;          // node index, or edge index when onEdge (a projection: the input slot)
  bool onEdge = false;
  bool slotValue = false;  // a projection's value slot `alias` (a WITH alias), not a record field
  std::string field;       // catalog name ("name", "properties", ...)
  std::vector<std::string> jsonPath;  // non-empty: a path inside the JSON field
  ValueType type = ValueType::Text;   // Json when jsonPath is set
  PathPart pathPart = PathPart::None;  // a part of the named path (alias, field unused)
};

struct BoundPredicate {
  BoundField field;
  CompareOp op = CompareOp::Eq;
  std::vector<Scalar> values;  // one value; IN: the list; IS [NOT] NULL: none
};

struct BoundNode {
  std::string var;  // empty: anonymous
  // In a clause after the first: the input slot of a variable bound before (the clause joins
  // on it), and whether its ids are restricted to that slot's values while matching.
  int slot = -1;
  bool seeded = false;
  bool entities = true, notes = true, events = false;
  std::optional<std::string> kind;    // from a label other than entity/note/event
  std::vector<BoundPredicate> local;  // inline properties, ANDed
};

struct BoundEdge {
  std::string var;
  std::vector<std::string> relations;  // canonical, non-symmetric; empty with anyRelation
  std::vector<std::string> symmetric;  // canonical symmetric relations of the pattern (or all, with anyRelation)
  bool anyRelation = true;
  EdgeDirection direction = EdgeDirection::Out;
  bool variableLength = false;
  int minHops = 1, maxHops = 1;
};

// RETURN items expanded to columns. An aggregate column aggregates `field` (unused for
// count(*)); the other columns of an aggregating query are its grouping keys.
struct BoundColumn {
  std::string name;  // "a_name", "a_properties_year", "count", an alias
  BoundField field;
  AggregateFn aggregate = AggregateFn::None;
  bool star = false;         // count(*)
  bool distinctArg = false;  // count(DISTINCT x)
  std::string separator;     // GROUP_CONCAT
  ValueType type = ValueType::Text;  // of the output column
};

// An ORDER BY key: output column `column`, or (column -1) a field of the pattern.
struct BoundOrder {
  int column = -1;
  BoundField field;
  bool descending = false;
};

// A HAVING condition: an aggregate compared with a value.
struct BoundHaving {
  BoundColumn item;
  CompareOp op = CompareOp::Eq;
  Scalar value;
};

// A column of the rows one pipeline step hands to the next: a node or an edge (its id), or a
// value (a WITH alias).
enum class SlotKind { Node, Edge, Value };
struct BoundSlot {
  std::string name;
  SlotKind kind = SlotKind::Node;
  BoundNode node;          // Node: its substrates
  ValueType type = ValueType::Id;
  bool nullable = false;   // bound by OPTIONAL (NULL when it did not match)
};

struct BoundStep;

struct BoundQuery {
  // A pipelined query: the steps whose rows this query (a projection) reads, in order.
  std::vector<BoundStep> steps;
  // A projection reads the rows of `input` (the last step's slots) instead of matching a
  // pattern: nodes holds one entry per slot (its substrates), edges is empty.
  bool projection = false;
  // A WITH: its columns are the next step's slots (ids stay native, no row cap).
  bool intermediate = false;
  std::vector<BoundSlot> input;
  std::vector<BoundNode> nodes;
  std::vector<BoundEdge> edges;
  // A named path (or shortestPath): the chain is one path. With a variable-length edge the
  // chain is that one edge; Shortest keeps one path per (start, end) pair, AllShortest all of
  // the shortest.
  bool path = false;
  PathMode pathMode = PathMode::All;
  std::vector<std::vector<BoundPredicate>> where;  // OR of ANDs; empty: no WHERE
  std::vector<BoundColumn> columns;
  bool distinct = false;  // RETURN DISTINCT, or any variable-length edge
  // Aggregating: some column is an aggregate (or HAVING is present). The rows aggregated are
  // the pattern's bindings, distinct over its bound ids when it has a variable-length edge.
  bool aggregated = false;
  bool variableLength = false;           // some edge is variable-length
  std::vector<BoundField> groupExtra;    // SPARQL GROUP BY keys that are not output columns
  std::vector<BoundHaving> having;
  std::vector<BoundOrder> orderBy;
  std::optional<std::int64_t> skip;
  std::optional<std::int64_t> limit;
  std::int64_t rowCap = kDefaultRowCap;
  std::vector<std::string> namespaces;
};

// One step of a pipelined query: a pattern clause (joined to the rows before it as its kind
// says) or a WITH projection; `slots` are the columns of its rows.
struct BoundStep {
  ClauseKind kind = ClauseKind::Match;
  BoundQuery query;
  std::vector<BoundSlot> slots;
};

// Resolves and validates. Throws QueryError (Validation, Compile, Unsupported, InvalidInput).
// Thread-safe (pure function).
BoundQuery bind(const Query& query, const CompileOptions& options);

// ---- compiled form ---------------------------------------------------------------------

struct OutputColumn {
  std::string name;
  ValueType type = ValueType::Text;
  bool operator==(const OutputColumn&) const = default;
};

struct CompiledQuery {
  std::string sql;                  // one SELECT or WITH statement
  storage::SqlParams params;        // params[i] binds placeholder i+1
  std::vector<ParamType> paramTypes;
  std::vector<OutputColumn> columns;
  std::int64_t rowCap = kDefaultRowCap;  // the most rows a caller returns
  // The SQL asks for rowCap + 1 rows: a row beyond rowCap means the result was truncated.
  bool sentinel = false;
  bool ordered = false;  // rows come in a stable order (SKIP/LIMIT present)
};

// Drops a sentinel row; returns true when it was present (the result is truncated).
bool applyRowCap(const CompiledQuery& compiled, std::vector<storage::SqlRow>& rows);

// Compiles for one dialect. Immutable after construction and thread-safe; the dialect must
// outlive the compiler.
class QueryCompiler {
 public:
  explicit QueryCompiler(const SqlDialect& dialect) : dialect_(dialect) {}

  CompiledQuery compile(const BoundQuery& bound) const;
  CompiledQuery compile(const Query& query, const CompileOptions& options) const;
  // Parses (language detected from the text), binds and compiles.
  CompiledQuery compile(std::string_view text, const CompileOptions& options) const;
  CompiledQuery compile(std::string_view text, Language language, const CompileOptions& options) const;

  const SqlDialect& dialect() const noexcept { return dialect_; }

 private:
  const SqlDialect& dialect_;
};

}  // namespace khive::query
