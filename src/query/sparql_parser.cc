// SPARQL front end: the SELECT subset of docs/query.md, turned into the same chain AST as GQL.
//
//   query   := (PREFIX pname: <iri>)* SELECT [DISTINCT] (item+ | *) [WHERE] { triples }
//              [GROUP BY ?v+] [HAVING (agg op literal)+] [ORDER BY (?v | ASC(?v) | DESC(?v))+]
//              [LIMIT n] [OFFSET n]
//   item    := ?v | (agg AS ?v)        agg: COUNT|SUM|AVG|MIN|MAX|SAMPLE|GROUP_CONCAT([DISTINCT] ?v | *)
//   triples := subject predicate object ((; predicate object) | (, object))* (. triples)* [.]
//   ?x a :kind          label          ?x :rel ?y     edge (?x)-[:rel]->(?y)
//   ?x :rel+ ?y         *1..5          ?x :rel{m,n} ?y  *m..n
//   ?x :prop 'text'     property equality (also numbers and booleans)
//   ?x :prop ?v         value variable: ?v is the property (prop is no relation, ?v no subject)
//
// The triples must form one unbranched chain over the variables; the chain is laid out from
// one of its ends, with each edge's direction taken from its subject.

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "khive/core/vocabulary.h"
#include "khive/query/compiler.h"
#include "khive/query/parse.h"
#include "query/token_stream.h"

namespace khive::query {

using detail::keywordIs;
using detail::punctIs;
using detail::Token;
using detail::TokenKind;

namespace {

constexpr std::string_view kUpdateVerbs[] = {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE",
                                             "ADD",    "MOVE",   "COPY", "WITH",  "MERGE", "SET"};

struct Triple {
  std::size_t block = 0;  // 0: the required triples; else an OPTIONAL, MINUS or FILTER NOT EXISTS group
  std::string subject;
  std::size_t subjectPos = 0;
  // one of:
  std::optional<std::string> label;          // `a :kind`
  std::optional<PropertyEquality> property;  // `:prop literal`
  std::optional<EdgePattern> edge;           // `:rel ?object`
  std::optional<Comparison> present;         // `:prop ?value` (a value variable): the property is present
  std::string object;
};

class SparqlParser {
 public:
  explicit SparqlParser(std::string_view text) : ts_(text, detail::tokenize(text, detail::LexMode::Sparql)) {}

