// Binder/validator (stage 2): resolves variables, fields and relations against the catalog and
// the vocabulary, checks hop bounds, literal types and limits, and expands RETURN items into
// named columns. Everything the compiler writes as an identifier has been whitelisted here.

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <cctype>
#include <set>
#include <span>

#include "khive/core/vocabulary.h"
#include "khive/query/compiler.h"
#include "khive/query/errors.h"
#include "query/catalog.h"
#include "query/lexer.h"

namespace khive::query {

namespace {

using detail::FieldInfo;

[[noreturn]] void fail(QueryErrorClass cls, const std::string& message) { throw QueryError(cls, message); }

std::string joinNames(const std::vector<std::string>& names) {
  std::string out;
  for (auto& n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

struct VarInfo {
  bool isEdge = false;
  int index = 0;
  bool isValue = false;  // a value slot of a pipeline's projection (a WITH alias)
  ValueType type = ValueType::Text;
};

bool isNumber(const Scalar& s) {
  return std::holds_alternative<std::int64_t>(s) || std::holds_alternative<double>(s);
}

const char* typeName(const Scalar& s) {
  switch (s.index()) {
    case 0: return "null";
    case 1: return "a boolean";
    case 2: return "an integer";
    case 3: return "a float";
    default: return "a string";
  }
}

// What a Binder binds: a whole single-chain query, one pattern clause of a pipeline (its
// named variables become the columns), a WITH projection or the final RETURN of a pipeline.
enum class Role { Single, Pattern, With, Return };

class Binder {
 public:
  Binder(const Query& q, const CompileOptions& o, Role role = Role::Single, const std::vector<BoundSlot>* input = nullptr)
      : q_(q), o_(o), role_(role), input_(input) {}

  // With: the slots of the projected rows (one per column), after run().
  std::vector<BoundSlot> outSlots;

  BoundQuery run() {
    checkOptions();
    loadVocabulary();
    BoundQuery b;
    b.namespaces = o_.namespaces;
    b.rowCap = o_.rowCap;
    if (role_ == Role::With || role_ == Role::Return) {
      bindInput(b);
    } else {
      bindPattern(b);
    }
    if (role_ == Role::Pattern) return b;
    std::set<std::string> seen;
    if (role_ == Role::With) bindWithItems(b, seen);
    for (auto& r : role_ == Role::With ? std::vector<ReturnItem>{} : q_.returns) {
      for (auto& col : bindItem(r)) {
        if (seen.insert(col.name).second) {
          b.columns.push_back(std::move(col));
        } else if (!r.alias.empty()) {
          fail(QueryErrorClass::Compile, fmt::format("two columns are named '{}': give each its own alias", r.alias));
        } else if (role_ == Role::With) {
          fail(QueryErrorClass::Compile, fmt::format("WITH names '{}' twice", col.name));
        }
      }
    }
    if (b.columns.empty()) fail(QueryErrorClass::Compile, "RETURN names nothing");
    b.variableLength = std::any_of(b.edges.begin(), b.edges.end(), [](const BoundEdge& e) { return e.variableLength; });
    b.distinct = q_.distinct || b.variableLength;
    for (auto& h : q_.having) {
      if (h.item.aggregate == AggregateFn::None) {
        fail(QueryErrorClass::Unsupported, "HAVING compares an aggregate, such as HAVING (COUNT(?x) > 1); filter "
                                           "other values with the pattern");
      }
      auto cols = bindItem(h.item);
      BoundHaving bh{cols.at(0), h.op, {}};
      auto values = resolveValues(h.value);
      if (values.size() != 1 || std::holds_alternative<std::monostate>(values[0]) ||
          h.op == CompareOp::In || h.op == CompareOp::Like) {
        fail(QueryErrorClass::Compile, "HAVING compares an aggregate with one number or string");
      }
      bool textAgg = bh.item.type == ValueType::Text || bh.item.type == ValueType::Id;
      if (textAgg != std::holds_alternative<std::string>(values[0])) {
        fail(QueryErrorClass::Compile, fmt::format("HAVING compares {} with {}: use a {}", bh.item.name,
                                                   typeName(values[0]), textAgg ? "string" : "number"));
      }
      bh.value = values[0];
      b.having.push_back(std::move(bh));
    }
    b.aggregated = !b.having.empty() || std::any_of(b.columns.begin(), b.columns.end(), [](const BoundColumn& c) {
      return c.aggregate != AggregateFn::None;
    });
    bindGrouping(b);
    for (auto& o : q_.orderBy) b.orderBy.push_back(bindOrder(o, b));
    if (q_.skip) {
      if (*q_.skip < 0 || *q_.skip > kMaxLimit) {
        fail(QueryErrorClass::InvalidInput, fmt::format("SKIP must be between 0 and {}, got {}", kMaxLimit, *q_.skip));
      }
      b.skip = q_.skip;
    }
    if (q_.limit) {
      if (*q_.limit < 1 || *q_.limit > kMaxLimit) {
        fail(QueryErrorClass::InvalidInput, fmt::format("LIMIT must be between 1 and {}, got {}", kMaxLimit, *q_.limit));
      }
      b.limit = q_.limit;
    }
    return b;
  }

 private:
  void bindPattern(BoundQuery& b) {
    if (q_.nodes.empty() || q_.nodes.size() != q_.edges.size() + 1) {
      fail(QueryErrorClass::Compile, "a pattern is one chain node (edge node)*");
    }
    // Variables first, so inline properties can refer to the node being bound.
    for (std::size_t i = 0; i < q_.nodes.size(); ++i) declare(q_.nodes[i].var, false, static_cast<int>(i));
    for (std::size_t i = 0; i < q_.edges.size(); ++i) declare(q_.edges[i].var, true, static_cast<int>(i));
    for (std::size_t i = 0; i < q_.nodes.size(); ++i) {
      BoundNode n = bindNode(q_.nodes[i], static_cast<int>(i));
      // A variable bound by an earlier clause keeps its substrates (a label narrows them).
      if (int k = inputSlot(n.var); k >= 0) {
        const BoundNode& before = (*input_)[k].node;
        n.slot = k;
        n.entities = n.entities && before.entities;
        n.notes = n.notes && before.notes;
        n.events = n.events && before.events;
      }
      b.nodes.push_back(std::move(n));
    }
    nodes_ = &b.nodes;
    for (auto& e : q_.edges) b.edges.push_back(bindEdge(e));
    if (q_.path) bindPath(b);
    bindWhere(b);
  }

  // A named path: its variable, and the shapes of chain it may name. A path with a
  // variable-length edge is that one edge (the walk carries the nodes and edges it passed).
  void bindPath(BoundQuery& b) {
    const PathBinding& p = *q_.path;
    if (!p.var.empty()) {
      if (vars_.count(p.var)) {
        fail(QueryErrorClass::Compile,
             fmt::format("'{}' names both the path and a node or edge of it: give the path its own name", p.var));
      }
      pathVar_ = p.var;
    }
    b.path = true;
    b.pathMode = p.mode;
    bool variable = std::any_of(b.edges.begin(), b.edges.end(), [](const BoundEdge& e) { return e.variableLength; });
    if (p.mode != PathMode::All) {
      const char* fn = p.mode == PathMode::Shortest ? "shortestPath" : "allShortestPaths";
      if (b.edges.size() != 1 || !b.edges[0].variableLength) {
        fail(
            QueryErrorClass::Unsupported,
            fmt::format("{}() takes one variable-length edge between two nodes, e.g. p = {}((a {{name: 'dog'}})-[*..6]-"
                        "(b {{name: 'cat'}}))",
                        fn, fn));
      }
      if (b.edges[0].minHops != 1) {
        fail(QueryErrorClass::Unsupported, fmt::format("{}() starts at one hop: write [*..{}] or [*1..{}]", fn,
                                                       b.edges[0].maxHops, b.edges[0].maxHops));
      }
    } else if (variable && b.edges.size() != 1) {
      fail(
          QueryErrorClass::Unsupported,
          "a named path with a variable-length edge is that one edge between two nodes, e.g. p = (a)-[:rel*1..3]->(b): "
          "name a fixed-length chain, or drop the path and return the variables");
    }
  }

  bool isPathItem(const ReturnItem& item) const {
    return item.aggregate == AggregateFn::None &&
           (item.pathFunction != PathFunction::None || (!pathVar_.empty() && item.field.var == pathVar_));
  }

  // `p`, length(p), nodes(p) or relationships(p) as a column.
  BoundColumn pathColumn(const ReturnItem& item) const {
    static constexpr const char* kNames[] = {"", "length", "nodes", "relationships"};
    const char* fn = kNames[static_cast<int>(item.pathFunction)];
    const std::string& v = item.field.var;
    if (pathVar_.empty() || v != pathVar_) {
      fail(QueryErrorClass::Compile, fmt::format("{}({}): '{}' is not a named path; name one with MATCH p = "
                                                 "(a)-[*1..3]->(b) and write {}(p)",
                                                 fn, v, v, fn));
    }
    if (!item.field.path.empty()) {
      fail(QueryErrorClass::Compile, fmt::format("'{0}' is a path, which has no fields: return {0}, length({0}), "
                                                 "nodes({0}) or relationships({0})",
                                                 v));
    }
    static constexpr PathPart kParts[] = {PathPart::Whole, PathPart::Length, PathPart::Nodes, PathPart::Edges};
    BoundColumn c;
    c.field.pathPart = kParts[static_cast<int>(item.pathFunction)];
    c.type = c.field.pathPart == PathPart::Length ? ValueType::Integer : ValueType::Json;
    c.field.type = c.type;
    c.name = !item.alias.empty() ? checkAlias(item.alias) : *fn ? fmt::format("{}_{}", fn, v) : v;
    return c;
  }

  // A projection's variables are the slots of its input rows.
  void bindInput(BoundQuery& b) {
    b.projection = true;
    b.intermediate = role_ == Role::With;
    b.input = *input_;
    for (std::size_t k = 0; k < input_->size(); ++k) {
      const BoundSlot& slot = (*input_)[k];
      b.nodes.push_back(slot.kind == SlotKind::Node ? slot.node : BoundNode{});
      vars_[slot.name] = VarInfo{slot.kind == SlotKind::Edge, static_cast<int>(k), slot.kind == SlotKind::Value, slot.type};
    }
    nodes_ = &b.nodes;
    bindWhere(b);
  }

  void bindWhere(BoundQuery& b) {
    if (!q_.where) return;
    for (auto& conj : q_.where->anyOf) {
      std::vector<BoundPredicate> preds;
      for (auto& c : conj) preds.push_back(bindComparison(c));
      b.where.push_back(std::move(preds));
    }
  }

  int inputSlot(const std::string& var) const {
    if (!input_ || var.empty()) return -1;
    for (std::size_t k = 0; k < input_->size(); ++k) {
      if ((*input_)[k].name == var) return static_cast<int>(k);
    }
    return -1;
  }

  // WITH items: a variable passes through as itself (a record stays a record), any other item
  // is a value that must be named with AS. Columns are named s0, s1, ... (the next step's
  // slots carry the names).
  void bindWithItems(BoundQuery& b, std::set<std::string>& seen) {
    for (auto& r : q_.returns) {
      BoundColumn col;
      BoundSlot slot;
      if (r.aggregate == AggregateFn::None && r.field.path.empty()) {
        auto it = vars_.find(r.field.var);
        if (it == vars_.end()) {
          fail(QueryErrorClass::Compile, fmt::format("unknown variable '{}' in WITH: name it in a pattern before", r.field.var));
        }
        const BoundSlot& in = (*input_)[it->second.index];
        slot = in;
        slot.name = r.alias.empty() ? r.field.var : checkAlias(r.alias);
        col.field = it->second.isValue ? resolve(r.field) : resolve(FieldRef{r.field.var, {"id"}, r.field.pos});
        col.type = in.kind == SlotKind::Value ? in.type : ValueType::Id;
      } else {
        if (r.alias.empty()) {
          fail(QueryErrorClass::Compile, "WITH needs a name for every item that is not a variable: write WITH a.name AS "
                                         "name, count(*) AS n");
        }
        col = bindItem(r).at(0);
        slot.name = r.alias;
        slot.kind = SlotKind::Value;
        slot.type = col.type;
        slot.nullable = true;
      }
      if (!seen.insert(slot.name).second) {
        fail(QueryErrorClass::Compile, fmt::format("WITH names '{}' twice: give each item its own alias", slot.name));
      }
      col.name = fmt::format("s{}", b.columns.size());
      b.columns.push_back(std::move(col));
      outSlots.push_back(std::move(slot));
    }
  }

  void checkOptions() {
    if (o_.namespaces.empty()) {
      fail(QueryErrorClass::InvalidInput, "no namespace in scope: the caller must give at least one namespace");
    }
    for (auto& ns : o_.namespaces) {
      if (ns.empty()) fail(QueryErrorClass::InvalidInput, "an empty namespace name is not allowed in the scope");
    }
    if (o_.rowCap < 1 || o_.rowCap > kMaxRowCap) {
      fail(QueryErrorClass::InvalidInput, fmt::format("the row cap must be between 1 and {}, got {}", kMaxRowCap, o_.rowCap));
    }
    if (!o_.parameters.is_object()) fail(QueryErrorClass::InvalidInput, "query parameters must be a JSON object");
  }

  // The default vocabulary is built once per process; only additions cost per compile.
  void loadVocabulary() {
    static const std::set<std::string> kKnown = [] {
      std::set<std::string> s;
      for (auto r : vocab::defaultRelations()) s.insert(std::string(r));
      return s;
    }();
    static const std::set<std::string> kSymmetric = [] {
      std::set<std::string> s;
      for (auto r : vocab::defaultSymmetricRelations()) s.insert(std::string(r));
      return s;
    }();
    if (o_.extraRelations.empty() && o_.extraSymmetricRelations.empty()) {
      known_ = &kKnown;
      symmetric_ = &kSymmetric;
      return;
    }
    ownKnown_ = kKnown;
    ownSymmetric_ = kSymmetric;
    known_ = &ownKnown_;
    symmetric_ = &ownSymmetric_;
    for (auto& r : o_.extraRelations) ownKnown_.insert(detail::asciiLower(r));
    for (auto& r : o_.extraSymmetricRelations) {
      ownKnown_.insert(detail::asciiLower(r));
      ownSymmetric_.insert(detail::asciiLower(r));
    }
  }

  void declare(const std::string& var, bool isEdge, int index) {
    if (var.empty()) return;
    if (vars_.count(var)) {
      fail(QueryErrorClass::Unsupported,
           fmt::format("variable '{}' is used twice: khive matches one open chain, so a repeated variable (a cycle "
                       "or a join) is not supported; use a new variable and compare ids in the caller",
                       var));
    }
    if (int k = inputSlot(var); k >= 0 && (isEdge || (*input_)[k].kind != SlotKind::Node)) {
      fail(QueryErrorClass::Unsupported,
           fmt::format("'{}' is already bound by an earlier clause to {}: a later pattern may only reuse node "
                       "variables; use a new variable",
                       var, (*input_)[k].kind == SlotKind::Edge ? "an edge" : "a value"));
    }
    vars_[var] = VarInfo{isEdge, index};
  }

  unsigned substratesOf(const BoundNode& n) const {
    return (n.entities ? detail::kEntity : 0u) | (n.notes ? detail::kNote : 0u) | (n.events ? detail::kEvent : 0u);
  }

  BoundNode bindNode(const NodePattern& n, int index) {
    BoundNode b;
    b.var = n.var;
    if (n.label) {
      std::string lower = detail::asciiLower(*n.label);
      if (lower == "entity") {
        b.notes = false;
      } else if (lower == "note") {
        b.entities = false;
      } else if (lower == "event") {
        b.entities = b.notes = false;
        b.events = true;
      } else {
        b.kind = *n.label;
      }
    }
    for (auto& p : n.properties) {
      checkPropertyName(p.key);
      if (p.key == "namespace") {
        fail(QueryErrorClass::Validation,
             "the namespace comes from the caller's scope, never from the query text: remove {namespace: ...}");
      }
      if (std::holds_alternative<std::monostate>(p.value.value)) {
        fail(QueryErrorClass::Unsupported,
             fmt::format("{{{}: null}} matches nothing: write WHERE {}.{} IS NULL instead", p.key,
                         n.var.empty() ? "a" : n.var, p.key));
      }
      std::vector<std::string> path;
      if ((p.key == "name" || p.key == "entity_type") && !b.events) {
        path = {p.key};
      } else {
        path = {"properties", p.key};
      }
      BoundPredicate pred;
      pred.field = resolveNodeField(b, index, path, n.var.empty() ? "(node)" : n.var);
      pred.op = CompareOp::Eq;
      pred.values = resolveValues(p.value);
      checkTypes(pred, p.key);
      b.local.push_back(std::move(pred));
    }
    return b;
  }

  BoundEdge bindEdge(const EdgePattern& e) {
    BoundEdge b;
    b.var = e.var;
    b.direction = e.direction;
    b.variableLength = e.variableLength;
    b.minHops = e.minHops;
    b.maxHops = e.maxHops;
    if (!e.relations.empty()) {
      b.anyRelation = false;
      for (auto& r : e.relations) {
        std::string canon = detail::asciiLower(r);
        if (!known_->count(canon)) {
          std::vector<std::string> all(known_->begin(), known_->end());
          fail(QueryErrorClass::Validation,
               fmt::format("unknown relation '{}'; known relations: {}", r, joinNames(all)));
        }
        auto& into = symmetric_->count(canon) ? b.symmetric : b.relations;
        if (std::find(into.begin(), into.end(), canon) == into.end()) into.push_back(canon);
      }
    } else {
      b.symmetric.assign(symmetric_->begin(), symmetric_->end());
    }
    if (e.variableLength) {
      if (e.minHops == 0) {
        fail(QueryErrorClass::Unsupported,
             "zero-hop ranges (*0..n) are not supported: start at one hop (*1..n) and match the start node on "
             "its own with a second query");
      }
      if (e.openUpperBound) {
        fail(QueryErrorClass::Validation,
             fmt::format("bad hop range: give an upper bound (*{}..m with m <= {})", e.minHops, kMaxHops));
      }
      if (e.maxHops > kMaxHops) {
        fail(QueryErrorClass::Validation,
             fmt::format("bad hop range *{}..{}: at most {} hops", e.minHops, e.maxHops, kMaxHops));
      }
      if (e.minHops > e.maxHops) {
        fail(QueryErrorClass::Validation,
             fmt::format("bad hop range *{}..{}: the lower bound exceeds the upper", e.minHops, e.maxHops));
      }
    }
    return b;
  }

  BoundField resolveNodeField(const BoundNode& n, int index, const std::vector<std::string>& path,
                              const std::string& var) {
    const std::string& name = path[0];
    auto info = detail::findNodeField(name, substratesOf(n));
    if (!info) {
      std::string what = n.events ? "events" : n.entities && n.notes ? "entities and notes" : n.entities ? "entities" : "notes";
      fail(QueryErrorClass::Compile, fmt::format("unknown field '{}.{}': {} have no field '{}'; use {}.properties.{} "
                                                 "for a JSON property",
                                                 var, name, what, name, var, name));
    }
    return makeField(*info, index, false, path, var);
  }

  BoundField makeField(const FieldInfo& info, int index, bool onEdge, const std::vector<std::string>& path,
                       const std::string& var) {
    BoundField f;
    f.alias = index;
    f.onEdge = onEdge;
    f.field = std::string(info.name);
    f.type = info.type;
    if (path.size() > 1) {
      if (info.type != ValueType::Json) {
        fail(QueryErrorClass::Compile,
             fmt::format("'{}.{}' is not a JSON field: only properties have nested paths", var, info.name));
      }
      f.jsonPath.assign(path.begin() + 1, path.end());
    }
    return f;
  }

  // Property names reach SQL only as bound JSON paths, but a path segment must still be one
  // key: letters, digits, '_' and '-' (no '.', '[', quotes).
  static void checkPropertyName(const std::string& key) {
    bool ok = !key.empty();
    for (char c : key) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) ok = false;
    }
    if (!ok) {
      fail(QueryErrorClass::Validation,
           fmt::format("bad property name '{}': use letters, digits, '_' and '-'", key));
    }
  }

  BoundField resolve(const FieldRef& ref) {
    if (!pathVar_.empty() && ref.var == pathVar_) {
      fail(QueryErrorClass::Unsupported,
           fmt::format("'{0}' is a path: compare fields of its end nodes (WHERE b.name = 'x') and return {0}, "
                       "length({0}), nodes({0}) or relationships({0})",
                       ref.var));
    }
    auto it = vars_.find(ref.var);
    if (it == vars_.end() && inputSlot(ref.var) >= 0) {
      fail(QueryErrorClass::Compile,
           fmt::format("'{}' is bound by an earlier clause: the WHERE of a clause names only the variables of its own "
                       "pattern; name '{}' in this pattern, or filter with WITH ... WHERE",
                       ref.var, ref.var));
    }
    if (it != vars_.end() && it->second.isValue) {
      if (!ref.path.empty()) {
        fail(QueryErrorClass::Compile, fmt::format("'{}' is a value (a WITH alias), not a record: use it as it is, "
                                                   "e.g. WHERE {} > 1",
                                                   ref.var, ref.var));
      }
      BoundField f;
      f.alias = it->second.index;
      f.slotValue = true;
      f.type = it->second.type;
      return f;
    }
    if (it == vars_.end()) {
      fail(QueryErrorClass::Compile, fmt::format("unknown variable '{}': name it in the pattern, e.g. (x) or -[x]->", ref.var));
    }
    if (ref.path.empty()) {
      fail(QueryErrorClass::Compile, fmt::format("compare a field of '{}', such as {}.name", ref.var, ref.var));
    }
    for (std::size_t i = 1; i < ref.path.size(); ++i) checkPropertyName(ref.path[i]);
    if (!it->second.isEdge) return resolveNodeField((*nodes_)[it->second.index], it->second.index, ref.path, ref.var);
    auto info = detail::findEdgeField(ref.path[0]);
    if (!info) {
      fail(QueryErrorClass::Compile, fmt::format("unknown edge field '{}.{}'; edges have id, relation, weight, "
                                                 "source_id, target_id, properties, created_at, updated_at",
                                                 ref.var, ref.path[0]));
    }
    return makeField(*info, it->second.index, true, ref.path, ref.var);
  }

  Scalar toScalar(const Json& j, const std::string& param) {
    if (j.is_null()) return std::monostate{};
    if (j.is_boolean()) return j.get<bool>();
    if (j.is_number_integer()) return j.get<std::int64_t>();
    if (j.is_number_unsigned()) {
      auto u = j.get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(INT64_MAX)) fail(QueryErrorClass::InvalidInput, fmt::format("${} is out of range", param));
      return static_cast<std::int64_t>(u);
    }
    if (j.is_number_float()) return j.get<double>();
    if (j.is_string()) return j.get<std::string>();
    fail(QueryErrorClass::InvalidInput, fmt::format("${} must be a string, number, boolean or list of them", param));
  }

