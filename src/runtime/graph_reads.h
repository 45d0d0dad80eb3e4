// The record and graph read verbs of a Runtime (private to src/runtime): get, list,
// neighbors, traverse, path. Every lookup is scoped by the Policy: a record outside the read
// scope is missing. Runtime's comments say what each verb does.
//
// Thread-safe: constant after construction; reads through the thread-safe backend.
#pragma once

#include "khive/runtime/runtime.h"

namespace khive::runtime {

class Policy;

class GraphReads {
 public:
  // The backend and the policy must outlive this object.
  GraphReads(storage::Backend& backend, const Policy& policy) : backend_(backend), policy_(policy) {}
  GraphReads(const GraphReads&) = delete;
  GraphReads& operator=(const GraphReads&) = delete;

  std::optional<Record> get(const Uuid& id);
  ListResult list(const ListRequest& req);
  std::vector<NeighborRow> neighbors(const Uuid& id, storage::Direction dir, const std::vector<std::string>& relations,
                                     std::int64_t limit);
  std::vector<TraversePath> traverse(const std::vector<Uuid>& roots, int maxDepth, storage::Direction dir,
                                     const std::vector<std::string>& relations, std::int64_t perRootLimit);
  std::optional<PathResult> path(const Uuid& from, const Uuid& to, int maxDepth, storage::Direction dir,
                                 const std::vector<std::string>& relations);

 private:
  // Constant after construction.
  storage::Backend& backend_;
  const Policy& policy_;
};

}  // namespace khive::runtime
