#include "khive/storage/graph_store.h"

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

std::unique_ptr<EdgeLoad> GraphStore::beginLoad() {
  return std::make_unique<BatchedEdgeLoad>(*this);
}

}  // namespace khive::storage
