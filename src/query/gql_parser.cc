// GQL front end: recursive descent over the token stream.
//
//   query    := stage+ RETURN [DISTINCT] item (, item)* paging [;]
//   stage    := ([OPTIONAL] MATCH path [WHERE or])+ [WITH [DISTINCT] item (, item)* paging [WHERE or]]
//   paging   := [ORDER BY key [ASC|DESC] (, ...)*] [SKIP int] [LIMIT int]
//   One MATCH and RETURN fills Query's chain; anything more fills Query::stages.
//   path     := [var =] (chain | shortestPath(chain) | allShortestPaths(chain))
//   chain    := node (edge node)*
//   node     := ( [var] [:label] [{key: value, ...}] )
//   edge     := -[body]-> | <-[body]- | -[body]- | --> | <-- | --
//   body     := [var] [:rel (| [:]rel)*] [* [n] [.. m]]
//   or       := and (OR and)*          -- AND binds tighter; no parentheses, no NOT
//   and      := cmp (AND cmp)*
//   cmp      := field op literal | field IS [NOT] NULL
//   field    := var (. name)+
//   item     := (var | var (. name)+ | agg) [AS name]      -- agg: count(*), count|sum|avg|min|max|collect
//                                                            --      ([DISTINCT] var | var (. name)+)
//                                                            -- or length|nodes|relationships(path var)
//   key      := var (. name)+ | agg | length(var) | an item's name

#include <fmt/format.h>

#include <array>

#include "khive/query/compiler.h"
#include "khive/query/parse.h"
#include "query/token_stream.h"

namespace khive::query {

using detail::keywordIs;
using detail::punctIs;
using detail::Token;
using detail::TokenKind;

namespace {

constexpr std::array kWriteVerbs = {"CREATE", "MERGE", "SET", "DELETE", "DETACH", "REMOVE",
                                    "INSERT", "LOAD",  "CLEAR", "DROP",  "FOREACH", "COPY"};
constexpr std::array kAggregates = {"count", "sum", "avg", "min", "max", "collect", "stdev", "stdevp",
                                    "percentilecont", "percentiledisc"};

bool isWriteVerb(const Token& t) {
  for (auto v : kWriteVerbs) {
    if (keywordIs(t, v)) return true;
  }
  return false;
}

class GqlParser {
 public:
  explicit GqlParser(std::string_view text) : ts_(text, detail::tokenize(text, detail::LexMode::Gql)) {}

  Query run() {
    Query q;
    q.language = Language::Gql;
    const Token& first = ts_.peek();
    rejectClauseStart(first);
    if (!keywordIs(first, "MATCH") && !keywordIs(first, "OPTIONAL")) {
      ts_.fail(first, fmt::format("expected MATCH but found {}", detail::describe(first)));
    }
    // Clauses: (MATCH | OPTIONAL MATCH)+ [WITH ...] repeated, then RETURN.
    q.stages.emplace_back();
    for (;;) {
      const Token& t = ts_.peek();
      if (keywordIs(t, "MATCH") || keywordIs(t, "OPTIONAL")) {
        q.stages.back().matches.push_back(parseMatchClause());
        continue;
      }
      if (keywordIs(t, "WITH")) {
        if (q.stages.back().matches.empty() && q.stages.size() == 1) ts_.fail(t, "a query starts with MATCH");
        q.stages.back().with = parseWith();
        q.stages.emplace_back();
        continue;
      }
      rejectClauseStart(t);
      if (!keywordIs(t, "RETURN")) {
        ts_.fail(t, fmt::format("expected WHERE, MATCH, OPTIONAL MATCH, WITH or RETURN but found {}", detail::describe(t)));
      }
      break;
    }
    ts_.next();
    if (ts_.acceptKeyword("DISTINCT")) q.distinct = true;
    parseReturnItems(q.returns);
    parseOrderPaging(q.orderBy, q.skip, q.limit);
    if (keywordIs(ts_.peek(), "UNION")) {
      ts_.unsupported(ts_.peek(), "UNION is not supported: run one query per pattern and merge the rows");
    }
    rejectClauseStart(ts_.peek());
    ts_.acceptPunct(";");
    if (!ts_.atEnd()) ts_.fail(ts_.peek(), fmt::format("unexpected {} after the query", detail::describe(ts_.peek())));
    // One MATCH and RETURN is the single-chain form; anything else stays a pipeline.
    if (q.stages.size() == 1 && q.stages[0].matches.size() == 1 && q.stages[0].matches[0].kind == ClauseKind::Match) {
      MatchClause& m = q.stages[0].matches[0];
      q.nodes = std::move(m.nodes);
      q.edges = std::move(m.edges);
      q.where = std::move(m.where);
      q.path = std::move(m.path);
      q.stages.clear();
    }
    return q;
  }