  Query run() {
    Query q;
    q.language = Language::Sparql;
    parsePrologue();
    rejectNonSelect(ts_.peek());
    ts_.expectKeyword("SELECT");
    if (ts_.acceptKeyword("DISTINCT") || ts_.acceptKeyword("REDUCED")) q.distinct = true;
    std::vector<ReturnItem> selected;
    bool selectAll = false;
    if (ts_.acceptPunct("*")) {
      selectAll = true;
    } else {
      while (ts_.peek().kind == TokenKind::Var || punctIs(ts_.peek(), "(")) {
        if (punctIs(ts_.peek(), "(")) {
          ts_.next();
          ReturnItem item = parseAggregate();
          ts_.expectKeyword("AS");
          if (ts_.peek().kind != TokenKind::Var) ts_.fail(ts_.peek(), "expected a ?variable after AS");
          item.alias = ts_.next().text;
          ts_.expectPunct(")", " to close (aggregate AS ?name)");
          selected.push_back(std::move(item));
          continue;
        }
        ReturnItem item;
        item.field = FieldRef{ts_.peek().text, {}, ts_.peek().pos};
        item.pos = ts_.peek().pos;
        selected.push_back(std::move(item));
        ts_.next();
      }
      if (selected.empty()) ts_.fail(ts_.peek(), fmt::format("expected a ?variable after SELECT but found {}", detail::describe(ts_.peek())));
    }
    if (keywordIs(ts_.peek(), "FROM")) ts_.unsupported(ts_.peek(), "FROM is not supported: khive queries its own graph");
    ts_.acceptKeyword("WHERE");
    ts_.expectPunct("{", " to open the pattern");
    parseGroup();
    ts_.expectPunct("}", " to close the pattern");
    if (ts_.acceptKeyword("GROUP")) {
      ts_.expectKeyword("BY");
      q.explicitGroupBy = true;
      while (ts_.peek().kind == TokenKind::Var) {
        q.groupBy.push_back(FieldRef{ts_.peek().text, {}, ts_.peek().pos});
        ts_.next();
      }
      if (q.groupBy.empty()) ts_.fail(ts_.peek(), "expected a ?variable after GROUP BY");
    }
    if (ts_.acceptKeyword("HAVING")) {
      do {
        ts_.expectPunct("(", " after HAVING");
        HavingCondition h;
        h.item = parseAggregate();
        h.op = parseCompareOp();
        h.value = parseLiteral();
        ts_.expectPunct(")", " to close the HAVING condition");
        q.having.push_back(std::move(h));
      } while (punctIs(ts_.peek(), "("));
    }
    if (ts_.acceptKeyword("ORDER")) {
      ts_.expectKeyword("BY");
      for (;;) {
        OrderItem o;
        const Token& t = ts_.peek();
        bool wrapped = false;
        if (keywordIs(t, "ASC") || keywordIs(t, "DESC")) {
          o.descending = keywordIs(t, "DESC");
          ts_.next();
          ts_.expectPunct("(", " after ASC/DESC");
          wrapped = true;
        } else if (punctIs(t, "(") || (t.kind == TokenKind::Ident && punctIs(ts_.peek(1), "("))) {
          ts_.unsupported(t, "ORDER BY takes ?variables, ASC(?v) or DESC(?v): bind an aggregate with AS and order by "
                             "its name");
        } else if (t.kind != TokenKind::Var) {
          break;
        }
        if (ts_.peek().kind != TokenKind::Var) {
          ts_.unsupported(ts_.peek(), "ORDER BY takes ?variables, ASC(?v) or DESC(?v): bind an aggregate with AS and "
                                      "order by its name");
        }
        o.key.field = FieldRef{ts_.peek().text, {}, ts_.peek().pos};
        ts_.next();
        if (wrapped) ts_.expectPunct(")", " to close ASC/DESC");
        q.orderBy.push_back(std::move(o));
      }
      if (q.orderBy.empty()) ts_.fail(ts_.peek(), "expected a ?variable after ORDER BY");
    }
    for (;;) {
      const Token& t = ts_.peek();
      if (keywordIs(t, "LIMIT")) {
        ts_.next();
        q.limit = parseCount("LIMIT");
      } else if (keywordIs(t, "OFFSET")) {
        ts_.next();
        q.skip = parseCount("OFFSET");
      } else if (keywordIs(t, "ORDER") || keywordIs(t, "GROUP") || keywordIs(t, "HAVING")) {
        ts_.fail(t, fmt::format("{} comes before LIMIT and OFFSET, in the order GROUP BY, HAVING, ORDER BY", t.text));
      } else if (keywordIs(t, "UNION") || keywordIs(t, "VALUES")) {
        ts_.unsupported(t, fmt::format("{} is not supported: run one query per pattern", t.text));
      } else {
        break;
      }
    }
    if (!ts_.atEnd()) ts_.fail(ts_.peek(), fmt::format("unexpected {} after the query", detail::describe(ts_.peek())));
    buildChains(q);
    if (selectAll) {
      std::vector<std::string> seenVars;
      std::vector<NodePattern> all = q.nodes;
      for (auto& st : q.stages) {
        for (auto& m : st.matches) {
          if (m.kind == ClauseKind::Match || m.kind == ClauseKind::Optional) all.insert(all.end(), m.nodes.begin(), m.nodes.end());
        }
      }
      for (auto& n : all) {
        if (std::find(seenVars.begin(), seenVars.end(), n.var) != seenVars.end()) continue;
        seenVars.push_back(n.var);
        ReturnItem item;
        item.field = FieldRef{n.var, {}, n.pos};
        selected.push_back(std::move(item));
      }
      for (auto& [name, ref] : values_) {
        if (hiddenValues_.count(name)) continue;  // bound inside MINUS / FILTER NOT EXISTS
        ReturnItem item;
        item.field = FieldRef{name, {}, ref.pos};
        selected.push_back(std::move(item));
      }
    }
    // Value variables stand for the property they bind, and name their column.
    for (auto& item : selected) {
      if (item.aggregate == AggregateFn::None && values_.count(item.field.var)) item.alias = item.field.var;
      resolveValue(item.field);
      q.returns.push_back(std::move(item));
    }
    for (auto& g : q.groupBy) resolveValue(g);
    for (auto& h : q.having) resolveValue(h.item.field);
    for (auto& o : q.orderBy) resolveValue(o.key.field);
    return q;
  }

