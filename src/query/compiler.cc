// Compiler (stage 3): BoundQuery -> one SELECT/WITH statement, through a SqlDialect.
//
// Shape of the output, for  MATCH (a:concept {name: 'LoRA'})-[:extends]->(b) RETURN b.name
//
//   SELECT COALESCE(n1e.name, n1n.name) AS "b_name"
//   FROM (SELECT n0e.id FROM entities AS n0e WHERE n0e.deleted_at IS NULL AND n0e.namespace IN (?1)
//           AND n0e.kind = ?2 AND n0e.name = ?3 COLLATE NOCASE
//         UNION ALL SELECT n0n.id FROM notes AS n0n WHERE ... same filters ...) AS n0i
//   LEFT JOIN entities AS n0e ON n0e.id = n0i.id LEFT JOIN notes AS n0n ON n0n.id = n0i.id
//   JOIN edges AS e0 ON e0.source_id = n0i.id AND e0.relation IN (?4)
//        AND e0.deleted_at IS NULL AND e0.endpoint_deleted = 0 AND e0.namespace IN (?1)
//   LEFT JOIN entities AS n1e ON n1e.id = e0.target_id AND <lookupFilter: live, in scope>
//   LEFT JOIN notes AS n1n ON n1n.id = e0.target_id AND ...
//   WHERE (n1e.id IS NOT NULL OR n1n.id IS NOT NULL)
//   LIMIT ?5                                            -- ?5 = row cap + 1 (the sentinel row)
//
// An unlabeled node may be an entity or a note, so it is a pair of LEFT JOINs keyed by the id
// the previous edge produced (primary-key lookups; a UNION view would have to be materialised).
// The first node, which no edge reaches, is driven by a UNION ALL of ids with its filters
// pushed into each branch, so each branch uses its own index.

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <limits>
#include <map>

#include "khive/query/compiler.h"
#include "khive/query/errors.h"
#include "khive/query/parse.h"
#include "query/catalog.h"

namespace khive::query {

namespace {

using Resolver = std::function<std::string(const BoundField&)>;

// Decimal places of real sums and averages (docs/query.md).
constexpr int kRealDigits = 12;

const char* sqlOp(CompareOp op) {
  switch (op) {
    case CompareOp::Eq: return "=";
    case CompareOp::Ne: return "<>";
    case CompareOp::Lt: return "<";
    case CompareOp::Gt: return ">";
    case CompareOp::Le: return "<=";
    case CompareOp::Ge: return ">=";
    default: return "=";
  }
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

std::string quoteIdent(std::string_view name) {
  // Output names are built from query variables ([A-Za-z0-9_]) and catalog fields; quoting keeps
  // their case on PostgreSQL and keeps them clear of keywords.
  return fmt::format("\"{}\"", name);
}

const char* tableOf(unsigned substrate) {
  switch (substrate) {
    case detail::kEntity: return "entities";
    case detail::kNote: return "notes";
    default: return "events";
  }
}

// Where a node's columns come from in the main query.
struct NodeSql {
  bool pair = false;        // entity-or-note: LEFT JOIN pair <alias>e / <alias>n
  bool idOnly = false;      // entity-or-note read for its id alone: an existence test, no join
  unsigned substrate = 0;   // single table: kEntity, kNote or kEvent
  std::string alias;        // n3 (single) or the pair's prefix
  std::string idExpr;       // the id used to join onward
};

class Compilation {
 public:
  Compilation(const SqlDialect& d, const BoundQuery& b) : d_(d), b_(&b) {}

  CompiledQuery run() {
    for (auto& ns : b_->namespaces) nsPh_.push_back(param(ns, ParamType::Text));
    // A pipeline: every step is a CTE q<k> whose columns s0, s1, ... are its slots; the final
    // projection reads the last of them.
    const BoundQuery* last = b_;
    std::string input;
    for (std::size_t k = 0; k < last->steps.size(); ++k) {
      const BoundStep& step = last->steps[k];
      b_ = &step.query;
      ctePrefix_ = fmt::format("q{}", k);
      rawIds_ = true;
      std::string name = ctePrefix_;
      std::string body = step.query.projection ? intermediateSelect(input)
                                               : patternStep(step, k == 0 ? nullptr : &last->steps[k - 1].slots, input, name);
      ctes_.push_back(fmt::format("{} AS ({})", name, body));
      input = name;
    }
    b_ = last;
    rawIds_ = false;
    std::string fromWhere = b_->projection ? projectionFrom(input) : chainFrom();
    CompiledQuery out;
    out.ordered = b_->skip.has_value() || b_->limit.has_value() || !b_->orderBy.empty();
    std::string body = b_->aggregated ? aggregateSelect(fromWhere, out) : plainSelect(fromWhere, out);
    std::string sql;
    if (!ctes_.empty()) sql = "WITH RECURSIVE " + join(ctes_, ", ") + " ";
    sql += body;
    out.rowCap = b_->rowCap;
    std::int64_t fetch = b_->rowCap + 1;
    out.sentinel = true;
    if (b_->limit && *b_->limit <= b_->rowCap) {
      out.rowCap = *b_->limit;
      fetch = *b_->limit;
      out.sentinel = false;
    }
    sql += " LIMIT " + param(fetch, ParamType::Integer);
    if (b_->skip && *b_->skip > 0) sql += " OFFSET " + param(*b_->skip, ParamType::Integer);
    out.sql = std::move(sql);
    out.params = std::move(params_);
    out.paramTypes = std::move(types_);
    return out;
  }

 private:
  // FROM and WHERE of the pattern of b_ (one chain).
  std::string chainFrom() {
    nodes_.assign(b_->nodes.size(), NodeSql{});
    where_.clear();
    pathWalk_.clear();
    // A path with a variable-length edge walks from its first node, so the walk's visited
    // lists run in the written order.
    int driver = b_->path && b_->variableLength ? 0 : chooseDriver();

    // A variable-length edge at the driver makes its walk the outermost row source (the walk
    // is seeded with the driver's ids, so it already applies the driver's filters): the walk's
    // rows then stream to the rest of the query instead of being stored first.
    int right = driver, left = driver - 1;
    std::string from;
    if (right < static_cast<int>(b_->edges.size()) && b_->edges[right].variableLength) {
      from = walkDriver(right, driver, right + 1, false);
      ++right;
    } else if (left >= 0 && b_->edges[left].variableLength) {
      from = walkDriver(left, driver, left, true);
      --left;
    } else {
      from = driverSource(driver);
    }
    // Outward from the driver: rightwards with the written direction, then leftwards with
    // each edge reversed.
    for (int i = right; i < static_cast<int>(b_->edges.size()); ++i) from += joinEdge(i, i, i + 1, false);
    for (int i = left; i >= 0; --i) from += joinEdge(i, i + 1, i, true);

    // Two edge aliases of one fixed-length pattern never bind the same edge (Cypher's
    // relationship uniqueness): in (a)-[]-(b)-[]-(c) the walk a->b->a over one edge is excluded.
    for (std::size_t i = 0; i < b_->edges.size(); ++i) {
      for (std::size_t j = i + 1; j < b_->edges.size(); ++j) {
        if (!b_->edges[i].variableLength && !b_->edges[j].variableLength) {
          where_.push_back(fmt::format("e{}.id <> e{}.id", i, j));
        }
      }
    }
    addWhere();
    return " FROM " + from + (where_.empty() ? "" : " WHERE " + join(where_, " AND "));
  }

  void addWhere() {
    if (b_->where.empty()) return;
    std::vector<std::string> ors;
    for (auto& conj : b_->where) {
      std::vector<std::string> ands;
      for (auto& p : conj) ands.push_back(predicate(p, mainResolver(), mainNameTable(p.field)));
      ors.push_back("(" + join(ands, " AND ") + ")");
    }
    where_.push_back(ors.size() == 1 ? ors[0] : "(" + join(ors, " OR ") + ")");
  }

  // ---- pipelines -------------------------------------------------------------------------
  // A pattern clause of a pipeline: its bindings (the ids of its named variables, distinct
  // with a variable-length edge), joined to the rows before it (`input`, with slots `before`)
  // on the variables they share:
  //
  //   q1c AS (SELECT n0i.id AS x0, e0.id AS y0, e0.target_id AS x1 FROM ... WHERE
  //           n0i.id IN (SELECT b.s0 FROM q0 AS b) ...),        -- a's ids seed the clause
  //   q1 AS (SELECT b.s0, b.s1, c.y0 AS s2, c.x1 AS s3 FROM q0 AS b LEFT JOIN q1c AS c ON c.x0 = b.s0)
  //
  // FILTER NOT EXISTS keeps the rows with no compatible binding; MINUS also keeps those that
  // share no bound variable with it (SPARQL's rule). The first clause's bindings are the rows.
  std::string patternStep(const BoundStep& step, const std::vector<BoundSlot>* before, const std::string& input,
                          const std::string& name) {
    input_ = input;
    std::string fromWhere = chainFrom();
    bool first = before == nullptr;
    std::vector<std::string> select;
    int next = first ? 0 : static_cast<int>(before->size());
    auto column = [&](const std::string& expr, const std::string& local) {
      select.push_back(first ? fmt::format("{} AS s{}", expr, next++) : fmt::format("{} AS {}", expr, local));
    };
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      if (!b_->nodes[i].var.empty()) column(nodes_[i].idExpr, fmt::format("x{}", i));
    }
    for (std::size_t i = 0; i < b_->edges.size(); ++i) {
      if (!b_->edges[i].var.empty()) column(fmt::format("e{}.id", i), fmt::format("y{}", i));
    }
    if (select.empty()) select.push_back("1 AS z");
    bool walks = std::any_of(b_->edges.begin(), b_->edges.end(), [](const BoundEdge& e) { return e.variableLength; });
    std::string bindings = fmt::format("SELECT {}{}{}", walks ? "DISTINCT " : "", join(select, ", "), fromWhere);
    if (first) return bindings;
    std::string c = name + "c";
    ctes_.push_back(fmt::format("{} AS ({})", c, bindings));
    // FILTER NOT EXISTS and MINUS bind nothing new.
    bool binds = step.kind == ClauseKind::Match || step.kind == ClauseKind::Optional;
    std::vector<std::string> cols, on, compatible, bound;
    for (std::size_t j = 0; j < before->size(); ++j) cols.push_back(fmt::format("b.s{}", j));
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      const BoundNode& n = b_->nodes[i];
      if (n.var.empty()) continue;
      if (n.slot < 0) {
        if (binds) cols.push_back(fmt::format("c.x{} AS s{}", i, cols.size()));
        continue;
      }
      std::string slot = fmt::format("b.s{}", n.slot);
      on.push_back(fmt::format("c.x{} = {}", i, slot));
      bool nullable = (*before)[n.slot].nullable;
      compatible.push_back(nullable ? fmt::format("({} IS NULL OR c.x{} = {})", slot, i, slot) : on.back());
      bound.push_back(nullable ? slot + " IS NOT NULL" : d_.boolLiteral(true));
    }
    for (std::size_t i = 0; i < b_->edges.size(); ++i) {
      if (binds && !b_->edges[i].var.empty()) cols.push_back(fmt::format("c.y{} AS s{}", i, cols.size()));
    }
    std::string from = fmt::format(" FROM {} AS b", input);
    std::string exists = fmt::format("EXISTS (SELECT 1 FROM {} AS c WHERE {})", c, join(compatible, " AND "));
    switch (step.kind) {
      case ClauseKind::Match:
        return fmt::format("SELECT {}{} JOIN {} AS c ON {}", join(cols, ", "), from, c, join(on, " AND "));
      case ClauseKind::Optional:
        return fmt::format("SELECT {}{} LEFT JOIN {} AS c ON {}", join(cols, ", "), from, c, join(on, " AND "));
      case ClauseKind::NotExists: return fmt::format("SELECT {}{} WHERE NOT {}", join(cols, ", "), from, exists);
      case ClauseKind::Minus:
        return fmt::format("SELECT {}{} WHERE NOT ({} AND ({}))", join(cols, ", "), from, exists, join(bound, " OR "));
    }
    return bindings;
  }