 private:
  void rejectClauseStart(const Token& t) {
    if (isWriteVerb(t)) ts_.unsupported(t, std::string(detail::kReadOnlyMessage));
    if (keywordIs(t, "UNWIND") || keywordIs(t, "CALL")) {
      ts_.unsupported(t, fmt::format("{} is not supported: write MATCH ... [WHERE ...] [WITH ...] RETURN ...", t.text));
    }
  }

  // [OPTIONAL] MATCH path [WHERE or]
  MatchClause parseMatchClause() {
    MatchClause m;
    m.pos = ts_.peek().pos;
    if (ts_.acceptKeyword("OPTIONAL")) {
      m.kind = ClauseKind::Optional;
      if (!keywordIs(ts_.peek(), "MATCH")) ts_.fail(ts_.peek(), "expected MATCH after OPTIONAL");
    }
    ts_.next();
    if (ts_.peek().kind == TokenKind::Ident && punctIs(ts_.peek(1), "=")) {
      m.path = PathBinding{ts_.peek().text, PathMode::All, ts_.peek().pos};
      ts_.next();
      ts_.next();
    }
    if (ts_.peek().kind == TokenKind::Ident && punctIs(ts_.peek(1), "(")) {
      const Token& fn = ts_.peek();
      std::string lower = detail::asciiLower(fn.text);
      if (lower != "shortestpath" && lower != "allshortestpaths") {
        ts_.unsupported(fn, fmt::format("{}() is not supported in a pattern: write the chain, e.g. MATCH "
                                        "(a)-[:rel*1..3]->(b), or p = shortestPath((a)-[*..6]-(b))",
                                        fn.text));
      }
      if (!m.path) m.path = PathBinding{"", PathMode::All, fn.pos};
      m.path->mode = lower == "shortestpath" ? PathMode::Shortest : PathMode::AllShortest;
      ts_.next();
      ts_.expectPunct("(");
      parsePath(m.nodes, m.edges);
      ts_.expectPunct(")", fmt::format(" to close {}()", fn.text));
    } else {
      parsePath(m.nodes, m.edges);
    }
    if (punctIs(ts_.peek(), ",")) {
      ts_.unsupported(ts_.peek(),
                      "comma-separated patterns are not supported: write one connected chain such as "
                      "(a)-[:rel]->(b)-[:rel]->(c), or a second MATCH that starts from a bound variable");
    }
    if (ts_.acceptKeyword("WHERE")) m.where = parseWhere();
    return m;
  }

  // WITH [DISTINCT] item (, item)* [ORDER BY ...] [SKIP n] [LIMIT n] [WHERE or]
  WithClause parseWith() {
    WithClause w;
    w.pos = ts_.next().pos;
    if (ts_.acceptKeyword("DISTINCT")) w.distinct = true;
    if (punctIs(ts_.peek(), "*")) ts_.unsupported(ts_.peek(), "WITH * is not supported: name the variables, e.g. WITH a, b");
    parseReturnItems(w.items);
    parseOrderPaging(w.orderBy, w.skip, w.limit);
    if (ts_.acceptKeyword("WHERE")) w.where = parseWhere();
    return w;
  }

  void parseOrderPaging(std::vector<OrderItem>& orderBy, std::optional<std::int64_t>& skip,
                        std::optional<std::int64_t>& limit) {
    if (ts_.acceptKeyword("ORDER")) {
      ts_.expectKeyword("BY");
      do {
        OrderItem o;
        o.key = parseItem(false);
        if (ts_.acceptKeyword("DESC") || ts_.acceptKeyword("DESCENDING")) {
          o.descending = true;
        } else if (!ts_.acceptKeyword("ASC")) {
          ts_.acceptKeyword("ASCENDING");
        }
        orderBy.push_back(std::move(o));
      } while (ts_.acceptPunct(","));
    }
    if (ts_.acceptKeyword("SKIP") || ts_.acceptKeyword("OFFSET")) skip = parseCount("SKIP");
    if (ts_.acceptKeyword("LIMIT")) limit = parseCount("LIMIT");
    if (keywordIs(ts_.peek(), "SKIP") && limit) ts_.fail(ts_.peek(), "SKIP must come before LIMIT");
  }

