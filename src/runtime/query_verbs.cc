#include "runtime/query_verbs.h"

#include <fmt/format.h>

#include <algorithm>

#include "khive/core/error.h"
#include "khive/query/compiler.h"
#include "khive/query/parse.h"
#include "khive/runtime/indexing.h"
#include "khive/runtime/policy.h"
#include "runtime/boundary.h"
#include "runtime/request_checks.h"
#include "runtime/verb_helpers.h"

namespace khive::runtime {

SearchResult QueryVerbs::search(const SearchRequest& req) {
  checkSearchRequest(req, policy_.limits());
  if (blank(req.text)) invalid("search", "search text must not be empty");
  if (!indexing_.hasText())
    throw Error(ErrorCode::Unsupported, "runtime", "search", "this backend has no text search capability");
  retrieval::HybridQuery q;
  q.text = req.text;
  q.namespaces = policy_.readNamespaces();
  q.kinds = req.kinds;
  q.scope = req.scope;
  q.topK = req.topK;
  q.snippets = true;
  q.fusion = fusion_;
  SearchResult out;
  out.mode = "text";
  // The query vector comes from the default engine. An engine that fails does not fail the
  // search: it falls back to text and says why (the text signal alone is still an answer).
  if (auto* eng = indexing_.defaultEngine(); !eng) {
    out.notice = "no embedding engine configured ([[engines]] in khive.toml); text-only search";
  } else if (!indexing_.hasVectors()) {
    out.notice = fmt::format("the {} backend has no vector capability (see khive doctor); text-only search", indexing_.backendName());
  } else {
    try {
      auto v = eng->embed(std::span(&req.text, 1)).at(0);
      if (std::all_of(v.begin(), v.end(), [](float x) { return x == 0.0f; })) {
        out.notice = fmt::format("engine '{}' gives the query a zero vector (no known words); text-only search", eng->name());
      } else {
        q.vector = std::move(v);
        q.vectorModel = eng->name();
        out.mode = "hybrid";
        out.engine = eng->name();
      }
    } catch (const Error& e) {
      out.notice = fmt::format("{}; text-only search", e.message());
    }
  }
  try {
    out.hits = retrieval::HybridSearch(backend_).search(q);
  } catch (const Error& e) {
    // The store holds vectors of another dimension under the engine's name (the model behind
    // the name changed): no query vector of this engine can be compared with them, but the text
    // signal still answers. Looked up only when the vector search refused the query, so a
    // search pays nothing for the check.
    auto clash = out.mode == "hybrid" && e.code() == ErrorCode::InvalidInput
                     ? indexing_.storedDimensionClash(*out.engine, static_cast<int>(q.vector.size()))
                     : std::nullopt;
    if (!clash) throw;
    out.notice = *clash + "; text-only search";
    out.mode = "text";
    out.engine.reset();
    q.vector.clear();
    q.vectorModel.clear();
    out.hits = retrieval::HybridSearch(backend_).search(q);
  }
  if (out.mode == "hybrid" &&
      std::none_of(out.hits.begin(), out.hits.end(), [](const auto& h) { return h.signals.vector.has_value(); }) &&
      backend_.vectors().countVectors(*out.engine, policy_.readNamespaces()) == 0)
    out.notice = fmt::format("engine '{}' has no vectors stored in this scope yet: run `khive reindex`", *out.engine);
  return out;
}

namespace {
Json cellJson(const storage::SqlValue& v, query::ValueType type) {
  if (storage::isNull(v)) return nullptr;
  if (auto b = std::get_if<bool>(&v)) return *b;
  if (auto i = std::get_if<std::int64_t>(&v)) return *i;
  if (auto d = std::get_if<double>(&v)) return *d;
  std::string text = storage::displayValue(v);
  switch (type) {
    case query::ValueType::Json: {
      auto j = Json::parse(text, nullptr, false);
      return j.is_discarded() ? Json(text) : j;
    }
    case query::ValueType::Integer: {
      auto j = Json::parse(text, nullptr, false);
      return j.is_number() ? j : Json(text);
    }
    case query::ValueType::Real: {
      auto j = Json::parse(text, nullptr, false);
      return j.is_number() ? Json(j.get<double>()) : Json(text);
    }
    default: return text;
  }
}
}  // namespace

QueryResult QueryVerbs::query(const QueryRequest& req) {
  checkQueryRequest(req, policy_.limits());
  const query::SqlDialect& dialect = query::queryDialect(backend_.dialect());
  query::QueryCompiler compiler(dialect);
  query::CompileOptions o;
  o.namespaces = policy_.readNamespaces();
  o.rowCap = req.rowCap;
  o.maxQueryBytes = policy_.limits().maxQueryBytes;
  o.parameters = req.parameters;
  o.extraRelations = policy_.vocabulary().extraRelations();
  o.extraSymmetricRelations = policy_.vocabulary().extraSymmetricRelations();
  query::Language lang = query::detectLanguage(req.text);
  if (req.language) {
    if (*req.language == "gql") lang = query::Language::Gql;
    else if (*req.language == "sparql") lang = query::Language::Sparql;
    else invalid("query", fmt::format("unknown query language '{}' (gql, sparql)", excerpt(*req.language, 80)));
  }
  auto compiled = compiler.compile(req.text, lang, o);
  auto reader = backend_.sql().reader();
  QueryResult out;
  out.language = lang == query::Language::Gql ? "gql" : "sparql";
  for (const auto& c : compiled.columns) out.columns.push_back(c.name);
  if (req.explain) {
    QueryExplain ex{compiled.sql, {}, {}};
    for (const auto& p : compiled.params) {
      if (storage::isNull(p)) ex.parameters.push_back(nullptr);
      else if (auto i = std::get_if<std::int64_t>(&p)) ex.parameters.push_back(*i);
      else if (auto d = std::get_if<double>(&p)) ex.parameters.push_back(*d);
      else ex.parameters.push_back(storage::displayValue(p));
    }
    // The plan's text is the last column of each row (SQLite: id, parent, notused, detail).
    for (const auto& row : reader->query(dialect.explainStatement(compiled.sql), compiled.params).rows) {
      if (!row.empty()) ex.plan.push_back(storage::displayValue(row.back()));
    }
    out.explain = std::move(ex);
    return out;
  }
  auto rows = reader->query(compiled.sql, compiled.params);
  out.truncated = query::applyRowCap(compiled, rows.rows);
  for (const auto& r : rows.rows) {
    std::vector<Json> row;
    for (std::size_t i = 0; i < r.size() && i < compiled.columns.size(); ++i) row.push_back(cellJson(r[i], compiled.columns[i].type));
    out.rows.push_back(std::move(row));
  }
  return out;
}

}  // namespace khive::runtime