 private:
  void resolveValue(FieldRef& f) {
    auto it = values_.find(f.var);
    if (it != values_.end() && f.path.empty()) f = it->second;
  }

  // agg := COUNT ( [DISTINCT] (* | ?v) ) | SUM|AVG|MIN|MAX|SAMPLE ( [DISTINCT] ?v )
  //      | GROUP_CONCAT ( [DISTINCT] ?v [; SEPARATOR = 'text'] )       (after the opening '(')
  ReturnItem parseAggregate() {
    static constexpr std::pair<const char*, AggregateFn> kFns[] = {
        {"count", AggregateFn::Count}, {"sum", AggregateFn::Sum},       {"avg", AggregateFn::Avg},
        {"min", AggregateFn::Min},     {"max", AggregateFn::Max},       {"group_concat", AggregateFn::GroupConcat},
        {"sample", AggregateFn::Sample}};
    const Token& f = ts_.peek();
    ReturnItem item;
    item.pos = f.pos;
    std::string lower = detail::asciiLower(f.text);
    for (auto& [name, fn] : kFns) {
      if (f.kind == TokenKind::Ident && lower == name) item.aggregate = fn;
    }
    if (item.aggregate == AggregateFn::None) {
      ts_.unsupported(f, "expressions in SELECT are not supported: select ?variables or (AGGREGATE(?x) AS ?name) with "
                         "COUNT, SUM, AVG, MIN, MAX, GROUP_CONCAT or SAMPLE");
    }
    ts_.next();
    ts_.expectPunct("(", " after the aggregate");
    if (ts_.acceptKeyword("DISTINCT")) item.distinctArg = true;
    if (punctIs(ts_.peek(), "*")) {
      if (item.aggregate != AggregateFn::Count) ts_.fail(ts_.peek(), "only COUNT takes '*'");
      ts_.next();
      item.star = true;
    } else {
      if (ts_.peek().kind != TokenKind::Var) {
        ts_.unsupported(ts_.peek(), "an aggregate takes one ?variable (expressions are not supported)");
      }
      item.field = FieldRef{ts_.peek().text, {}, ts_.peek().pos};
      ts_.next();
    }
    if (item.aggregate == AggregateFn::GroupConcat && ts_.acceptPunct(";")) {
      if (!keywordIs(ts_.peek(), "SEPARATOR")) ts_.fail(ts_.peek(), "expected SEPARATOR after ';'");
      ts_.next();
      ts_.expectPunct("=", " after SEPARATOR");
      if (ts_.peek().kind != TokenKind::String) ts_.fail(ts_.peek(), "expected a string after SEPARATOR =");
      item.separator = ts_.next().text;
    }
    ts_.expectPunct(")", " to close the aggregate");
    return item;
  }

  CompareOp parseCompareOp() {
    const Token& op = ts_.peek();
    CompareOp out;
    if (punctIs(op, "=")) out = CompareOp::Eq;
    else if (punctIs(op, "!=")) out = CompareOp::Ne;
    else if (punctIs(op, "<")) out = CompareOp::Lt;
    else if (punctIs(op, ">")) out = CompareOp::Gt;
    else if (punctIs(op, "<=")) out = CompareOp::Le;
    else if (punctIs(op, ">=")) out = CompareOp::Ge;
    else ts_.fail(op, fmt::format("expected a comparison (= != < > <= >=) but found {}", detail::describe(op)));
    ts_.next();
    return out;
  }