  // FROM and WHERE of a projection over the rows of `input`: each node slot whose fields are
  // read is looked up by id (LEFT JOIN: an OPTIONAL slot may be NULL), each such edge slot too.
  std::string projectionFrom(const std::string& input) {
    nodes_.assign(b_->input.size(), NodeSql{});
    where_.clear();
    std::string from = input + " AS b";
    for (std::size_t k = 0; k < b_->input.size(); ++k) {
      const BoundSlot& slot = b_->input[k];
      int index = static_cast<int>(k);
      NodeSql& n = nodes_[k];
      n.alias = fmt::format("n{}", k);
      n.idExpr = fmt::format("b.s{}", k);
      if (slot.kind == SlotKind::Edge && !slotReadsOnlyId(index, true)) {
        from += fmt::format(" LEFT JOIN edges AS e{0} ON e{0}.id = {1}", k, n.idExpr);
      }
      if (slot.kind != SlotKind::Node) continue;
      if (readsOnlyId(index)) {
        n.idOnly = true;
        continue;
      }
      unsigned subs = substrates(b_->nodes[k]);
      auto lookup = [&](const std::string& alias, unsigned substrate) {
        return fmt::format(" LEFT JOIN {} AS {} ON {}.id = {} AND {}", tableOf(substrate), alias, alias, n.idExpr,
                           join(nodeFilters(index, alias, substrate), " AND "));
      };
      if (subs == (detail::kEntity | detail::kNote)) {
        n.pair = true;
        from += lookup(n.alias + "e", detail::kEntity) + lookup(n.alias + "n", detail::kNote);
      } else {
        n.substrate = subs;
        from += lookup(n.alias, subs);
      }
    }
    addWhere();
    return " FROM " + from + (where_.empty() ? "" : " WHERE " + join(where_, " AND "));
  }

  // A WITH: its rows, paged when it has SKIP or LIMIT.
  std::string intermediateSelect(const std::string& input) {
    std::string fromWhere = projectionFrom(input);
    CompiledQuery cols;
    cols.ordered = b_->skip.has_value() || b_->limit.has_value();
    std::string sql = b_->aggregated ? aggregateSelect(fromWhere, cols) : plainSelect(fromWhere, cols);
    if (cols.ordered) {
      sql += " LIMIT " + param(b_->limit.value_or(std::numeric_limits<std::int64_t>::max()), ParamType::Integer);
      if (b_->skip && *b_->skip > 0) sql += " OFFSET " + param(*b_->skip, ParamType::Integer);
    }
    return sql;
  }

  // Whether slot `index` (an edge, or a node) is read for its id alone in this projection.
  bool slotReadsOnlyId(int index, bool edge) const {
    auto other = [&](const BoundField& f) {
      return f.onEdge == edge && !f.slotValue && f.alias == index && (f.field != "id" || !f.jsonPath.empty());
    };
    for (auto& c : b_->columns)
      if (!c.star && other(c.field)) return false;
    for (auto& conj : b_->where)
      for (auto& p : conj)
        if (other(p.field)) return false;
    for (auto& o : b_->orderBy)
      if (o.column < 0 && other(o.field)) return false;
    for (auto& f : b_->groupExtra)
      if (other(f)) return false;
    for (auto& h : b_->having)
      if (!h.item.star && other(h.item.field)) return false;
    return true;
  }

  // An ORDER BY expression of type `type`: ids read natively (inside a pipeline) order as text.
  std::string sortable(const std::string& expr, ValueType type) const {
    return rawIds_ && type == ValueType::Id ? d_.idAsText(expr) : expr;
  }