  std::string parseVarName() {
    const Token& t = ts_.next();
    return t.text;
  }

  void parsePath(std::vector<NodePattern>& nodes, std::vector<EdgePattern>& edges) {
    nodes.push_back(parseNode());
    for (;;) {
      const Token& t = ts_.peek();
      if (!(punctIs(t, "-") || punctIs(t, "<"))) break;
      if (edges.size() >= kMaxPathEdges) {
        ts_.invalidInput(t, fmt::format("the pattern has more than {} edges; split it into smaller queries",
                                        kMaxPathEdges));
      }
      edges.push_back(parseEdge());
      if (!punctIs(ts_.peek(), "(")) {
        ts_.fail(ts_.peek(), fmt::format("expected '(' to start a node but found {}", detail::describe(ts_.peek())));
      }
      nodes.push_back(parseNode());
    }
  }

  NodePattern parseNode() {
    NodePattern n;
    n.pos = ts_.expectPunct("(", " to start a node").pos;
    if (ts_.peek().kind == TokenKind::Ident) n.var = ts_.next().text;
    if (ts_.acceptPunct(":")) {
      const Token& l = ts_.peek();
      if (l.kind != TokenKind::Ident) ts_.fail(l, fmt::format("expected a label after ':' but found {}", detail::describe(l)));
      n.label = ts_.next().text;
      if (punctIs(ts_.peek(), ":") || punctIs(ts_.peek(), "|") || punctIs(ts_.peek(), "&")) {
        ts_.unsupported(ts_.peek(),
                        "a node takes one label: filter further kinds with WHERE a.kind IN ['x', 'y']");
      }
    }
    if (punctIs(ts_.peek(), "{")) n.properties = parsePropertyMap();
    if (keywordIs(ts_.peek(), "WHERE")) {
      ts_.unsupported(ts_.peek(), "WHERE inside a node is not supported: put the condition after the pattern");
    }
    ts_.expectPunct(")", " to close the node");
    return n;
  }

  std::vector<PropertyEquality> parsePropertyMap() {
    std::vector<PropertyEquality> props;
    ts_.expectPunct("{");
    if (ts_.acceptPunct("}")) return props;
    for (;;) {
      const Token& k = ts_.peek();
      if (k.kind != TokenKind::Ident) ts_.fail(k, fmt::format("expected a property name but found {}", detail::describe(k)));
      PropertyEquality p;
      p.key = ts_.next().text;
      p.pos = k.pos;
      ts_.expectPunct(":", " after the property name");
      p.value = parseLiteral();
      if (std::holds_alternative<LiteralList>(p.value.value)) {
        ts_.unsupported(k, "a list in a property map is not supported: use WHERE a.key IN [...]");
      }
      props.push_back(std::move(p));
      if (ts_.acceptPunct("}")) return props;
      ts_.expectPunct(",", " or '}' in the property map");
    }
  }

  EdgePattern parseEdge() {
    EdgePattern e;
    e.pos = ts_.peek().pos;
    bool leftArrow = false;
    if (ts_.acceptPunct("<")) leftArrow = true;
    ts_.expectPunct("-", " in the edge");
    if (ts_.acceptPunct("[")) {
      parseEdgeBody(e);
      ts_.expectPunct("]", " to close the edge");
      ts_.expectPunct("-", " after ']'");
    } else {
      ts_.expectPunct("-", " or '[' in the edge");
    }
    bool rightArrow = ts_.acceptPunct(">");
    if (leftArrow && rightArrow) {
      ts_.fail(ts_.peek(), "an edge points one way: write -[...]- to match both directions");
    }
    e.direction = leftArrow ? EdgeDirection::In : rightArrow ? EdgeDirection::Out : EdgeDirection::Both;
    return e;
  }