  void parsePrologue() {
    for (;;) {
      if (ts_.acceptKeyword("PREFIX")) {
        const Token& p = ts_.peek();
        if (p.kind != TokenKind::PrefixedName || p.text.back() != ':') {
          ts_.fail(p, fmt::format("expected a prefix such as kg: after PREFIX but found {}", detail::describe(p)));
        }
        ts_.next();
        if (ts_.peek().kind != TokenKind::Iri) ts_.fail(ts_.peek(), "expected an <iri> after the prefix");
        ts_.next();
        prefixes_.insert(p.text.substr(0, p.text.size() - 1));
      } else if (ts_.acceptKeyword("BASE")) {
        if (ts_.peek().kind != TokenKind::Iri) ts_.fail(ts_.peek(), "expected an <iri> after BASE");
        ts_.next();
      } else {
        return;
      }
    }
  }

  void rejectNonSelect(const Token& t) {
    for (auto v : kUpdateVerbs) {
      if (keywordIs(t, v)) ts_.unsupported(t, std::string(detail::kReadOnlyMessage));
    }
    for (auto v : {"ASK", "CONSTRUCT", "DESCRIBE"}) {
      if (keywordIs(t, v)) ts_.unsupported(t, fmt::format("{} queries are not supported: write SELECT ?x WHERE {{ ... }}", t.text));
    }
  }

  // Local name of a predicate or class: `:x`, `pfx:x` (declared prefix) or `<.../x>`.
  std::string localName(const Token& t) {
    if (t.kind == TokenKind::Iri) {
      auto cut = t.text.find_last_of("/#");
      std::string local = cut == std::string::npos ? t.text : t.text.substr(cut + 1);
      if (local.empty()) ts_.fail(t, "the IRI has no local name");
      return local;
    }
    auto colon = t.text.find(':');
    std::string prefix = t.text.substr(0, colon);
    if (!prefix.empty() && !prefixes_.count(prefix)) {
      ts_.fail(t, fmt::format("undeclared prefix '{}:' (declare it with PREFIX {}: <...>, or write :{})", prefix,
                              prefix, t.text.substr(colon + 1)));
    }
    std::string local = t.text.substr(colon + 1);
    if (local.empty()) ts_.fail(t, "expected a name after ':'");
    return local;
  }