  // ---- projection, ordering, aggregation ----------------------------------------------
  // One row per binding (or per distinct row), in the order the ORDER BY keys give, ties
  // broken by the bound ids (or by every output column of a DISTINCT result).
  std::string plainSelect(const std::string& fromWhere, CompiledQuery& out) {
    std::vector<std::string> selectList, exprs;
    for (auto& c : b_->columns) {
      auto [expr, type] = outputExpr(c.field);
      exprs.push_back(expr);
      selectList.push_back(fmt::format("{} AS {}", expr, quoteIdent(c.name)));
      out.columns.push_back(OutputColumn{c.name, type});
    }
    std::string select = fmt::format("SELECT {}{}{}", b_->distinct ? "DISTINCT " : "", join(selectList, ", "), fromWhere);
    if (!out.ordered) return select;
    std::vector<std::string> keys;
    if (b_->distinct) {
      // SELECT DISTINCT may only ORDER BY selected expressions (PostgreSQL), so order the
      // distinct rows from outside.
      for (auto& o : b_->orderBy) {
        orderKeys(keys, "r." + quoteIdent(out.columns[o.column].name), out.columns[o.column].type, o.descending);
      }
      for (auto& c : out.columns) {
        std::string col = sortable("r." + quoteIdent(c.name), c.type);
        keys.push_back(b_->orderBy.empty() ? d_.orderKey(col, c.type) : d_.orderKeyDirected(col, c.type, false));
      }
      return "SELECT * FROM (" + select + ") AS r ORDER BY " + join(keys, ", ");
    }
    for (auto& o : b_->orderBy) {
      if (o.column >= 0) {
        orderKeys(keys, exprs[o.column], out.columns[o.column].type, o.descending);
      } else {
        auto [expr, type] = outputExpr(o.field);
        orderKeys(keys, expr, type, o.descending);
      }
    }
    if (b_->projection) {
      // Ties: every slot of the input rows, ids as text, NULLs first on every engine.
      for (std::size_t k = 0; k < b_->input.size(); ++k) {
        const BoundSlot& slot = b_->input[k];
        std::string col = fmt::format("b.s{}", k);
        keys.push_back(slot.kind == SlotKind::Value && slot.type != ValueType::Id ? d_.orderKey(col, slot.type)
                                                                                  : d_.orderKey(d_.idAsText(col), ValueType::Id));
      }
      return select + " ORDER BY " + join(keys, ", ");
    }
    for (auto& n : nodes_) keys.push_back(n.idExpr);
    for (std::size_t i = 0; i < b_->edges.size(); ++i) keys.push_back(fmt::format("e{}.id", i));
    return select + " ORDER BY " + join(keys, ", ");
  }

  // The keys of one ORDER BY item. A JSON value orders numbers (by value), then strings (by
  // code point), then any other JSON (by its text); NULL (missing) comes last ascending.
  void orderKeys(std::vector<std::string>& keys, const std::string& expr, ValueType type, bool descending) {
    if (type != ValueType::Json) {
      keys.push_back(d_.orderKeyDirected(sortable(expr, type), type, descending));
      return;
    }
    std::string doc = d_.jsonFromText(expr), root = param(d_.jsonPathValue({}), ParamType::JsonPath);
    std::string num = d_.jsonNumber(doc, root), text = d_.jsonText(doc, root);
    keys.push_back(d_.orderKeyDirected(num, ValueType::Real, descending));
    keys.push_back(d_.orderKeyDirected(text, ValueType::Text, descending));
    keys.push_back(d_.orderKeyDirected(fmt::format("CASE WHEN {} IS NULL AND {} IS NULL THEN {} END", num, text, expr),
                                       ValueType::Text, descending));
  }

  // The value an aggregate reads. A JSON property: its numbers for sum/avg/min/max, its
  // value (JSON null as NULL) for count/collect.
  std::pair<std::string, ValueType> aggregateArg(const BoundColumn& c) {
    if (!c.field.jsonPath.empty() || (c.field.slotValue && c.field.type == ValueType::Json)) {
      std::string doc = mainResolver()(c.field);
      if (c.field.slotValue) doc = d_.jsonFromText(doc);
      std::string path = param(d_.jsonPathValue(c.field.jsonPath), ParamType::JsonPath);
      switch (c.aggregate) {
        case AggregateFn::Count:
        case AggregateFn::Collect:
        case AggregateFn::GroupConcat:
          return {fmt::format("CASE WHEN {} THEN NULL ELSE {} END", d_.jsonIsNull(doc, path), d_.jsonValueAsText(doc, path)),
                  ValueType::Json};
        default: return {d_.jsonNumber(doc, path), ValueType::Real};
      }
    }
    return outputExpr(c.field);
  }

  // Three levels: the bindings (r: one value column per grouping key and aggregate argument,
  // DISTINCT over the bound ids when a variable-length edge may repeat a binding), the groups
  // (g: GROUP BY, HAVING) and the result (ordering, lists put in order, paging).
  //
  //   SELECT g.c0 AS "b_name", g.c1 AS "count" FROM (
  //     SELECT r.v0 AS c0, count(*) AS c1 FROM (SELECT n1e.name AS v0 FROM ... WHERE ...) AS r
  //     GROUP BY r.v0) AS g
  //   ORDER BY g.c1 DESC NULLS FIRST, g.c0 ASC NULLS LAST, g.c1 ASC NULLS LAST LIMIT ?5
  std::string aggregateSelect(const std::string& fromWhere, CompiledQuery& out) {
    std::vector<std::string> values;  // level r
    auto value = [&](const std::string& expr) {
      values.push_back(fmt::format("{} AS v{}", expr, values.size()));
      return fmt::format("r.v{}", values.size() - 1);
    };
    if (b_->variableLength) {
      for (std::size_t i = 0; i < nodes_.size(); ++i) values.push_back(fmt::format("{} AS k{}", nodes_[i].idExpr, i));
      for (std::size_t i = 0; i < b_->edges.size(); ++i) {
        if (!b_->edges[i].variableLength || !b_->edges[i].var.empty()) values.push_back(fmt::format("e{0}.id AS ke{0}", i));
      }
      // Each path of a named path is a binding of its own.
      if (!pathWalk_.empty()) values.push_back(fmt::format("{0}.path AS kp, {0}.epath AS kq", pathWalk_));
    }
    std::vector<std::string> groupCols, groupBy, finals, rowOrder;
    auto groupKey = [&](const std::string& ref, ValueType type) {
      if (type != ValueType::Json) {
        groupBy.push_back(ref);
        return ref;
      }
      // JSON values group by value: 2021 and 2021.0 are one group.
      std::string doc = d_.jsonFromText(ref), root = param(d_.jsonPathValue({}), ParamType::JsonPath);
      std::string num = d_.jsonNumber(doc, root), text = d_.jsonText(doc, root);
      groupBy.push_back(num);
      groupBy.push_back(text);
      groupBy.push_back(fmt::format("CASE WHEN {} IS NULL AND {} IS NULL THEN {} END", num, text, ref));
      return fmt::format("min({})", ref);
    };
    for (std::size_t i = 0; i < b_->columns.size(); ++i) {
      const BoundColumn& c = b_->columns[i];
      std::string col = fmt::format("g.c{}", i);
      if (c.aggregate == AggregateFn::None) {
        auto [expr, type] = outputExpr(c.field);
        groupCols.push_back(fmt::format("{} AS c{}", groupKey(value(expr), type), i));
        out.columns.push_back(OutputColumn{c.name, type});
        finals.push_back(fmt::format("{} AS {}", col, quoteIdent(c.name)));
        continue;
      }
      groupCols.push_back(fmt::format("{} AS c{}", aggregate(c, value), i));
      out.columns.push_back(OutputColumn{c.name, c.type});
      std::string finalExpr = col;
      if (c.aggregate == AggregateFn::Collect) finalExpr = d_.finishList(col, "");
      if (c.aggregate == AggregateFn::GroupConcat) finalExpr = d_.finishList(col, param(c.separator, ParamType::Text));
      finals.push_back(fmt::format("{} AS {}", finalExpr, quoteIdent(c.name)));
    }
    for (auto& f : b_->groupExtra) {
      auto [expr, type] = outputExpr(f);
      groupKey(value(expr), type);
    }
    std::vector<std::string> having;
    for (auto& h : b_->having) {
      std::string agg = aggregate(h.item, value);
      if (auto s = std::get_if<std::string>(&h.value)) {
        having.push_back(d_.textCompareCs(agg, sqlOp(h.op), param(*s, ParamType::Text)));
      } else {
        having.push_back(fmt::format("{} {} {}", agg, sqlOp(h.op), scalarParam(h.value)));
      }
    }
    if (values.empty()) values.push_back("1 AS v0");
    std::string grouped = fmt::format("SELECT {} FROM (SELECT {}{}{}) AS r", join(groupCols, ", "),
                                      b_->variableLength ? "DISTINCT " : "", join(values, ", "), fromWhere);
    if (!groupBy.empty()) grouped += " GROUP BY " + join(groupBy, ", ");
    if (!having.empty()) grouped += " HAVING " + join(having, " AND ");
    std::string sql = fmt::format("SELECT {} FROM ({}) AS g", join(finals, ", "), grouped);
    if (!out.ordered) return sql;
    // Groups are unique by their keys, so ordering by every column after the keys is total.
    std::vector<std::string> keys;
    auto finalExpr = [&](std::size_t i) {
      const std::string& f = finals[i];
      return f.substr(0, f.rfind(" AS "));
    };
    for (auto& o : b_->orderBy) orderKeys(keys, finalExpr(o.column), out.columns[o.column].type, o.descending);
    for (std::size_t i = 0; i < out.columns.size(); ++i) {
      if (b_->columns[i].aggregate == AggregateFn::None) {
        keys.push_back(d_.orderKeyDirected(sortable(finalExpr(i), out.columns[i].type), out.columns[i].type, false));
      }
    }
    for (std::size_t i = 0; i < out.columns.size(); ++i) {
      if (b_->columns[i].aggregate != AggregateFn::None) {
        keys.push_back(d_.orderKeyDirected(sortable(finalExpr(i), out.columns[i].type), out.columns[i].type, false));
      }
    }
    return sql + " ORDER BY " + join(keys, ", ");
  }