  std::vector<Scalar> resolveValues(const Literal& l) {
    std::vector<Scalar> out;
    struct V {
      Binder& self;
      std::vector<Scalar>& out;
      // emplace with in_place_type: g++ 12 warns (maybe-uninitialized) on push_back of a
      // temporary variant holding a string.
      void operator()(std::monostate) { out.emplace_back(std::in_place_type<std::monostate>); }
      void operator()(bool b) { out.emplace_back(std::in_place_type<bool>, b); }
      void operator()(std::int64_t i) { out.emplace_back(std::in_place_type<std::int64_t>, i); }
      void operator()(double d) { out.emplace_back(std::in_place_type<double>, d); }
      void operator()(const std::string& s) { out.emplace_back(std::in_place_type<std::string>, s); }
      void operator()(const LiteralList& list) {
        for (auto& item : list) {
          auto vs = self.resolveValues(item);
          out.insert(out.end(), vs.begin(), vs.end());
        }
      }
      void operator()(const ParamRef& p) {
        if (!self.o_.parameters.contains(p.name)) {
          fail(QueryErrorClass::InvalidInput, fmt::format("no value was supplied for ${}", p.name));
        }
        const Json& j = self.o_.parameters[p.name];
        if (j.is_array()) {
          for (auto& item : j) out.push_back(self.toScalar(item, p.name));
        } else {
          out.push_back(self.toScalar(j, p.name));
        }
      }
    };
    std::visit(V{*this, out}, l.value);
    return out;
  }

