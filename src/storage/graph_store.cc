#include "khive/storage/graph_store.h"

#include "khive/core/error.h"

namespace khive::storage {

namespace {

// Writes each added batch at once through upsertEdges.
class BatchedEdgeLoad final : public EdgeLoad {
 public:
  explicit BatchedEdgeLoad(GraphStore& store) : store_(store) {}

  void add(std::span<const Edge> edges) override { total_.merge(store_.upsertEdges(edges)); }

  BatchWriteSummary finish() override { return total_; }

 private:
  GraphStore& store_;
  BatchWriteSummary total_;
};

}  // namespace

void EdgeLoad::addAt(std::span<const Edge> edges, std::span<const std::int64_t>) { add(edges); }

void EdgeLoad::dropFrom(std::int64_t) {
  throw Error(ErrorCode::Unsupported, "graph", "load_edges",
              "this edge load writes each batch as it is added; written edges cannot be taken back");
}

std::unique_ptr<EdgeLoad> GraphStore::beginLoad() {
  return std::make_unique<BatchedEdgeLoad>(*this);
}

std::map<Uuid, std::vector<Neighbor>> GraphStore::neighborsBatch(std::span<const Uuid> nodes,
                                                                 const NeighborQuery& query) {
  std::map<Uuid, std::vector<Neighbor>> out;
  for (const auto& n : nodes) {
    if (!out.contains(n)) out.emplace(n, neighbors(n, query));
  }
  return out;
}

}  // namespace khive::storage
