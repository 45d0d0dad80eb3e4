#include <fmt/format.h>

#include "khive/query/ast.h"

namespace khive::query {

namespace {
std::string literalString(const Literal& l) {
  struct V {
    std::string operator()(std::monostate) const { return "null"; }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(std::int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const { return fmt::format("{}", d); }
    std::string operator()(const std::string& s) const { return fmt::format("'{}'", s); }
    std::string operator()(const LiteralList& list) const {
      std::string out = "[";
      for (std::size_t i = 0; i < list.size(); ++i) out += (i ? ", " : "") + literalString(list[i]);
      return out + "]";
    }
    std::string operator()(const ParamRef& p) const { return "$" + p.name; }
  };
  return std::visit(V{}, l.value);
}

const char* opName(CompareOp op) {
  static constexpr const char* kNames[] = {"=", "!=", "<", ">", "<=", ">=", "LIKE", "CONTAINS", "STARTS WITH", "IN",
                                           "IS NULL", "IS NOT NULL"};
  return kNames[static_cast<int>(op)];
}

std::string fieldString(const FieldRef& f) {
  std::string out = f.var;
  for (auto& p : f.path) out += "." + p;
  return out;
}
}  // namespace

std::string debugString(const Query& q) {
  std::string out = q.language == Language::Gql ? "gql " : "sparql ";
  if (q.path) {
    static constexpr const char* kModes[] = {"", "shortestPath", "allShortestPaths"};
    out += fmt::format("{} = {} ", q.path->var, kModes[static_cast<int>(q.path->mode)]);
  }
  for (std::size_t i = 0; i < q.nodes.size(); ++i) {
    const auto& n = q.nodes[i];
    out += "(" + n.var;
    if (n.label) out += ":" + *n.label;
    for (auto& p : n.properties) out += fmt::format(" {}={}", p.key, literalString(p.value));
    out += ")";
    if (i < q.edges.size()) {
      const auto& e = q.edges[i];
      out += e.direction == EdgeDirection::In ? "<-[" : "-[";
      out += e.var;
      for (std::size_t r = 0; r < e.relations.size(); ++r) out += (r ? "|" : ":") + e.relations[r];
      if (e.variableLength) {
        out += fmt::format("*{}..{}", e.minHops, e.openUpperBound ? std::string() : std::to_string(e.maxHops));
      }
      out += e.direction == EdgeDirection::Out ? "]->" : "]-";
    }
  }
  if (q.where) {
    out += " WHERE ";
    for (std::size_t i = 0; i < q.where->anyOf.size(); ++i) {
      if (i) out += " OR ";
      const auto& conj = q.where->anyOf[i];
      for (std::size_t j = 0; j < conj.size(); ++j) {
        if (j) out += " AND ";
        out += fieldString(conj[j].field) + " " + opName(conj[j].op);
        if (conj[j].op != CompareOp::IsNull && conj[j].op != CompareOp::IsNotNull) out += " " + literalString(conj[j].value);
      }
    }
  }
  out += q.distinct ? " RETURN DISTINCT " : " RETURN ";
  for (std::size_t i = 0; i < q.returns.size(); ++i) out += (i ? ", " : "") + fieldString(q.returns[i].field);
  if (q.skip) out += fmt::format(" SKIP {}", *q.skip);
  if (q.limit) out += fmt::format(" LIMIT {}", *q.limit);
  return out;
}

}  // namespace khive::query