  void checkTypes(const BoundPredicate& p, const std::string& what) {
    auto op = p.op;
    if (op == CompareOp::IsNull || op == CompareOp::IsNotNull) return;
    if (p.field.field == "namespace") {
      fail(QueryErrorClass::Validation,
           "the namespace comes from the caller's scope, never from the query text: remove the namespace condition");
    }
    bool textOp = op == CompareOp::Like || op == CompareOp::Contains || op == CompareOp::StartsWith;
    if (op != CompareOp::In && p.values.size() != 1) {
      fail(QueryErrorClass::Compile, fmt::format("{} takes one value", what));
    }
    if (p.field.type == ValueType::Json && p.field.jsonPath.empty() && !p.field.slotValue) {
      fail(QueryErrorClass::Compile, fmt::format("'{}' is a JSON document: compare a property path such as "
                                                 "{}.x, or test it with IS NULL",
                                                 what, what));
    }
    for (auto& v : p.values) {
      if (std::holds_alternative<std::monostate>(v)) {
        fail(QueryErrorClass::Compile, fmt::format("comparing {} with null matches nothing: use IS NULL or IS NOT NULL", what));
      }
      bool jsonField = !p.field.jsonPath.empty() || (p.field.slotValue && p.field.type == ValueType::Json);
      bool textField = p.field.type == ValueType::Text || p.field.type == ValueType::Id;
      bool numField = p.field.type == ValueType::Integer || p.field.type == ValueType::Real;
      bool isString = std::holds_alternative<std::string>(v);
      bool isBool = std::holds_alternative<bool>(v);
      if (textOp && !isString) {
        fail(QueryErrorClass::Compile, fmt::format("LIKE, CONTAINS and STARTS WITH take a string, got {}", typeName(v)));
      }
      if (textField && !isString) {
        fail(QueryErrorClass::Compile, fmt::format("'{}' is text: compare it with a string, not {}", what, typeName(v)));
      }
      if (numField && !isNumber(v)) {
        fail(QueryErrorClass::Compile, fmt::format("'{}' is a number: compare it with a number, not {}", what, typeName(v)));
      }
      if (jsonField && isBool && op != CompareOp::Eq && op != CompareOp::Ne && op != CompareOp::In) {
        fail(QueryErrorClass::Compile, "booleans only compare with =, != and IN");
      }
      if (op == CompareOp::Like) {
        const auto& s = std::get<std::string>(v);
        std::size_t trailing = 0;
        for (auto it = s.rbegin(); it != s.rend() && *it == '\\'; ++it) ++trailing;
        if (trailing % 2 == 1) {
          fail(QueryErrorClass::InvalidInput,
               "a LIKE pattern cannot end with a lone backslash (\\ escapes the next character: write \\\\)");
        }
      }
    }
  }