  // An aggregate over the binding rows; `value` adds its argument to them.
  template <typename AddValue>
  std::string aggregate(const BoundColumn& c, AddValue& value) {
    if (c.star) return "count(*)";
    auto [expr, type] = aggregateArg(c);
    std::string ref = value(expr);
    std::string distinct = c.distinctArg ? "DISTINCT " : "";
    bool text = type == ValueType::Text || type == ValueType::Id;
    switch (c.aggregate) {
      case AggregateFn::Count: return fmt::format("count({}{})", distinct, ref);
      // A sum of reals depends on the order of the additions, which differs between engines:
      // real sums and averages are rounded to kRealDigits decimal places.
      case AggregateFn::Sum: {
        std::string sum = fmt::format("COALESCE(sum({}{}), 0)", distinct, ref);
        return c.type == ValueType::Integer ? sum : d_.roundReal(sum, kRealDigits);
      }
      case AggregateFn::Avg:
        return d_.roundReal(fmt::format("avg({}CAST({} AS DOUBLE PRECISION))", distinct, ref), kRealDigits);
      case AggregateFn::Min:
      case AggregateFn::Sample: return fmt::format("min({})", text ? d_.codePointText(ref) : ref);
      case AggregateFn::Max: return fmt::format("max({})", text ? d_.codePointText(ref) : ref);
      case AggregateFn::Collect:
      case AggregateFn::GroupConcat: return d_.collectList(ref, type, c.distinctArg);
      case AggregateFn::None: break;
    }
    return ref;
  }

  // ---- parameters ------------------------------------------------------------------------
  std::string param(storage::SqlValue v, ParamType t) {
    std::string key(1, static_cast<char>('0' + static_cast<int>(t)));
    key += static_cast<char>('0' + v.index());
    key += storage::displayValue(v);
    auto it = dedup_.find(key);
    if (it != dedup_.end()) return d_.placeholder(it->second, t);
    params_.push_back(std::move(v));
    types_.push_back(t);
    int index = static_cast<int>(params_.size());
    dedup_[key] = index;
    return d_.placeholder(index, t);
  }
  std::string scalarParam(const Scalar& s) {
    if (auto p = std::get_if<std::string>(&s)) return param(*p, ParamType::Text);
    if (auto p = std::get_if<std::int64_t>(&s)) return param(*p, ParamType::Integer);
    if (auto p = std::get_if<double>(&s)) return param(*p, ParamType::Real);
    if (auto p = std::get_if<bool>(&s)) return param(*p, ParamType::Bool);
    throw QueryError(QueryErrorClass::Compile, "null has no parameter form");
  }
  const std::string& nsList() {
    if (nsList_.empty()) nsList_ = "(" + join(nsPh_, ", ") + ")";
    return nsList_;
  }
  std::string relList(const std::vector<std::string>& rels) {
    std::vector<std::string> ph;
    for (auto& r : rels) ph.push_back(param(r, ParamType::Text));
    return "(" + join(ph, ", ") + ")";
  }

  // ---- nodes -----------------------------------------------------------------------------
  static unsigned substrates(const BoundNode& n) {
    return (n.entities ? detail::kEntity : 0u) | (n.notes ? detail::kNote : 0u) | (n.events ? detail::kEvent : 0u);
  }

  int chooseDriver() const {
    int best = 0, bestScore = -1;
    for (std::size_t i = 0; i < b_->nodes.size(); ++i) {
      const auto& n = b_->nodes[i];
      int score = (n.seeded ? 1000 : 0) + static_cast<int>(n.local.size()) * 4 + (n.kind ? 2 : 0) + (substrates(n) == detail::kEntity || substrates(n) == detail::kNote ? 1 : 0);
      if (score > bestScore) {
        best = static_cast<int>(i);
        bestScore = score;
      }
    }
    return best;
  }

  // A field of one table alias (`substrate` is that table).
  std::string singleField(const std::string& alias, unsigned substrate, const BoundField& f) {
    if (f.field == "substrate" && substrate != detail::kEvent) {
      if (b_->projection) {
        return fmt::format("CASE WHEN {}.id IS NOT NULL THEN '{}' END", alias, substrate == detail::kEntity ? "entity" : "note");
      }
      return substrate == detail::kEntity ? "'entity'" : "'note'";
    }
    auto info = detail::findNodeField(f.field, substrate);
    if (!info) return d_.typedNull(f.type);
    return alias + "." + std::string(info->column);
  }

  // `alias` when `f` is the name column of that one table alias (`substrate` is the table),
  // else empty: the tables whose name match a dialect may serve from a folded copy.
  std::string nameTable(const std::string& alias, unsigned substrate, const BoundField& f) const {
    if (f.onEdge || f.field != "name" || !f.jsonPath.empty()) return {};
    auto info = detail::findNodeField(f.field, substrate);
    return info && info->column == "name" ? alias : std::string();
  }
  // nameTable() for a field as the main query resolves it (a pair of tables has no one alias).
  std::string mainNameTable(const BoundField& f) const {
    if (f.onEdge || f.slotValue) return {};
    const NodeSql& n = nodes_[f.alias];
    return n.pair || n.idOnly ? std::string() : nameTable(n.alias, n.substrate, f);
  }

  std::string nodeField(int index, const BoundField& f) {
    const NodeSql& n = nodes_[index];
    if (n.idOnly) return n.idExpr;  // only `id` is ever asked of such a node
    if (!n.pair) return singleField(n.alias, n.substrate, f);
    std::string e = n.alias + "e", t = n.alias + "n";
    if (f.field == "substrate") {
      return fmt::format("CASE WHEN {}.id IS NOT NULL THEN 'entity' {} 'note' END", e,
                         b_->projection ? fmt::format("WHEN {}.id IS NOT NULL THEN", t) : "ELSE");
    }
    auto inE = detail::findNodeField(f.field, detail::kEntity);
    auto inN = detail::findNodeField(f.field, detail::kNote);
    if (inE && inN) return fmt::format("COALESCE({}.{}, {}.{})", e, inE->column, t, inN->column);
    if (inE) return e + "." + std::string(inE->column);
    return t + "." + std::string(inN->column);
  }

  // Live, in scope, of the label's kind, with the inline properties: the filters of one
  // table alias of node `index`.
  std::vector<std::string> nodeFilters(int index, const std::string& alias, unsigned substrate) {
    const BoundNode& n = b_->nodes[index];
    std::vector<std::string> f;
    if (substrate != detail::kEvent) f.push_back(alias + ".deleted_at IS NULL");
    f.push_back(alias + ".namespace IN " + nsList());
    if (n.kind) f.push_back(alias + ".kind = " + param(*n.kind, ParamType::Text));
    if (n.seeded) f.push_back(fmt::format("{}.id IN (SELECT b.s{} FROM {} AS b)", alias, n.slot, input_));
    Resolver r = [&](const BoundField& bf) { return singleField(alias, substrate, bf); };
    for (auto& p : n.local) f.push_back(predicate(p, r, nameTable(alias, substrate, p.field)));
    return f;
  }