  // The WHERE group: triples, and (at the top level) OPTIONAL { }, MINUS { } and
  // FILTER NOT EXISTS { } groups of triples.
  void parseGroup(bool nested = false) {
    for (;;) {
      const Token& t = ts_.peek();
      if (punctIs(t, "}")) return;
      if (!nested) {
        std::optional<ClauseKind> kind;
        if (keywordIs(t, "OPTIONAL")) kind = ClauseKind::Optional;
        if (keywordIs(t, "MINUS")) kind = ClauseKind::Minus;
        if (keywordIs(t, "FILTER") && keywordIs(ts_.peek(1), "NOT") && keywordIs(ts_.peek(2), "EXISTS")) {
          kind = ClauseKind::NotExists;
          ts_.next();
          ts_.next();
        }
        if (kind) {
          std::string what = ts_.next().text;
          ts_.expectPunct("{", fmt::format(" after {}", what));
          blocks_.push_back(*kind);
          block_ = blocks_.size() - 1;
          parseGroup(true);
          ts_.expectPunct("}", " to close the group");
          block_ = 0;
          ts_.acceptPunct(".");
          continue;
        }
      } else if (keywordIs(t, "OPTIONAL") || keywordIs(t, "MINUS") || keywordIs(t, "FILTER") || punctIs(t, "{")) {
        ts_.unsupported(t, "groups are not nested: write OPTIONAL, MINUS and FILTER NOT EXISTS at the top level of "
                           "WHERE");
      }
      rejectGroupKeyword(t);
      if (t.kind != TokenKind::Var) {
        if (punctIs(t, "[") || (t.kind == TokenKind::PrefixedName && t.text.rfind("_:", 0) == 0)) {
          ts_.unsupported(t, "blank nodes are not supported: use a ?variable");
        }
        if (t.kind == TokenKind::PrefixedName || t.kind == TokenKind::Iri) {
          ts_.unsupported(t, "constant subjects are not supported: use a ?variable and match its name, e.g. "
                             "?x :name 'LoRA'");
        }
        ts_.fail(t, fmt::format("expected a ?variable or '}}' but found {}", detail::describe(t)));
      }
      std::string subject = t.text;
      std::size_t subjectPos = t.pos;
      ts_.next();
      for (;;) {
        parsePredicateObjects(subject, subjectPos);
        if (ts_.acceptPunct(";")) {
          if (punctIs(ts_.peek(), ".") || punctIs(ts_.peek(), "}")) break;
          continue;
        }
        break;
      }
      if (ts_.acceptPunct(".")) continue;
      if (!punctIs(ts_.peek(), "}")) {
        rejectGroupKeyword(ts_.peek());
        ts_.fail(ts_.peek(), fmt::format("expected '.' or '}}' after a triple but found {}", detail::describe(ts_.peek())));
      }
    }
  }

  void rejectGroupKeyword(const Token& t) {
    if (keywordIs(t, "FILTER")) {
      ts_.unsupported(t, "FILTER is not supported except FILTER NOT EXISTS { ... }: match values with triples "
                         "(?x :name 'LoRA', ?x :year 2021), or use GQL WHERE for comparisons");
    }
    for (auto k : {"UNION", "BIND", "VALUES", "GRAPH", "SERVICE"}) {
      if (keywordIs(t, k)) ts_.unsupported(t, fmt::format("{} is not supported: write one chain of triples", t.text));
    }
    if (punctIs(t, "{")) ts_.unsupported(t, "nested groups are not supported: write one chain of triples");
  }

  void parsePredicateObjects(const std::string& subject, std::size_t subjectPos) {
    const Token& p = ts_.peek();
    bool isA = keywordIs(p, "a") && p.text == "a";
    if (p.kind == TokenKind::Var) {
      ts_.unsupported(p, "variable predicates are not supported: name the relation, e.g. ?x :extends ?y");
    }
    if (punctIs(p, "^")) ts_.unsupported(p, "inverse paths (^) are not supported: swap subject and object");
    if (!isA && p.kind != TokenKind::PrefixedName && p.kind != TokenKind::Iri) {
      ts_.fail(p, fmt::format("expected a predicate (a, :relation or :property) but found {}", detail::describe(p)));
    }
    ts_.next();
    std::string predicate = isA ? "a" : localName(p);
    // Path modifiers.
    EdgePattern edge;
    edge.pos = p.pos;
    const Token& m = ts_.peek();
    if (punctIs(m, "+")) {
      ts_.next();
      edge.variableLength = true;
      edge.minHops = 1;
      edge.maxHops = kDefaultHops;
    } else if (punctIs(m, "*")) {
      ts_.unsupported(m, "'*' paths are not supported (zero hops): use + for 1..5 hops or {1,n}");
    } else if (punctIs(m, "?")) {
      ts_.unsupported(m, "'?' paths are not supported (zero hops): use {1,1} or drop the modifier");
    } else if (punctIs(m, "/") || punctIs(m, "|")) {
      ts_.unsupported(m, "sequence and alternative paths are not supported: write one triple per hop with a "
                         "?variable in between");
    } else if (punctIs(m, "{")) {
      ts_.next();
      edge.variableLength = true;
      edge.minHops = hops(ts_.peek());
      ts_.next();
      edge.maxHops = edge.minHops;
      if (ts_.acceptPunct(",")) {
        if (ts_.peek().kind == TokenKind::Integer) {
          edge.maxHops = hops(ts_.peek());
          ts_.next();
        } else {
          edge.openUpperBound = true;
        }
      }
      ts_.expectPunct("}", " to close the {m,n} range");
    }
    for (;;) {
      Triple tr;
      tr.block = block_;
      tr.subject = subject;
      tr.subjectPos = subjectPos;
      const Token& o = ts_.peek();
      if (isA) {
        if (edge.variableLength) ts_.fail(m, "'a' takes no path modifier");
        if (o.kind != TokenKind::PrefixedName && o.kind != TokenKind::Iri) {
          ts_.fail(o, fmt::format("expected a class such as :concept after 'a' but found {}", detail::describe(o)));
        }
        ts_.next();
        tr.label = localName(o);
      } else if (o.kind == TokenKind::Var) {
        ts_.next();
        EdgePattern e = edge;
        e.relations = {predicate};
        tr.edge = e;
        tr.object = o.text;
      } else {
        if (edge.variableLength) ts_.fail(m, "a path modifier needs a ?variable as object");
        PropertyEquality pe;
        pe.key = predicate;
        pe.pos = p.pos;
        pe.value = parseLiteral();
        tr.property = pe;
      }
      if (triples_.size() >= kMaxTriplePatterns) {
        ts_.invalidInput(o, fmt::format("the WHERE block has more than {} triple patterns; split it into smaller "
                                        "queries",
                                        kMaxTriplePatterns));
      }
      triples_.push_back(std::move(tr));
      if (!ts_.acceptPunct(",")) break;
    }
  }