  BoundPredicate bindComparison(const Comparison& c) {
    BoundPredicate p;
    auto it = vars_.find(c.field.var);
    if (it != vars_.end() && it->second.isEdge && !q_.edges.empty() && q_.edges[it->second.index].variableLength) {
      fail(QueryErrorClass::Unsupported,
           fmt::format("'{}' is a variable-length edge: WHERE may only mention the start and end nodes of a "
                       "variable-length pattern; restrict its hops with [:relation] instead",
                       c.field.var));
    }
    p.field = resolve(c.field);
    p.op = c.op;
    if (c.op != CompareOp::IsNull && c.op != CompareOp::IsNotNull) p.values = resolveValues(c.value);
    std::string what = c.field.var;
    for (auto& s : c.field.path) what += "." + s;
    checkTypes(p, what);
    return p;
  }

  static bool sameField(const BoundField& a, const BoundField& b) {
    return a.alias == b.alias && a.onEdge == b.onEdge && a.slotValue == b.slotValue && a.field == b.field &&
           a.jsonPath == b.jsonPath && a.pathPart == b.pathPart;
  }

  // A RETURN item (or ORDER BY / HAVING operand) as columns: a variable expands to the
  // record's columns, a field or an aggregate is one column.
  std::vector<BoundColumn> bindItem(const ReturnItem& item) {
    if (isPathItem(item)) return {pathColumn(item)};
    if (item.aggregate == AggregateFn::None) {
      auto cols = bindReturn(item.field);
      if (!item.alias.empty()) {
        if (cols.size() != 1) {
          fail(QueryErrorClass::Compile, fmt::format("'{}' is a whole record: alias one of its fields, such as {}.name AS {}",
                                                     item.field.var, item.field.var, item.alias));
        }
        cols[0].name = checkAlias(item.alias);
      }
      return cols;
    }
    static constexpr const char* kNames[] = {"", "count", "sum", "avg", "min", "max", "collect", "group_concat", "sample"};
    const char* fn = kNames[static_cast<int>(item.aggregate)];
    BoundColumn c;
    c.aggregate = item.aggregate;
    c.star = item.star;
    c.distinctArg = item.distinctArg;
    c.separator = item.separator;
    std::string name = fn;
    if (item.distinctArg) name += "_distinct";
    if (!item.star) {
      if (!pathVar_.empty() && item.field.var == pathVar_) {
        fail(QueryErrorClass::Unsupported, fmt::format("{}() of a path is not supported: aggregate a field of its end "
                                                       "nodes, or return the paths",
                                                       fn));
      }
      auto it = vars_.find(item.field.var);
      if (it == vars_.end()) {
        fail(QueryErrorClass::Compile, fmt::format("unknown variable '{}' in {}(): name it in the pattern", item.field.var, fn));
      }
      name += "_" + item.field.var;
      for (auto& s : item.field.path) name += "_" + s;
      if (it->second.isValue) {
        c.field = resolve(item.field);
      } else if (item.field.path.empty()) {
        if (item.aggregate != AggregateFn::Count && item.aggregate != AggregateFn::Sample) {
          fail(QueryErrorClass::Compile, fmt::format("{}({}) needs a field: write {}({}.name) or {}({}.properties.x)", fn,
                                                     item.field.var, fn, item.field.var, fn, item.field.var));
        }
        c.field = resolve(FieldRef{item.field.var, {"id"}, item.field.pos});
      } else {
        c.field = resolve(item.field);
      }
    }
    bool json = c.field.type == ValueType::Json;
    if (json && c.field.jsonPath.empty() && !c.field.slotValue && item.aggregate != AggregateFn::Count && item.aggregate != AggregateFn::Collect) {
      fail(QueryErrorClass::Compile, fmt::format("{}() of a whole JSON document: aggregate a property path such as "
                                                 "{}.properties.x",
                                                 fn, item.field.var));
    }
    bool numeric = c.field.type == ValueType::Integer || c.field.type == ValueType::Real || json;
    switch (item.aggregate) {
      case AggregateFn::Count: c.type = ValueType::Integer; break;
      case AggregateFn::Sum:
      case AggregateFn::Avg:
        if (!numeric) {
          fail(QueryErrorClass::Compile, fmt::format("{}() takes a number: '{}' is text (use count() or collect())", fn,
                                                     name.substr(std::string_view(fn).size() + 1)));
        }
        c.type = item.aggregate == AggregateFn::Sum && c.field.type == ValueType::Integer ? ValueType::Integer : ValueType::Real;
        break;
      case AggregateFn::Min:
      case AggregateFn::Max:
      case AggregateFn::Sample:
        // A JSON property aggregates its numeric values.
        c.type = json ? ValueType::Real : c.field.type;
        break;
      case AggregateFn::Collect: c.type = ValueType::Json; break;
      case AggregateFn::GroupConcat: c.type = ValueType::Text; break;
      case AggregateFn::None: break;
    }
    c.name = item.alias.empty() ? name : checkAlias(item.alias);
    return {c};
  }