  // SELECT of the ids of node `index` by its own filters (the driver, and walk seeds).
  std::string idsOf(int index, const std::string& prefix) {
    const BoundNode& n = b_->nodes[index];
    std::vector<std::string> branches;
    for (unsigned s : {detail::kEntity, detail::kNote, detail::kEvent}) {
      if (!(substrates(n) & s)) continue;
      std::string alias = prefix + (s == detail::kEntity ? "e" : s == detail::kNote ? "n" : "v");
      branches.push_back(fmt::format("SELECT {}.id FROM {} AS {} WHERE {}", alias, tableOf(s), alias,
                                     join(nodeFilters(index, alias, s), " AND ")));
    }
    return join(branches, " UNION ALL ");
  }

  std::string driverSource(int index) {
    NodeSql& n = nodes_[index];
    n.alias = fmt::format("n{}", index);
    unsigned subs = substrates(b_->nodes[index]);
    if (subs == (detail::kEntity | detail::kNote)) {
      n.pair = true;
      n.idExpr = n.alias + "i.id";
      return fmt::format("({}) AS {}i LEFT JOIN entities AS {}e ON {}e.id = {}i.id LEFT JOIN notes AS {}n ON {}n.id = {}i.id",
                         idsOf(index, n.alias), n.alias, n.alias, n.alias, n.alias, n.alias, n.alias, n.alias);
    }
    n.substrate = subs;
    n.idExpr = n.alias + ".id";
    where_.push_back(join(nodeFilters(index, n.alias, subs), " AND "));
    return fmt::format("{} AS {}", tableOf(subs), n.alias);
  }

  // True when node `index` has no label or inline property and the query reads no field of
  // it but its id: then whether the id is a live, in-scope entity or note is all that matters.
  bool readsOnlyId(int index) const {
    const BoundNode& n = b_->nodes[index];
    if (n.kind || !n.local.empty() || n.seeded) return false;
    return slotReadsOnlyId(index, false);
  }

  // The live, in-scope test of an entity-or-note id (a walk's node, a node read for its id).
  std::string nodeInScope(std::string_view id) {
    const std::string& ns = nsList();
    return fmt::format(
        "(EXISTS (SELECT 1 FROM entities AS x WHERE x.id = {} AND x.deleted_at IS NULL AND x.namespace IN {}) OR "
        "EXISTS (SELECT 1 FROM notes AS x WHERE x.id = {} AND x.deleted_at IS NULL AND x.namespace IN {}))",
        id, ns, id, ns);
  }

  // `walked`: idExpr is the end of a walk past its seed, which the walk has already found to
  // be a live entity or note in scope (SqlDialect::WalkStep).
  std::string joinNode(int index, const std::string& idExpr, bool walked = false) {
    NodeSql& n = nodes_[index];
    n.alias = fmt::format("n{}", index);
    n.idExpr = idExpr;
    unsigned subs = substrates(b_->nodes[index]);
    if (subs == (detail::kEntity | detail::kNote) && readsOnlyId(index)) {
      // One probe per row (the notes probe runs only for an id that is no live entity) instead
      // of a LEFT JOIN of both tables; none at all for a node the walk has tested.
      n.idOnly = true;
      if (!walked) where_.push_back(nodeInScope(idExpr));
      return "";
    }
    if (subs == (detail::kEntity | detail::kNote)) {
      n.pair = true;
      std::string e = n.alias + "e", t = n.alias + "n";
      where_.push_back(fmt::format("({}.id IS NOT NULL OR {}.id IS NOT NULL)", e, t));
      return fmt::format(" LEFT JOIN entities AS {} ON {}.id = {} AND {} LEFT JOIN notes AS {} ON {}.id = {} AND {}", e, e,
                         idExpr, d_.lookupFilter(join(nodeFilters(index, e, detail::kEntity), " AND "), idExpr), t, t,
                         idExpr, d_.lookupFilter(join(nodeFilters(index, t, detail::kNote), " AND "), idExpr));
    }
    n.substrate = subs;
    return fmt::format(" JOIN {} AS {} ON {}.id = {} AND {}", tableOf(subs), n.alias, n.alias, idExpr,
                       d_.lookupFilter(join(nodeFilters(index, n.alias, subs), " AND "), idExpr));
  }

  // ---- edges -----------------------------------------------------------------------------
  struct Adjacency {
    std::string condition;  // edge row touches `known` in the pattern's direction
    std::string other;      // the far endpoint's id
  };

  // How edge alias `h` continues from node id `known`, for direction `dir` (already reversed
  // when the chain is walked right to left). Symmetric relations match whatever the arrow.
  Adjacency adjacency(const std::string& h, const std::string& known, EdgeDirection dir, const BoundEdge& e) {
    std::string src = h + ".source_id", dst = h + ".target_id";
    std::string caseOther = fmt::format("CASE WHEN {} = {} THEN {} ELSE {} END", src, known, dst, src);
    std::string either = fmt::format("({} = {} OR {} = {})", src, known, dst, known);
    if (dir == EdgeDirection::Both) {
      std::vector<std::string> rels = e.relations;
      rels.insert(rels.end(), e.symmetric.begin(), e.symmetric.end());
      std::string cond = either;
      if (!e.anyRelation) cond += " AND " + h + ".relation IN " + relList(rels);
      return {cond, caseOther};
    }
    std::string nearCol = dir == EdgeDirection::Out ? src : dst;
    std::string farCol = dir == EdgeDirection::Out ? dst : src;
    std::string caseNear = fmt::format("CASE WHEN {} = {} THEN {} ELSE {} END", nearCol, known, farCol, nearCol);
    if (e.anyRelation) {
      // Any relation: the written direction, or the reverse of a symmetric edge.
      if (e.symmetric.empty()) return {fmt::format("{} = {}", nearCol, known), farCol};
      return {fmt::format("({} = {} OR ({} = {} AND {}.relation IN {}))", nearCol, known, farCol, known, h,
                          relList(e.symmetric)),
              caseNear};
    }
    if (e.symmetric.empty()) {
      return {fmt::format("{} = {} AND {}.relation IN {}", nearCol, known, h, relList(e.relations)), farCol};
    }
    if (e.relations.empty()) {
      return {fmt::format("{} AND {}.relation IN {}", either, h, relList(e.symmetric)), caseOther};
    }
    return {fmt::format("(({} = {} AND {}.relation IN {}) OR ({} AND {}.relation IN {}))", nearCol, known, h,
                        relList(e.relations), either, h, relList(e.symmetric)),
            caseNear};
  }

  // The same edges as adjacency(), split into disjoint parts that each probe one index
  // (the source key or the target index), for dialects that gather a walk's neighbours by
  // subquery. An edge that would match two parts is a self-loop, which a walk never takes.
  std::vector<SqlDialect::WalkHop> walkBranches(const std::string& h, const std::string& known, EdgeDirection dir,
                                                const BoundEdge& e) {
    std::string src = h + ".source_id", dst = h + ".target_id";
    auto rel = [&](const std::vector<std::string>& rels) {
      return e.anyRelation ? std::string() : " AND " + h + ".relation IN " + relList(rels);
    };
    auto symRel = [&] { return " AND " + h + ".relation IN " + relList(e.symmetric); };
    if (dir == EdgeDirection::Both) {
      std::vector<std::string> rels = e.relations;
      rels.insert(rels.end(), e.symmetric.begin(), e.symmetric.end());
      return {{src + " = " + known + rel(rels), dst}, {dst + " = " + known + rel(rels), src}};
    }
    std::string nearCol = dir == EdgeDirection::Out ? src : dst;
    std::string farCol = dir == EdgeDirection::Out ? dst : src;
    if (e.anyRelation) {
      if (e.symmetric.empty()) return {{nearCol + " = " + known, farCol}};
      return {{nearCol + " = " + known, farCol}, {farCol + " = " + known + symRel(), nearCol}};
    }
    std::vector<std::string> forward = e.relations;
    forward.insert(forward.end(), e.symmetric.begin(), e.symmetric.end());
    std::vector<SqlDialect::WalkHop> out{{nearCol + " = " + known + rel(forward), farCol}};
    if (!e.symmetric.empty()) out.push_back({farCol + " = " + known + symRel(), nearCol});
    return out;
  }

