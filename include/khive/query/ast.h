#pragma once
// The one AST of the query layer. Both front ends (GQL and SPARQL) produce a `Query`; the binder
// resolves it and the compiler turns it into SQL. A query is a single connected chain
//   node (edge node)*
// plus an optional WHERE tree (OR of ANDs of comparisons), return items and paging, or a
// pipeline of such chains (Query::stages) with WITH projections between them.
//
// Plain value types: thread-compatible, freely copyable.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace khive::query {

enum class Language { Gql, Sparql };

// A literal of the query text, or a `$name` reference to a compile-time parameter.
struct Literal;
using LiteralList = std::vector<Literal>;
struct ParamRef {
  std::string name;
  bool operator==(const ParamRef&) const = default;
};
struct Literal {
  // null, bool, integer, float, string, list (IN only), $param
  std::variant<std::monostate, bool, std::int64_t, double, std::string, LiteralList, ParamRef> value;
  std::size_t pos = 0;  // byte offset in the query text
  bool operator==(const Literal&) const = default;
};

// `{key: value}` on a node, or `?x :key value` in SPARQL.
struct PropertyEquality {
  std::string key;
  Literal value;
  std::size_t pos = 0;
};

struct NodePattern {
  std::string var;                  // empty: anonymous
  std::optional<std::string> label;  // entity | note | event | a kind
  std::vector<PropertyEquality> properties;
  std::size_t pos = 0;
};

enum class EdgeDirection { Out, In, Both };  // -[]->, <-[]-, -[]-

struct EdgePattern {
  std::string var;                     // empty: anonymous
  std::vector<std::string> relations;  // empty: any relation
  EdgeDirection direction = EdgeDirection::Out;
  bool variableLength = false;         // written with `*` (or SPARQL `+` / `{m,n}`)
  int minHops = 1;
  int maxHops = 1;
  bool openUpperBound = false;         // `*n..` (rejected by the binder)
  std::size_t pos = 0;
};

// `a`, `a.name` or `a.properties.x.y`: path holds the segments after the variable.
struct FieldRef {
  std::string var;
  std::vector<std::string> path;
  std::size_t pos = 0;
};

enum class CompareOp { Eq, Ne, Lt, Gt, Le, Ge, Like, Contains, StartsWith, In, IsNull, IsNotNull };

struct Comparison {
  FieldRef field;
  CompareOp op = CompareOp::Eq;
  Literal value;  // unused for IS NULL / IS NOT NULL
  std::size_t pos = 0;
};

// No parentheses and no NOT: a WHERE clause is an OR of ANDs (AND binds tighter).
struct WhereClause {
  std::vector<std::vector<Comparison>> anyOf;  // OR over the outer list, AND within
};

// A function of a named path in RETURN / ORDER BY (GQL): `length(p)`, `nodes(p)`,
// `relationships(p)`; a bare `p` is the path itself.
enum class PathFunction { None, Length, Nodes, Relationships };

// Aggregates of RETURN (GQL) and SELECT/HAVING (SPARQL). GroupConcat and Sample are SPARQL's.
enum class AggregateFn { None, Count, Sum, Avg, Min, Max, Collect, GroupConcat, Sample };

// A RETURN item, an ORDER BY key or a HAVING operand: a variable or field, or an aggregate
// of one (`count(*)` has `star` and no field). `alias` is the output name (`AS n`, SPARQL
// `(... AS ?n)`); an ORDER BY key whose field is a bare name may refer to an alias.
struct ReturnItem {
  FieldRef field;
  AggregateFn aggregate = AggregateFn::None;
  bool star = false;         // count(*)
  bool distinctArg = false;  // count(DISTINCT x)
  std::string separator = " ";  // GROUP_CONCAT's SEPARATOR
  PathFunction pathFunction = PathFunction::None;  // length(p), nodes(p), relationships(p)
  std::string alias;
  std::size_t pos = 0;
};

struct OrderItem {
  ReturnItem key;
  bool descending = false;
};

// SPARQL HAVING: comparisons of aggregates with literals, ANDed.
struct HavingCondition {
  ReturnItem item;
  CompareOp op = CompareOp::Eq;
  Literal value;
};

// GQL `p = (...)`, `p = shortestPath((...))`, `p = allShortestPaths((...))`: the path variable
// (empty for an unnamed shortestPath) and which paths of the chain match.
enum class PathMode { All, Shortest, AllShortest };
struct PathBinding {
  std::string var;
  PathMode mode = PathMode::All;
  std::size_t pos = 0;
};

// One pattern clause of a pipelined query: GQL MATCH / OPTIONAL MATCH, SPARQL's required
// triples, OPTIONAL { }, FILTER NOT EXISTS { } and MINUS { }. Each is one chain, like Query's.
enum class ClauseKind { Match, Optional, NotExists, Minus };

struct MatchClause {
  ClauseKind kind = ClauseKind::Match;
  std::vector<NodePattern> nodes;  // nodes.size() == edges.size() + 1
  std::vector<EdgePattern> edges;
  std::optional<WhereClause> where;  // applies to this clause's pattern only
  std::optional<PathBinding> path;   // a named path (GQL; single-chain queries only)
  std::size_t pos = 0;
};

// GQL `WITH items [ORDER BY ...] [SKIP n] [LIMIT n] [WHERE ...]`: the rows handed to the next
// stage. WHERE filters the projected (and paged) rows.
struct WithClause {
  std::vector<ReturnItem> items;
  bool distinct = false;
  std::vector<OrderItem> orderBy;
  std::optional<std::int64_t> skip;
  std::optional<std::int64_t> limit;
  std::optional<WhereClause> where;
  std::size_t pos = 0;
};

// Pattern clauses, then a WITH (absent in the last stage, whose rows RETURN projects).
struct Stage {
  std::vector<MatchClause> matches;
  std::optional<WithClause> with;
};

struct Query {
  Language language = Language::Gql;
  // A pipelined query (OPTIONAL MATCH, several MATCH clauses, WITH; SPARQL OPTIONAL, FILTER
  // NOT EXISTS, MINUS) keeps its clauses here and leaves nodes, edges and where empty; the
  // result items, ordering and paging below are its final RETURN / SELECT.
  std::vector<Stage> stages;
  std::vector<NodePattern> nodes;  // nodes.size() == edges.size() + 1
  std::vector<EdgePattern> edges;  // edges[i] joins nodes[i] and nodes[i+1]
  std::optional<WhereClause> where;
  std::optional<PathBinding> path;  // the chain is a named path (GQL)
  std::vector<ReturnItem> returns;
  bool distinct = false;
  std::vector<OrderItem> orderBy;
  // SPARQL only: GROUP BY variables (a node or a value variable), and HAVING.
  std::vector<FieldRef> groupBy;
  bool explicitGroupBy = false;
  std::vector<HavingCondition> having;
  std::optional<std::int64_t> skip;
  std::optional<std::int64_t> limit;
};

// A readable rendering of the AST (for tests and error messages); not query text.
std::string debugString(const Query& q);

}  // namespace khive::query