  static std::string checkAlias(const std::string& alias) {
    bool ok = !alias.empty() && !std::isdigit(static_cast<unsigned char>(alias[0]));
    for (char ch : alias) {
      if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_')) ok = false;
    }
    if (!ok) fail(QueryErrorClass::Validation, fmt::format("bad alias '{}': use letters, digits and '_'", alias));
    return alias;
  }

  // SPARQL GROUP BY: every selected variable that is not aggregated must be a key; keys not
  // selected still split the groups. (GQL groups by the non-aggregated items implicitly.)
  void bindGrouping(BoundQuery& b) {
    if (!q_.explicitGroupBy && !(q_.language == Language::Sparql && b.aggregated)) return;
    if (!b.aggregated) {
      fail(QueryErrorClass::Unsupported, "GROUP BY without an aggregate: add one, such as (COUNT(*) AS ?n), or use "
                                         "SELECT DISTINCT");
    }
    std::vector<BoundField> keys;
    for (auto& g : q_.groupBy) {
      FieldRef ref = g;
      if (ref.path.empty()) ref.path = {"id"};
      keys.push_back(resolve(ref));
    }
    for (auto& c : b.columns) {
      if (c.aggregate != AggregateFn::None) continue;
      bool grouped = std::any_of(keys.begin(), keys.end(), [&](const BoundField& k) {
        return sameField(k, c.field) || (!k.onEdge && !c.field.onEdge && k.alias == c.field.alias && k.field == "id" &&
                                         k.jsonPath.empty() && q_.language == Language::Sparql);
      });
      if (!grouped) {
        fail(QueryErrorClass::Compile, fmt::format("'{}' is selected but neither aggregated nor in GROUP BY: add it to "
                                                   "GROUP BY or aggregate it, e.g. (SAMPLE(?x) AS ?y)",
                                                   c.name));
      }
    }
    for (auto& k : keys) {
      bool output = std::any_of(b.columns.begin(), b.columns.end(), [&](const BoundColumn& c) {
        return c.aggregate == AggregateFn::None && sameField(c.field, k);
      });
      if (!output) b.groupExtra.push_back(k);
    }
  }