  std::string liveEdge(const std::string& h) {
    return fmt::format("{}.deleted_at IS NULL AND {}.endpoint_deleted = 0 AND {}.namespace IN {}", h, h, h, nsList());
  }

  static EdgeDirection reversed(EdgeDirection d) {
    return d == EdgeDirection::Out ? EdgeDirection::In : d == EdgeDirection::In ? EdgeDirection::Out : d;
  }

  // Joins edge `i` from the already-joined node `known` to the new node `fresh`.
  std::string joinEdge(int i, int known, int fresh, bool leftwards) {
    const BoundEdge& e = b_->edges[i];
    EdgeDirection dir = leftwards ? reversed(e.direction) : e.direction;
    const std::string& k = nodes_[known].idExpr;
    if (!e.variableLength) {
      std::string h = fmt::format("e{}", i);
      Adjacency adj = adjacency(h, k, dir, e);
      std::string sql = fmt::format(" JOIN edges AS {} ON {} AND {}", h, adj.condition, d_.lookupFilter(liveEdge(h), k));
      return sql + joinNode(fresh, adj.other);
    }
    std::string w = walkCte(i, known, dir);
    std::string wx = w + "x";
    std::string sql = fmt::format(" JOIN {} AS {} ON {}.start_id = {} AND {}.depth >= {}", w, wx, wx, k, wx,
                                  param(static_cast<std::int64_t>(e.minHops), ParamType::Integer));
    sql += joinNode(fresh, wx + ".node_id", true);
    if (!e.var.empty()) {
      // The edge variable of a variable-length pattern is its last hop in the written order:
      // the walk's last edge, or its first when the walk runs against the text.
      sql += fmt::format(" JOIN edges AS e{} ON e{}.id = {}.{}", i, i, wx, leftwards ? "first_edge" : "last_edge");
    }
    return sql;
  }

  // The driver node `known` reached through the walk of edge `i` that it seeds: the walk is
  // the FROM clause, the driver's record is joined by the walk's start id (its filters were
  // applied by the seed), and the node at the walk's end joins as in joinEdge().
  std::string walkDriver(int i, int known, int fresh, bool leftwards) {
    const BoundEdge& e = b_->edges[i];
    EdgeDirection dir = leftwards ? reversed(e.direction) : e.direction;
    std::string w = b_->path ? pathWalkCte(i, known, dir) : walkCte(i, known, dir);
    std::string wx = w + "x";
    if (b_->path) pathWalk_ = wx;
    NodeSql& n = nodes_[known];
    n.alias = fmt::format("n{}", known);
    n.idExpr = wx + ".start_id";
    std::string sql = fmt::format("{} AS {}", w, wx);
    unsigned subs = substrates(b_->nodes[known]);
    // Every start id is a driver row (the seed selected it), so LEFT JOIN loses nothing and
    // lets the engine drop the join when the query reads none of the driver's columns. The
    // joins repeat the driver's filters all the same: every alias carries the scope.
    auto filters = [&](const std::string& alias, unsigned substrate) {
      return join(nodeFilters(known, alias, substrate), " AND ");
    };
    if (subs == (detail::kEntity | detail::kNote)) {
      n.pair = true;
      sql += fmt::format(" LEFT JOIN entities AS {0}e ON {0}e.id = {1} AND {2} LEFT JOIN notes AS {0}n ON {0}n.id = {1} AND {3}",
                         n.alias, n.idExpr, filters(n.alias + "e", detail::kEntity),
                         filters(n.alias + "n", detail::kNote));
    } else {
      n.substrate = subs;
      sql += fmt::format(" LEFT JOIN {0} AS {1} ON {1}.id = {2} AND {3}", tableOf(subs), n.alias, n.idExpr,
                         filters(n.alias, subs));
    }
    where_.push_back(
        fmt::format("{}.depth >= {}", wx, param(static_cast<std::int64_t>(e.minHops), ParamType::Integer)));
    sql += joinNode(fresh, wx + ".node_id", true);
    if (!e.var.empty()) {
      sql += fmt::format(" JOIN edges AS e{} ON e{}.id = {}.{}", i, i, wx, leftwards ? "first_edge" : "last_edge");
    }
    return sql;
  }

  // The request of one step of the walk `rec` over edge `e` in direction `dir`: the step
  // expands rows of depth below `last`, and the rows of depth `last` take the last hop.
  SqlDialect::WalkRequest walkRequest(const std::string& rec, const BoundEdge& e, EdgeDirection dir, int last) {
    SqlDialect::WalkRequest req;
    req.walk = rec;
    req.combined = [this, &e, dir] {
      Adjacency adj = adjacency("h", "w.node_id", dir, e);
      return SqlDialect::WalkHop{adj.condition, adj.other};
    };
    req.branches = [this, &e, dir] { return walkBranches("h", "w.node_id", dir, e); };
    req.liveEdge = liveEdge("h");
    std::string depth = param(static_cast<std::int64_t>(last), ParamType::Integer);
    req.stepDepth = "w.depth < " + depth;
    req.lastDepth = "w.depth = " + depth;
    return req;
  }

  // A variable-length edge as a recursive CTE over simple paths, and the walk read from it.
  // Worked example, for
  //   MATCH (a {name: 'LoRA'})-[:extends*2..3]->(b) RETURN b.name      (PostgreSQL form)
  //
  //   w0r(start_id, node_id, depth, path) AS (
  //     SELECT s.id, s.id, 0, ARRAY[s.id] FROM (<ids of a>) AS s           -- seed: depth 0
  //     UNION ALL
  //     SELECT w.start_id, h.target_id, w.depth + 1, w.path || h.target_id
  //     FROM w0r AS w JOIN edges AS h
  //       ON h.source_id = w.node_id AND h.relation IN ($4) AND <live, in scope>
  //     WHERE w.depth < $5                                  -- $5 = 3 - 1: all but the last hop
  //       AND h.target_id <> ALL(w.path)                    -- cycle guard: never revisit a node
  //       AND <h.target_id is a live node in scope>),       -- every hop stays in scope
  //   w0(start_id, node_id, depth) AS (                     -- every row, and the last hop
  //     SELECT w.start_id, j.node, w.depth + <hop> FROM w0r AS w CROSS JOIN LATERAL (
  //       SELECT w.node_id AS node UNION ALL SELECT h.target_id FROM edges AS h
  //       WHERE w.depth = $5 AND <the same step>) AS j)
  //
  // With LoRA -> QLoRA -> LoRA' -> LoRA the walk yields QLoRA (1), LoRA' (2) and stops at the
  // third hop because LoRA is already on the path. The main query keeps rows with depth >= 2
  // and SELECT DISTINCT collapses different paths to the same node. The last hop is taken
  // outside the recursion because its rows (most of a walk's rows: a graph of mean degree 5
  // has ~25 paths of two hops and ~125 of three) are never expanded: they need no path and
  // no trip through the recursive CTE's queue. How the walk row meets its edges is the
  // dialect's (SQLite gathers them with a correlated subquery instead of a join).
  // `reachOnly`: a reachability walk whatever the pattern reads; `tag` names its CTEs.
  std::string walkCte(int i, int near, EdgeDirection dir, bool reachOnly = false, std::string_view tag = "w") {
    const BoundEdge& e = b_->edges[i];
    std::string name = fmt::format("{}{}{}", ctePrefix_, tag, i), rec = name + "r";
    bool edgeCols = !e.var.empty() && !reachOnly;
    // Reachability is enough when the walk contributes only its end node, at any distance
    // from 1 hop: results are DISTINCT, and a node other than the start ends a simple path of
    // 1..k hops exactly when it ends a walk of 1..k hops (a shortest walk to it is a simple
    // path). Such a walk keeps no path: its cycle guard only keeps it off the start node (and
    // self-loops), and UNION keeps one row per (start, node, depth), so it expands each node
    // at most once per depth instead of once per simple path that reaches it (on a dense
    // graph the difference is exponential in k).
    bool reach = reachOnly || (e.minHops == 1 && !edgeCols);
    std::string idNull = d_.typedNull(ValueType::Id);
    std::string seed = fmt::format("SELECT s.id, s.id, 0{}{} FROM ({}) AS s", reach ? "" : ", " + d_.pathInit("s.id"),
                                   edgeCols ? ", " + idNull + ", " + idNull : "", idsOf(near, name + "s"));
    SqlDialect::WalkRequest req = walkRequest(rec, e, dir, e.maxHops - 1);
    if (reach) {
      req.notVisited = [](std::string_view id) { return fmt::format("{0} <> w.start_id AND {0} <> w.node_id", id); };
    } else {
      req.notVisited = [this](std::string_view id) { return d_.pathExcludes("w.path", id); };
    }
    req.nodeInScope = [this](std::string_view id) { return nodeInScope(id); };
    req.wantEdge = edgeCols;
    SqlDialect::Walk walk = d_.walk(req);
    const SqlDialect::WalkStep& step = walk.step;
    std::string recursive = fmt::format(
        "SELECT w.start_id, {}, w.depth + 1{}{} FROM {}{}", step.next,
        reach ? "" : ", " + d_.pathAppend("w.path", step.next),
        edgeCols ? fmt::format(", COALESCE(w.first_edge, {}), {}", step.edge, step.edge) : "", step.from,
        step.where.empty() ? "" : " WHERE " + step.where);
    std::string edgeNames = edgeCols ? ", first_edge, last_edge" : "";
    ctes_.push_back(fmt::format("{}(start_id, node_id, depth{}{}) AS ({} {} {})", rec, reach ? "" : ", path", edgeNames,
                                seed, reach ? "UNION" : "UNION ALL", recursive));
    const SqlDialect::WalkRows& rows = walk.rows;
    // A row itself keeps its edges; its step onward has walked the new edge last.
    std::string all = fmt::format(
        "SELECT w.start_id, {}, w.depth + {}{} FROM {}{}", rows.node, rows.hop,
        edgeCols ? fmt::format(", COALESCE(w.first_edge, {}), {}", rows.edge, rows.edge) : "", rows.from,
        rows.where.empty() ? "" : " WHERE " + rows.where);
    ctes_.push_back(fmt::format("{}(start_id, node_id, depth{}) AS ({})", name, edgeNames, all));
    return name;
  }