  int hops(const Token& t) {
    if (t.kind != TokenKind::Integer) ts_.fail(t, "expected a hop count in {m,n}");
    return t.intValue > 1000 || t.integerOverflow ? 1000 : static_cast<int>(t.intValue);
  }

  Literal parseLiteral() {
    const Token& t = ts_.peek();
    Literal l;
    l.pos = t.pos;
    bool negative = ts_.acceptPunct("-");
    if (!negative) ts_.acceptPunct("+");
    const Token& v = ts_.peek();
    if (v.kind == TokenKind::Integer) {
      if (v.integerOverflow) ts_.invalidInput(v, "integer literal out of range");
      l.value = negative ? -v.intValue : v.intValue;
    } else if (v.kind == TokenKind::Float) {
      l.value = negative ? -v.floatValue : v.floatValue;
    } else if (v.kind == TokenKind::String && !negative) {
      l.value = v.text;
    } else if ((keywordIs(v, "true") || keywordIs(v, "false")) && !negative) {
      l.value = keywordIs(v, "true");
    } else if (v.kind == TokenKind::PrefixedName || v.kind == TokenKind::Iri) {
      ts_.unsupported(v, "IRIs as objects are not supported: link nodes with ?variables (?x :rel ?y) and match "
                         "names with literals (?y :name 'LoRA')");
    } else {
      ts_.fail(v, fmt::format("expected a ?variable or a literal but found {}", detail::describe(v)));
    }
    ts_.next();
    if (punctIs(ts_.peek(), "^^") || punctIs(ts_.peek(), "@")) {
      ts_.unsupported(ts_.peek(), "typed and language-tagged literals are not supported: write 'text' or a number");
    }
    return l;
  }

  std::int64_t parseCount(std::string_view clause) {
    bool negative = ts_.acceptPunct("-");
    const Token& t = ts_.peek();
    if (t.kind != TokenKind::Integer) ts_.fail(t, fmt::format("expected an integer after {}", clause));
    ts_.next();
    if (t.integerOverflow) ts_.invalidInput(t, fmt::format("{} is out of range", clause));
    return negative ? -t.intValue : t.intValue;
  }