  // An ORDER BY key: an output column (by alias, by the same field or the same aggregate), or,
  // in a query that neither aggregates nor returns DISTINCT rows, any field of the pattern.
  BoundOrder bindOrder(const OrderItem& o, const BoundQuery& b) {
    BoundOrder out;
    out.descending = o.descending;
    const ReturnItem& k = o.key;
    auto columnWhere = [&](const auto& pred) {
      for (std::size_t i = 0; i < b.columns.size(); ++i) {
        if (pred(b.columns[i])) return static_cast<int>(i);
      }
      return -1;
    };
    if (isPathItem(k)) {
      BoundColumn c = pathColumn(k);
      out.column = columnWhere(
          [&](const BoundColumn& x) { return x.aggregate == AggregateFn::None && sameField(x.field, c.field); });
      if (out.column < 0 && (b.aggregated || b.distinct)) {
        fail(QueryErrorClass::Compile,
             fmt::format("ORDER BY {}: return it too when the result is aggregated or DISTINCT "
                         "(a variable-length pattern)",
                         c.name));
      }
      out.field = c.field;
      return out;
    }
    if (k.aggregate == AggregateFn::None && k.field.path.empty()) {
      // A WITH names its columns by the slots it hands on.
      for (std::size_t i = 0; i < outSlots.size() && i < b.columns.size(); ++i) {
        if (outSlots[i].name == k.field.var && outSlots[i].kind == SlotKind::Value) return BoundOrder{static_cast<int>(i), {}, o.descending};
      }
      out.column = columnWhere([&](const BoundColumn& c) { return c.name == k.field.var; });
      if (out.column >= 0) return out;
      auto it = vars_.find(k.field.var);
      if (it == vars_.end()) {
        fail(QueryErrorClass::Compile, fmt::format("unknown name '{}' in ORDER BY: order by a returned column, an alias "
                                                   "or a field such as a.name",
                                                   k.field.var));
      }
      if (it->second.isValue) {
        out.field = resolve(k.field);
        if (b.aggregated || b.distinct) {
          fail(QueryErrorClass::Compile, fmt::format("ORDER BY {}: return it too when the result is aggregated or "
                                                     "DISTINCT",
                                                     k.field.var));
        }
        return out;
      }
      if (q_.language == Language::Gql) {
        fail(QueryErrorClass::Compile, fmt::format("ORDER BY {} orders by a whole record: order by one of its fields, "
                                                   "such as {}.name",
                                                   k.field.var, k.field.var));
      }
    }
    if (k.aggregate != AggregateFn::None) {
      BoundColumn c = bindItem(k).at(0);
      out.column = columnWhere([&](const BoundColumn& x) {
        return x.aggregate == c.aggregate && x.star == c.star && x.distinctArg == c.distinctArg &&
               (c.star || sameField(x.field, c.field));
      });
      if (out.column < 0) {
        fail(QueryErrorClass::Compile, fmt::format("ORDER BY {}: return the aggregate too (with AS to name it) and "
                                                   "order by its name",
                                                   c.name));
      }
      return out;
    }
    FieldRef ref = k.field;
    if (ref.path.empty()) ref.path = {"id"};  // a SPARQL node: its id (the IRI)
    out.field = resolve(ref);
    out.column = columnWhere(
        [&](const BoundColumn& c) { return c.aggregate == AggregateFn::None && sameField(c.field, out.field); });
    if (out.column < 0 && (b.aggregated || b.distinct)) {
      fail(QueryErrorClass::Compile,
           fmt::format("ORDER BY may only name returned columns when the result is {}: return the field too",
                       b.aggregated ? "aggregated" : "DISTINCT (RETURN DISTINCT or a variable-length pattern)"));
    }
    return out;
  }