  // The walk of a named path's variable-length edge `i`: every path of 1..k hops from the
  // seeds, carrying its visited nodes (`path`) and edges (`epath`) in order. Every hop runs in
  // the recursion (the rows of the last hop need their lists too). Worked example, for
  //   MATCH p = shortestPath((a {name: 'K0'})-[:depends_on*..6]->(b {name: 'K3'})) RETURN p
  //
  //   w0r(start_id, node_id, depth) AS (...)             -- walkCte's reachability walk
  //   p0d AS (SELECT start_id, node_id, min(depth) ...)   -- each node's distance from its start
  //   p0r(start_id, node_id, depth, first_edge, last_edge, path, epath) AS (
  //     SELECT s.id, s.id, 0, NULL, NULL, '/K0/', '/' FROM (<ids of a>) AS s
  //     UNION ALL
  //     SELECT w.start_id, <next>, w.depth + 1, ..., w.path || <next> || '/', w.epath || h.id || '/'
  //     FROM p0r AS w ... WHERE w.depth < ?6             -- the dialect's step (SqlDialect::walk)
  //       AND EXISTS (SELECT 1 FROM p0d AS d WHERE d.start_id = w.start_id
  //                   AND d.node_id = <next> AND d.depth = w.depth + 1))
  //   p0 AS (SELECT ... FROM (SELECT w.*, row_number() OVER (PARTITION BY w.start_id, w.node_id
  //          ORDER BY w.path, w.epath) AS rn FROM p0r AS w) AS t WHERE t.rn = 1)
  //
  // A shortest walk steps only to a node one hop further from the start than the node it
  // leaves, so it enumerates exactly the shortest paths (every prefix of a shortest path is
  // one) and needs no cycle guard; the distances come from the reachability walk, which keeps
  // one row per (start, node, depth). When the end node has a label or properties, a second
  // reachability walk runs back from the end nodes (p0e: each node's distance to the nearest),
  // and a walk steps only to a node from which an end node is within the hops left:
  //       AND EXISTS (SELECT 1 FROM p0e AS t WHERE t.node_id = <next> AND t.depth + w.depth + 1 <= ?6)
  // so from 'dog' towards 'cat' it never expands the rest of the graph. shortestPath keeps the
  // first path of each (start, end)
  // pair by node ids, then edge ids (ids compare as canonical text on every engine).
  // allShortestPaths keeps them all; a plain named path is every simple path, as walkCte's.
  std::string pathWalkCte(int i, int near, EdgeDirection dir) {
    const BoundEdge& e = b_->edges[i];
    std::string name = fmt::format("{}p{}", ctePrefix_, i), rec = name + "r";
    bool shortest = b_->pathMode != PathMode::All;
    std::string dist = name + "d";
    if (shortest) {
      std::string reach = walkCte(i, near, dir, true);
      ctes_.push_back(
          fmt::format("{} AS (SELECT r.start_id, r.node_id, min(r.depth) AS depth FROM {} AS r GROUP BY "
                      "r.start_id, r.node_id)",
                      dist, reach));
    }
    const BoundNode& end = b_->nodes[i + 1];
    std::string toEnd = name + "e";
    bool prune = end.kind.has_value() || !end.local.empty();
    if (prune) {
      std::string back = walkCte(i, i + 1, reversed(dir), true, "b");
      ctes_.push_back(
          fmt::format("{} AS (SELECT r.node_id, min(r.depth) AS depth FROM {} AS r GROUP BY r.node_id)", toEnd, back));
    }
    std::string idNull = d_.typedNull(ValueType::Id);
    std::string seed = fmt::format("SELECT s.id, s.id, 0, {}, {}, {}, {} FROM ({}) AS s", idNull, idNull,
                                   d_.pathInit("s.id"), d_.pathEmpty(), idsOf(near, name + "s"));
    // Every hop runs in the recursion (the walk's rows, Walk::rows, are not read).
    SqlDialect::WalkRequest req = walkRequest(rec, e, dir, e.maxHops);
    if (shortest) {
      req.notVisited = [&](std::string_view id) {
        return fmt::format(
            "EXISTS (SELECT 1 FROM {} AS d WHERE d.start_id = w.start_id AND d.node_id = {} AND d.depth = "
            "w.depth + 1)",
            dist, id);
      };
      // The distances hold only live nodes in scope.
      req.nodeInScope = [this](std::string_view) { return d_.boolLiteral(true); };
    } else {
      req.notVisited = [this](std::string_view id) { return d_.pathExcludes("w.path", id); };
      req.nodeInScope = [this](std::string_view id) { return nodeInScope(id); };
    }
    if (prune) {
      std::string hops = param(static_cast<std::int64_t>(e.maxHops), ParamType::Integer);
      req.notVisited = [visited = req.notVisited, toEnd, hops](std::string_view id) {
        return fmt::format("{} AND EXISTS (SELECT 1 FROM {} AS t WHERE t.node_id = {} AND t.depth + w.depth + 1 <= {})",
                           visited(id), toEnd, id, hops);
      };
    }
    req.wantEdge = true;
    SqlDialect::WalkStep step = d_.walk(req).step;
    std::string recursive =
        fmt::format("SELECT w.start_id, {0}, w.depth + 1, COALESCE(w.first_edge, {1}), {1}, {2}, {3} FROM {4}{5}",
                    step.next, step.edge, d_.pathAppend("w.path", step.next), d_.pathAppend("w.epath", step.edge),
                    step.from, step.where.empty() ? "" : " WHERE " + step.where);
    ctes_.push_back(fmt::format("{}(start_id, node_id, depth, first_edge, last_edge, path, epath) AS ({} UNION ALL {})",
                                rec, seed, recursive));
    if (b_->pathMode != PathMode::Shortest) return rec;
    ctes_.push_back(fmt::format(
        "{} AS (SELECT t.start_id, t.node_id, t.depth, t.first_edge, t.last_edge, t.path, t.epath FROM (SELECT w.*, "
        "row_number() OVER (PARTITION BY w.start_id, w.node_id ORDER BY w.path, w.epath) AS rn FROM {} AS w) AS t "
        "WHERE t.rn = 1)",
        name, rec));
    return name;
  }

