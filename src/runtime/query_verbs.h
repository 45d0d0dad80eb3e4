// The search and query verbs of a Runtime (private to src/runtime): hybrid search (text plus
// the default engine's vector, fused) and GQL/SPARQL queries compiled to the backend's SQL
// dialect, both over the read scope. Runtime's comments say what each verb does.
//
// Thread-safe: constant after construction; the units it uses are thread-safe.
#pragma once

#include "khive/runtime/runtime.h"

namespace khive::runtime {

class Indexing;
class Policy;

class QueryVerbs {
 public:
  // Every argument must outlive this object. `fusion`: [search] fusion of khive.toml.
  QueryVerbs(storage::Backend& backend, const Policy& policy, Indexing& indexing, retrieval::FusionOptions fusion)
      : backend_(backend), policy_(policy), indexing_(indexing), fusion_(std::move(fusion)) {}
  QueryVerbs(const QueryVerbs&) = delete;
  QueryVerbs& operator=(const QueryVerbs&) = delete;

  SearchResult search(const SearchRequest& req);
  QueryResult query(const QueryRequest& req);

 private:
  // Constant after construction.
  storage::Backend& backend_;
  const Policy& policy_;
  Indexing& indexing_;
  const retrieval::FusionOptions fusion_;
};

}  // namespace khive::runtime