  void parseEdgeBody(EdgePattern& e) {
    if (ts_.peek().kind == TokenKind::Ident) e.var = ts_.next().text;
    if (ts_.acceptPunct(":")) {
      for (;;) {
        const Token& r = ts_.peek();
        if (r.kind != TokenKind::Ident) ts_.fail(r, fmt::format("expected a relation name but found {}", detail::describe(r)));
        e.relations.push_back(ts_.next().text);
        if (!ts_.acceptPunct("|")) break;
        ts_.acceptPunct(":");
      }
    }
    if (ts_.acceptPunct("*")) {
      e.variableLength = true;
      e.minHops = 1;
      e.maxHops = kDefaultHops;
      if (ts_.peek().kind == TokenKind::Integer) {
        e.minHops = hopCount(ts_.next());
        e.maxHops = e.minHops;
        if (ts_.acceptPunct("..")) {
          if (ts_.peek().kind == TokenKind::Integer) {
            e.maxHops = hopCount(ts_.next());
          } else {
            e.openUpperBound = true;
          }
        }
      } else if (ts_.acceptPunct("..")) {
        if (ts_.peek().kind == TokenKind::Integer) {
          e.maxHops = hopCount(ts_.next());
        } else {
          e.openUpperBound = true;
        }
      }
    }
    if (punctIs(ts_.peek(), "{")) {
      ts_.unsupported(ts_.peek(), "edge property maps are not supported: filter edges with WHERE e.weight >= 0.5");
    }
  }

  int hopCount(const Token& t) {
    // Anything above 10 is rejected by the binder; clamp to keep the value an int.
    return t.intValue > 1000 || t.integerOverflow ? 1000 : static_cast<int>(t.intValue);
  }

  WhereClause parseWhere() {
    WhereClause w;
    w.anyOf.emplace_back();
    for (;;) {
      w.anyOf.back().push_back(parseComparison());
      if (ts_.acceptKeyword("AND")) continue;
      if (ts_.acceptKeyword("OR")) {
        w.anyOf.emplace_back();
        continue;
      }
      if (keywordIs(ts_.peek(), "XOR")) ts_.unsupported(ts_.peek(), "XOR is not supported: use AND and OR");
      return w;
    }
  }

  FieldRef parseFieldRef(bool forReturn) {
    const Token& v = ts_.peek();
    if (v.kind != TokenKind::Ident) {
      ts_.fail(v, fmt::format("expected a variable but found {}", detail::describe(v)));
    }
    ts_.next();
    if (punctIs(ts_.peek(), "(")) {
      for (auto a : kAggregates) {
        if (detail::asciiLower(v.text) == a) {
          ts_.unsupported(v, forReturn ? fmt::format("{}() is not supported here: aggregates take a variable or "
                                                     "var.field, are not nested, and are not compared in WHERE",
                                                     v.text)
                                       : fmt::format("aggregates such as {}() are not allowed in WHERE: return "
                                                     "them (RETURN a.name, count(*))",
                                                     v.text));
        }
      }
      ts_.unsupported(v, fmt::format("functions such as {}() are not supported: {} a variable or var.field",
                                     v.text, forReturn ? "return" : "compare"));
    }
    FieldRef f;
    f.var = v.text;
    f.pos = v.pos;
    while (ts_.acceptPunct(".")) {
      const Token& s = ts_.peek();
      if (s.kind != TokenKind::Ident) ts_.fail(s, fmt::format("expected a field name after '.' but found {}", detail::describe(s)));
      f.path.push_back(ts_.next().text);
    }
    return f;
  }