  // A part of the named path: its nodes and edges as JSON documents, from the walk's lists
  // or from the ids of the fixed-length chain.
  std::string pathPart(PathPart part) {
    auto nodes = [&] {
      if (!pathWalk_.empty()) return d_.pathIds(pathWalk_ + ".path");
      std::vector<std::string> ids;
      for (auto& n : nodes_) ids.push_back(n.idExpr);
      return d_.idArray(ids);
    };
    auto edges = [&] {
      if (!pathWalk_.empty()) return d_.pathIds(pathWalk_ + ".epath");
      std::vector<std::string> ids;
      for (std::size_t i = 0; i < b_->edges.size(); ++i) ids.push_back(fmt::format("e{}.id", i));
      return d_.idArray(ids);
    };
    switch (part) {
      case PathPart::Length:
        return pathWalk_.empty() ? param(static_cast<std::int64_t>(b_->edges.size()), ParamType::Integer)
                                 : pathWalk_ + ".depth";
      case PathPart::Nodes:
        return d_.jsonDocumentAsText(nodes());
      case PathPart::Edges:
        return d_.jsonDocumentAsText(edges());
      default:
        return d_.pathValue(nodes(), edges());
    }
  }

  // ---- predicates ------------------------------------------------------------------------
  Resolver mainResolver() {
    return [this](const BoundField& f) {
      if (f.pathPart != PathPart::None) return pathPart(f.pathPart);
      if (f.slotValue || (f.onEdge && b_->projection && f.field == "id")) return fmt::format("b.s{}", f.alias);
      if (!f.onEdge) return nodeField(f.alias, f);
      auto info = detail::findEdgeField(f.field);
      return fmt::format("e{}.{}", f.alias, info->column);
    };
  }

  std::string falseSql() const { return d_.boolLiteral(false); }

  std::string textCompare(const std::string& e, CompareOp op, const std::string& value) {
    switch (op) {
      case CompareOp::Eq: return d_.textEqualsCi(e, param(value, ParamType::Text));
      case CompareOp::Like: return d_.textLikeCi(e, param(value, ParamType::Text));
      case CompareOp::Contains: return d_.textLikeCi(e, param("%" + d_.escapeLike(value) + "%", ParamType::Text));
      case CompareOp::StartsWith: return d_.textLikeCi(e, param(d_.escapeLike(value) + "%", ParamType::Text));
      default: return d_.textCompareCs(e, sqlOp(op), param(value, ParamType::Text));
    }
  }

  std::string anyOf(const std::vector<Scalar>& values, const std::function<std::string(const Scalar&)>& one) {
    if (values.empty()) return falseSql();  // IN [] is false
    std::vector<std::string> parts;
    for (auto& v : values) parts.push_back(one(v));
    return parts.size() == 1 ? parts[0] : "(" + join(parts, " OR ") + ")";
  }

  // `nameAlias`: nameTable() of the field; its case-insensitive equality is the dialect's name
  // match.
  std::string predicate(const BoundPredicate& p, const Resolver& r, const std::string& nameAlias) {
    std::string e = r(p.field);
    if (!p.field.jsonPath.empty()) return jsonPredicate(p, e);
    if (p.field.slotValue && p.field.type == ValueType::Json) return jsonPredicate(p, d_.jsonFromText(e));
    if (p.field.type == ValueType::Id) e = d_.idAsText(e);
    if (p.op == CompareOp::IsNull) return e + " IS NULL";
    if (p.op == CompareOp::IsNotNull) return e + " IS NOT NULL";
    bool text = p.field.type == ValueType::Text || p.field.type == ValueType::Id;
    auto one = [&](CompareOp op, const Scalar& v) {
      if (text && !nameAlias.empty() && op == CompareOp::Eq) {
        return d_.nameEqualsCi(nameAlias, param(std::get<std::string>(v), ParamType::Text));
      }
      if (text) return textCompare(e, op, std::get<std::string>(v));
      return fmt::format("{} {} {}", e, sqlOp(op), scalarParam(v));
    };
    if (p.op == CompareOp::In) return anyOf(p.values, [&](const Scalar& v) { return one(CompareOp::Eq, v); });
    return one(p.op, p.values.at(0));
  }

  // JSON values compare by type: a string literal with JSON strings, a number with JSON
  // numbers, a boolean with JSON booleans; a value of another type behaves as missing,
  // except for != which holds for any present value of another type.
  std::string jsonPredicate(const BoundPredicate& p, const std::string& doc) {
    std::string path = param(d_.jsonPathValue(p.field.jsonPath), ParamType::JsonPath);
    if (p.op == CompareOp::IsNull) return d_.jsonIsNull(doc, path);
    if (p.op == CompareOp::IsNotNull) return "NOT " + d_.jsonIsNull(doc, path);
    auto typed = [&](CompareOp op, const Scalar& v) -> std::string {
      if (auto s = std::get_if<std::string>(&v)) return textCompare(d_.jsonText(doc, path), op, *s);
      if (std::holds_alternative<bool>(v)) return fmt::format("{} {} {}", d_.jsonBool(doc, path), sqlOp(op), scalarParam(v));
      return fmt::format("{} {} {}", d_.jsonNumber(doc, path), sqlOp(op), scalarParam(v));
    };
    if (p.op == CompareOp::In) return anyOf(p.values, [&](const Scalar& v) { return typed(CompareOp::Eq, v); });
    if (p.op == CompareOp::Ne) {
      return fmt::format("(NOT {} AND COALESCE({}, {}))", d_.jsonIsNull(doc, path), typed(CompareOp::Ne, p.values.at(0)),
                         d_.boolLiteral(true));
    }
    return typed(p.op, p.values.at(0));
  }

  std::pair<std::string, ValueType> outputExpr(const BoundField& f) {
    std::string e = mainResolver()(f);
    if (f.pathPart != PathPart::None) return {e, f.type};
    if (f.slotValue) return {f.type == ValueType::Id && !rawIds_ ? d_.idAsText(e) : e, f.type};
    if (!f.jsonPath.empty()) {
      return {d_.jsonValueAsText(e, param(d_.jsonPathValue(f.jsonPath), ParamType::JsonPath)), ValueType::Json};
    }
    switch (f.type) {
      case ValueType::Id: return {rawIds_ ? e : d_.idAsText(e), ValueType::Id};
      case ValueType::Json: return {d_.jsonDocumentAsText(e), ValueType::Json};
      default: return {e, f.type};
    }
  }

  const SqlDialect& d_;
  const BoundQuery* b_;
  storage::SqlParams params_;
  std::vector<ParamType> types_;
  std::map<std::string, int> dedup_;
  std::vector<std::string> nsPh_;
  std::string nsList_;  // "(?1, ?2)": nsPh_ as an IN list, built on first use
  std::vector<NodeSql> nodes_;
  std::vector<std::string> where_;
  std::vector<std::string> ctes_;
  std::string pathWalk_;  // alias of a named path's walk in the main query, if it has one
  // Pipelines: the CTE of the rows before the step being compiled, the prefix of the step's
  // own CTE names, and whether ids stay native (a step's slots) rather than text (results).
  std::string input_;
  std::string ctePrefix_;
  bool rawIds_ = false;
};

}  // namespace

bool applyRowCap(const CompiledQuery& compiled, std::vector<storage::SqlRow>& rows) {
  if (!compiled.sentinel || static_cast<std::int64_t>(rows.size()) <= compiled.rowCap) return false;
  rows.resize(static_cast<std::size_t>(compiled.rowCap));
  return true;
}

CompiledQuery QueryCompiler::compile(const BoundQuery& bound) const { return Compilation(dialect_, bound).run(); }

CompiledQuery QueryCompiler::compile(const Query& query, const CompileOptions& options) const {
  return compile(bind(query, options));
}

CompiledQuery QueryCompiler::compile(std::string_view text, const CompileOptions& options) const {
  return compile(text, detectLanguage(text), options);
}

CompiledQuery QueryCompiler::compile(std::string_view text, Language language, const CompileOptions& options) const {
  if (text.size() > options.maxQueryBytes) {
    throw QueryError(QueryErrorClass::InvalidInput,
                     fmt::format("the query text is {} bytes, more than the limit of {}; shorten it (or raise "
                                 "[limits] max_query_bytes)",
                                 text.size(), options.maxQueryBytes));
  }
  return compile(parse(text, language), options);
}

}  // namespace khive::query