  std::vector<BoundColumn> bindReturn(const FieldRef& ref) {
    auto it = vars_.find(ref.var);
    if (it == vars_.end()) {
      fail(QueryErrorClass::Compile, fmt::format("unknown variable '{}' in RETURN: name it in the pattern", ref.var));
    }
    std::vector<BoundColumn> out;
    if (it->second.isValue) {
      out.push_back(plainColumn(ref.var, resolve(ref)));
      return out;
    }
    if (ref.path.empty()) {
      std::span<const std::string_view> fields;
      if (it->second.isEdge) {
        fields = detail::kEdgeReturnFields;
      } else if ((*nodes_)[it->second.index].events) {
        fields = detail::kEventReturnFields;
      } else {
        fields = detail::kNodeReturnFields;
      }
      for (auto f : fields) {
        FieldRef r{ref.var, {std::string(f)}, ref.pos};
        out.push_back(plainColumn(ref.var + "_" + std::string(f), resolve(r)));
      }
      return out;
    }
    std::string name = ref.var;
    for (auto& s : ref.path) name += "_" + s;
    out.push_back(plainColumn(name, resolve(ref)));
    return out;
  }

  static BoundColumn plainColumn(std::string name, BoundField f) {
    BoundColumn c;
    c.name = std::move(name);
    c.type = f.jsonPath.empty() ? f.type : ValueType::Json;
    c.field = std::move(f);
    return c;
  }