  // The required triples are Query's chain, or the first clause of a pipeline whose further
  // clauses are the OPTIONAL, MINUS and FILTER NOT EXISTS groups in written order.
  void buildChains(Query& q) {
    bindValueVariables();
    if (blocks_.size() == 1) {
      buildChain(0, q.nodes, q.edges, q.where);
      return;
    }
    Stage stage;
    for (std::size_t b = 0; b < blocks_.size(); ++b) {
      MatchClause m;
      m.kind = blocks_[b];
      buildChain(b, m.nodes, m.edges, m.where);
      stage.matches.push_back(std::move(m));
    }
    q.stages.push_back(std::move(stage));
  }

  // `?x :p ?v` binds the value variable ?v to the property p of ?x when p is not a relation
  // of the vocabulary and ?v is no subject: the triple is then a field of ?x that must be
  // present (a condition IS NOT NULL in its group), not an edge.
  void bindValueVariables() {
    std::set<std::string> subjects;
    for (auto& t : triples_) subjects.insert(t.subject);
    static const std::set<std::string> kRelations = [] {
      std::set<std::string> r;
      for (auto v : vocab::defaultRelations()) r.insert(std::string(v));
      return r;
    }();
    for (auto& t : triples_) {
      if (!t.edge || t.edge->variableLength || subjects.count(t.object)) continue;
      std::string key = t.edge->relations.at(0);
      if (kRelations.count(detail::asciiLower(key))) continue;
      if (values_.count(t.object)) {
        failAt(t.edge->pos, QueryErrorClass::Unsupported,
               fmt::format("?{} is bound twice: a value variable names one property of one node", t.object));
      }
      std::vector<std::string> path = key == "name" || key == "entity_type" ? std::vector<std::string>{key}
                                                                            : std::vector<std::string>{"properties", key};
      values_[t.object] = FieldRef{t.subject, path, t.edge->pos};
      if (blocks_[t.block] == ClauseKind::Minus || blocks_[t.block] == ClauseKind::NotExists) hiddenValues_.insert(t.object);
      Comparison present;
      present.field = values_[t.object];
      present.op = CompareOp::IsNotNull;
      present.pos = t.edge->pos;
      t.present = present;
      t.edge.reset();
    }
  }