  Comparison parseComparison() {
    const Token& start = ts_.peek();
    if (punctIs(start, "(")) {
      ts_.unsupported(start, "parentheses are not supported in WHERE: AND binds tighter than OR, so write "
                             "a.x = 1 AND a.y = 2 OR a.x = 3");
    }
    if (keywordIs(start, "NOT")) {
      ts_.unsupported(start, "NOT is not supported: use !=, IS NOT NULL or the opposite comparison");
    }
    if (keywordIs(start, "EXISTS")) ts_.unsupported(start, "EXISTS is not supported: use IS NOT NULL");
    Comparison c;
    c.pos = start.pos;
    c.field = parseFieldRef(false);
    const Token& op = ts_.peek();
    if (punctIs(op, "=") && punctIs(ts_.peek(1), "~")) {
      ts_.unsupported(op, "regular expressions (=~) are not supported: use LIKE, CONTAINS or STARTS WITH");
    }
    if (punctIs(op, "=")) c.op = CompareOp::Eq;
    else if (punctIs(op, "!=") || punctIs(op, "<>")) c.op = CompareOp::Ne;
    else if (punctIs(op, "<")) c.op = CompareOp::Lt;
    else if (punctIs(op, ">")) c.op = CompareOp::Gt;
    else if (punctIs(op, "<=")) c.op = CompareOp::Le;
    else if (punctIs(op, ">=")) c.op = CompareOp::Ge;
    else if (keywordIs(op, "LIKE")) c.op = CompareOp::Like;
    else if (keywordIs(op, "CONTAINS")) c.op = CompareOp::Contains;
    else if (keywordIs(op, "IN")) c.op = CompareOp::In;
    else if (keywordIs(op, "STARTS")) {
      ts_.next();
      if (!keywordIs(ts_.peek(), "WITH")) ts_.fail(ts_.peek(), "expected WITH after STARTS");
      c.op = CompareOp::StartsWith;
    } else if (keywordIs(op, "ENDS")) {
      ts_.unsupported(op, "ENDS WITH is not supported: use LIKE '%suffix'");
    } else if (keywordIs(op, "IS")) {
      ts_.next();
      bool negated = ts_.acceptKeyword("NOT");
      if (!keywordIs(ts_.peek(), "NULL")) ts_.fail(ts_.peek(), fmt::format("expected NULL but found {}", detail::describe(ts_.peek())));
      ts_.next();
      c.op = negated ? CompareOp::IsNotNull : CompareOp::IsNull;
      return c;
    } else if (keywordIs(op, "NOT")) {
      ts_.unsupported(op, "NOT is not supported: use !=, IS NOT NULL or the opposite comparison");
    } else if (punctIs(op, "~")) {
      ts_.unsupported(op, "regular expressions are not supported: use LIKE, CONTAINS or STARTS WITH");
    } else {
      ts_.fail(op, fmt::format("expected a comparison operator but found {}", detail::describe(op)));
    }
    ts_.next();
    const Token& v = ts_.peek();
    if (v.kind == TokenKind::Ident && !keywordIs(v, "TRUE") && !keywordIs(v, "FALSE") && !keywordIs(v, "NULL")) {
      ts_.unsupported(v, "comparing two fields is not supported: compare a field with a literal or a $parameter");
    }
    c.value = parseLiteral();
    if (c.op == CompareOp::In) {
      if (!std::holds_alternative<LiteralList>(c.value.value) && !std::holds_alternative<ParamRef>(c.value.value)) {
        ts_.fail(v, "IN takes a list such as ['a', 'b']");
      }
    } else if (std::holds_alternative<LiteralList>(c.value.value)) {
      ts_.fail(v, "a list is only allowed after IN");
    }
    return c;
  }

  Literal parseLiteral() {
    const Token& t = ts_.peek();
    Literal l;
    l.pos = t.pos;
    bool negative = false;
    if (punctIs(t, "-")) {
      ts_.next();
      negative = true;
    }
    const Token& v = ts_.peek();
    if (v.kind == TokenKind::Integer) {
      if (v.integerOverflow) ts_.invalidInput(v, "integer literal out of range");
      l.value = negative ? -v.intValue : v.intValue;
    } else if (v.kind == TokenKind::Float) {
      l.value = negative ? -v.floatValue : v.floatValue;
    } else if (negative) {
      ts_.fail(v, "expected a number after '-'");
    } else if (v.kind == TokenKind::String) {
      l.value = v.text;
    } else if (v.kind == TokenKind::Param) {
      l.value = ParamRef{v.text};
    } else if (keywordIs(v, "TRUE")) {
      l.value = true;
    } else if (keywordIs(v, "FALSE")) {
      l.value = false;
    } else if (keywordIs(v, "NULL")) {
      l.value = std::monostate{};
    } else if (punctIs(v, "[")) {
      ts_.next();
      LiteralList items;
      if (!punctIs(ts_.peek(), "]")) {
        for (;;) {
          Literal item = parseLiteral();
          if (std::holds_alternative<LiteralList>(item.value)) ts_.fail(ts_.peek(), "lists cannot be nested");
          items.push_back(std::move(item));
          if (!ts_.acceptPunct(",")) break;
        }
      }
      ts_.expectPunct("]", " to close the list");
      l.value = std::move(items);
      return l;
    } else {
      ts_.fail(v, fmt::format("expected a literal (string, number, boolean, list or $parameter) but found {}",
                              detail::describe(v)));
    }
    ts_.next();
    return l;
  }