  const Query& q_;
  const CompileOptions& o_;
  Role role_;
  const std::vector<BoundSlot>* input_;
  const std::set<std::string>* known_ = nullptr;
  const std::set<std::string>* symmetric_ = nullptr;
  std::set<std::string> ownKnown_, ownSymmetric_;
  std::map<std::string, VarInfo> vars_;
  std::string pathVar_;  // the named path's variable, if any
  const std::vector<BoundNode>* nodes_ = nullptr;
};

}  // namespace

// A pipeline: each clause binds against the slots of the steps before it. The final RETURN is
// the BoundQuery returned, with the steps it reads.
BoundQuery bindPipeline(const Query& q, const CompileOptions& o) {
  std::vector<BoundStep> steps;
  std::vector<BoundSlot> slots;
  for (auto& stage : q.stages) {
    for (auto& m : stage.matches) {
      if (steps.empty() && m.kind != ClauseKind::Match) {
        fail(QueryErrorClass::Unsupported, "a query starts with a required pattern: write MATCH (a) OPTIONAL MATCH "
                                           "(a)-->(b), or put the triples before OPTIONAL / MINUS / FILTER NOT EXISTS");
      }
      if (m.path) {
        fail(QueryErrorClass::Unsupported,
             "a named path or shortestPath() is supported in a query of one MATCH and RETURN: drop the other "
             "clauses, or return the variables of the pattern");
      }
      Query sub;
      sub.language = q.language;
      sub.nodes = m.nodes;
      sub.edges = m.edges;
      sub.where = m.where;
      BoundStep step;
      step.kind = m.kind;
      step.query = Binder(sub, o, Role::Pattern, &slots).run();
      bool shared = false;
      for (auto& n : step.query.nodes) {
        if (n.slot < 0) continue;
        shared = true;
        n.seeded = m.kind == ClauseKind::Match || m.kind == ClauseKind::Optional || !slots[n.slot].nullable;
      }
      if (!steps.empty() && !shared) {
        fail(QueryErrorClass::Unsupported,
             "this pattern shares no variable with the patterns before it (a cross product is not supported): "
             "start it from a variable bound before, e.g. MATCH (a) OPTIONAL MATCH (a)-->(b)");
      }
      step.slots = slots;
      if (m.kind == ClauseKind::Match || m.kind == ClauseKind::Optional) {
        bool optional = m.kind == ClauseKind::Optional;
        for (auto& n : step.query.nodes) {
          if (n.var.empty() || n.slot >= 0) continue;
          BoundSlot s{n.var, SlotKind::Node, n, ValueType::Id, optional};
          s.node.local.clear();
          s.node.kind.reset();
          step.slots.push_back(std::move(s));
        }
        for (auto& e : step.query.edges) {
          if (!e.var.empty()) step.slots.push_back(BoundSlot{e.var, SlotKind::Edge, {}, ValueType::Id, optional});
        }
      }
      slots = step.slots;
      steps.push_back(std::move(step));
    }
    if (!stage.with) continue;
    const WithClause& w = *stage.with;
    auto project = [&](const Query& sub) {
      Binder binder(sub, o, Role::With, &slots);
      BoundStep step;
      step.query = binder.run();
      step.slots = binder.outSlots;
      slots = step.slots;
      steps.push_back(std::move(step));
    };
    Query items;
    items.language = q.language;
    items.returns = w.items;
    items.distinct = w.distinct;
    items.orderBy = w.orderBy;
    items.skip = w.skip;
    items.limit = w.limit;
    project(items);
    if (w.where) {
      // WHERE after WITH filters the projected rows: a second projection passing every slot.
      Query filter;
      filter.language = q.language;
      filter.where = w.where;
      for (auto& s : slots) filter.returns.push_back(ReturnItem{FieldRef{s.name, {}, w.pos}});
      project(filter);
    }
  }
  Query fin = q;
  fin.stages.clear();
  BoundQuery b = Binder(fin, o, Role::Return, &slots).run();
  b.steps = std::move(steps);
  return b;
}

BoundQuery bind(const Query& query, const CompileOptions& options) {
  if (!query.stages.empty()) return bindPipeline(query, options);
  return Binder(query, options).run();
}

}  // namespace khive::query