  // Lays the triples of one group out as one chain, or rejects them as disconnected, branched
  // or cyclic.
  void buildChain(std::size_t block, std::vector<NodePattern>& outNodes, std::vector<EdgePattern>& outEdges,
                  std::optional<WhereClause>& where) {
    std::vector<std::string> order;  // variables in order of first mention
    std::map<std::string, NodePattern> nodes;
    auto mention = [&](const std::string& v, std::size_t pos) {
      if (!nodes.count(v)) {
        order.push_back(v);
        NodePattern n;
        n.var = v;
        n.pos = pos;
        nodes[v] = n;
      }
    };
    for (auto& t : triples_) {
      if (t.block != block || !t.present) continue;
      if (!where) where = WhereClause{{{}}};
      where->anyOf[0].push_back(*t.present);
    }
    std::vector<const Triple*> edges;
    for (auto& t : triples_) {
      if (t.block != block) continue;
      mention(t.subject, t.subjectPos);
      if (t.edge) {
        mention(t.object, t.edge->pos);
        edges.push_back(&t);
      }
    }
    if (order.empty()) ts_.fail(ts_.peek(), "the pattern is empty: write at least one triple");
    for (auto& t : triples_) {
      if (t.block != block) continue;
      auto& n = nodes[t.subject];
      if (t.label) {
        if (n.label && *n.label != *t.label) {
          failAt(t.subjectPos, QueryErrorClass::Unsupported,
                 fmt::format("?{} has two classes: a node takes one class; run one query per class", t.subject));
        }
        n.label = t.label;
      }
      if (t.property) n.properties.push_back(*t.property);
    }
    std::map<std::string, std::vector<const Triple*>> incident;
    for (auto* e : edges) {
      if (e->subject == e->object) {
        failAt(e->edge->pos, QueryErrorClass::Unsupported,
               fmt::format("?{} is repeated in one triple: a chain visits each variable once; use a second variable", e->subject));
      }
      incident[e->subject].push_back(e);
      incident[e->object].push_back(e);
    }
    for (auto& v : order) {
      if (incident[v].size() > 2) {
        failAt(nodes[v].pos, QueryErrorClass::Unsupported,
               fmt::format("the pattern branches at ?{}: write one unbranched chain such as ?a :r ?b . ?b :s ?c, and "
                           "run a second query for the other branch",
                           v));
      }
    }
    if (edges.size() != order.size() - 1) {
      if (edges.size() >= order.size()) {
        failAt(edges.back()->edge->pos, QueryErrorClass::Unsupported,
               "the pattern closes a cycle (a variable is repeated): write an open chain and compare ids in the caller");
      }
      failAt(nodes[order.back()].pos, QueryErrorClass::Unsupported,
             "the pattern is disconnected: link every ?variable into one chain (?a :r ?b . ?b :s ?c), or run one "
             "query per part");
    }
    if (edges.size() > kMaxPathEdges) {
      failAt(edges[kMaxPathEdges]->edge->pos, QueryErrorClass::InvalidInput,
             fmt::format("the pattern has more than {} edges; split it into smaller queries", kMaxPathEdges));
    }
    // Start from the end of the chain mentioned first.
    std::string current;
    for (auto& v : order) {
      if (incident[v].size() <= 1) {
        current = v;
        break;
      }
    }
    std::set<const Triple*> used;
    outNodes.push_back(nodes[current]);
    while (used.size() < edges.size()) {
      const Triple* next = nullptr;
      for (auto* e : incident[current]) {
        if (!used.count(e)) next = e;
      }
      if (!next) {
        failAt(nodes[current].pos, QueryErrorClass::Unsupported,
               "the pattern is disconnected: link every ?variable into one chain, or run one query per part");
      }
      used.insert(next);
      EdgePattern e = *next->edge;
      e.direction = next->subject == current ? EdgeDirection::Out : EdgeDirection::In;
      current = next->subject == current ? next->object : next->subject;
      outEdges.push_back(e);
      outNodes.push_back(nodes[current]);
    }
  }

  [[noreturn]] void failAt(std::size_t offset, QueryErrorClass cls, const std::string& message) {
    std::size_t pos = characterPosition(ts_.text(), offset);
    throw QueryError(cls, fmt::format("{} (at position {})", message, pos), pos);
  }

  detail::TokenStream ts_;
  std::set<std::string> prefixes_;
  std::vector<Triple> triples_;
  std::vector<ClauseKind> blocks_{ClauseKind::Match};
  std::size_t block_ = 0;
  std::map<std::string, FieldRef> values_;  // value variable -> the property it binds
  std::set<std::string> hiddenValues_;      // value variables of MINUS / FILTER NOT EXISTS groups
};

}  // namespace

Query parseSparql(std::string_view text) { return SparqlParser(text).run(); }

Query parse(std::string_view text, Language language) {
  return language == Language::Gql ? parseGql(text) : parseSparql(text);
}

Language detectLanguage(std::string_view text) noexcept {
  std::size_t i = 0;
  for (;;) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) ++i;
    if (i < text.size() && text[i] == '#') {
      while (i < text.size() && text[i] != '\n') ++i;
      continue;
    }
    break;
  }
  std::size_t j = i;
  while (j < text.size() && ((text[j] >= 'A' && text[j] <= 'Z') || (text[j] >= 'a' && text[j] <= 'z'))) ++j;
  std::string word = detail::asciiLower(text.substr(i, j - i));
  for (auto w : {"select", "prefix", "base", "ask", "construct", "describe", "insert", "load", "clear", "add",
                 "move", "with"}) {
    if (word == w) return Language::Sparql;
  }
  // DELETE/DROP/COPY/CREATE are write verbs in both languages: SPARQL when followed by
  // DATA/WHERE/{ /GRAPH/SILENT, else GQL. Both reject them as writes.
  return Language::Gql;
}

}  // namespace khive::query