  // item := field | agg ( [DISTINCT] (field | var | *) ), with `AS alias` in RETURN.
  ReturnItem parseItem(bool inReturn) {
    ReturnItem item;
    const Token& v = ts_.peek();
    item.pos = v.pos;
    static constexpr std::pair<const char*, PathFunction> kPathFns[] = {{"length", PathFunction::Length},
                                                                        {"nodes", PathFunction::Nodes},
                                                                        {"relationships", PathFunction::Relationships},
                                                                        {"rels", PathFunction::Relationships}};
    for (auto& [name, fn] : kPathFns) {
      if (v.kind == TokenKind::Ident && punctIs(ts_.peek(1), "(") && detail::asciiLower(v.text) == name) {
        item.pathFunction = fn;
        ts_.next();
        ts_.next();
        const Token& p = ts_.peek();
        if (p.kind != TokenKind::Ident || !punctIs(ts_.peek(1), ")")) {
          ts_.fail(p, fmt::format("{}() takes a path variable, e.g. MATCH p = (a)-[*1..3]->(b) RETURN {}(p)", v.text,
                                  v.text));
        }
        item.field.var = ts_.next().text;
        item.field.pos = p.pos;
        ts_.next();
        break;
      }
    }
    if (item.pathFunction == PathFunction::None && v.kind == TokenKind::Ident && punctIs(ts_.peek(1), "(")) {
      static constexpr std::pair<const char*, AggregateFn> kFns[] = {
          {"count", AggregateFn::Count}, {"sum", AggregateFn::Sum}, {"avg", AggregateFn::Avg},
          {"min", AggregateFn::Min},     {"max", AggregateFn::Max}, {"collect", AggregateFn::Collect}};
      std::string lower = detail::asciiLower(v.text);
      for (auto& [name, fn] : kFns) {
        if (lower == name) item.aggregate = fn;
      }
      if (item.aggregate == AggregateFn::None) {
        for (auto a : kAggregates) {
          if (lower == a) {
            ts_.unsupported(v, fmt::format("the aggregate {}() is not supported: use count, sum, avg, min, max or "
                                           "collect",
                                           v.text));
          }
        }
        ts_.unsupported(v, fmt::format("functions such as {}() are not supported: {} a variable, var.field or an "
                                       "aggregate (count, sum, avg, min, max, collect)",
                                       v.text, inReturn ? "return" : "order by"));
      }
      ts_.next();
      ts_.expectPunct("(");
      if (ts_.acceptKeyword("DISTINCT")) item.distinctArg = true;
      if (punctIs(ts_.peek(), "*")) {
        if (item.aggregate != AggregateFn::Count || item.distinctArg) {
          ts_.fail(ts_.peek(), fmt::format("only count(*) takes '*': write {}(x.field)", lower));
        }
        ts_.next();
        item.star = true;
      } else {
        item.field = parseFieldRef(true);
      }
      ts_.expectPunct(")", " to close the aggregate");
    } else if (item.pathFunction == PathFunction::None) {
      item.field = parseFieldRef(true);
    }
    if (keywordIs(ts_.peek(), "AS")) {
      if (!inReturn) ts_.fail(ts_.peek(), "AS names RETURN and WITH items, not ORDER BY keys");
      ts_.next();
      const Token& a = ts_.peek();
      if (a.kind != TokenKind::Ident) ts_.fail(a, fmt::format("expected a name after AS but found {}", detail::describe(a)));
      item.alias = ts_.next().text;
    }
    return item;
  }

  void parseReturnItems(std::vector<ReturnItem>& items) {
    for (;;) {
      const Token& t = ts_.peek();
      if (punctIs(t, "*")) ts_.unsupported(t, "RETURN * is not supported: name the variables, e.g. RETURN a, b");
      items.push_back(parseItem(true));
      if (!ts_.acceptPunct(",")) return;
    }
  }

  std::int64_t parseCount(std::string_view clause) {
    bool negative = ts_.acceptPunct("-");
    const Token& t = ts_.peek();
    if (t.kind != TokenKind::Integer) ts_.fail(t, fmt::format("expected an integer after {}", clause));
    ts_.next();
    if (t.integerOverflow) ts_.invalidInput(t, fmt::format("{} is out of range (at most {})", clause, 1'000'000));
    return negative ? -t.intValue : t.intValue;
  }

  detail::TokenStream ts_;
};

}  // namespace

Query parseGql(std::string_view text) { return GqlParser(text).run(); }

}  // namespace khive::query
