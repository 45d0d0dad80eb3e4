#pragma once
// GraphStore: typed, weighted edges between entities and notes, and walks over them.

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "khive/core/records.h"
#include "khive/storage/types.h"

namespace khive::storage {

enum class EdgeSort { CreatedAt, Weight };

struct EdgeFilter {
  std::vector<std::string> namespaces;  // required (non-empty)
  std::vector<Uuid> sources;
  std::vector<Uuid> targets;
  std::vector<std::string> relations;
  std::optional<double> minWeight;
  std::optional<double> maxWeight;
  std::optional<Micros> createdAfter;   // inclusive
  std::optional<Micros> createdBefore;  // exclusive
  EdgeSort sort = EdgeSort::CreatedAt;
  SortOrder order = SortOrder::Asc;
  bool includeDeleted = false;
};

struct NeighborQuery {
  std::vector<std::string> namespaces;  // required: edges of these namespaces only
  Direction direction = Direction::Out;
  std::vector<std::string> relations;  // empty = any
  std::optional<double> minWeight;
  std::int64_t limit = 100;  // 1..10,000
};

struct Neighbor {
  Uuid nodeId;
  Uuid edgeId;
  std::string relation;
  double weight = 1.0;
  Direction direction = Direction::Out;  // Out: node is the edge's target; In: its source
  bool operator==(const Neighbor&) const = default;
};

inline constexpr int kMaxTraversalDepth = 10;

struct TraverseRequest {
  std::vector<Uuid> roots;
  std::vector<std::string> namespaces;  // required
  int maxDepth = 3;                     // 1..kMaxTraversalDepth
  Direction direction = Direction::Out;
  std::vector<std::string> relations;
  std::optional<double> minWeight;
  // Nodes returned per root (nearest first), the root included; more reachable nodes set
  // `truncated` on that root's tree.
  std::int64_t perRootLimit = 1000;
  // Work budget per root, the same on every engine: the root counts one and each edge the
  // walk follows counts one (an edge reaching a node already reached counts too). Past it the
  // traversal fails with InvalidInput instead of returning a partial answer.
  std::int64_t maxWork = 200'000;
  // Time budget for the whole traversal; past it the traversal fails with Timeout.
  std::chrono::milliseconds timeBudget{5000};
};

struct TraversalNode {
  Uuid id;
  int depth = 0;                 // 0 for the root
  std::optional<Uuid> viaEdge;   // an edge reaching it from a node one level up
  std::optional<Uuid> parentId;  // that node
};

struct TraversalTree {
  Uuid rootId;
  std::vector<TraversalNode> nodes;  // ordered by (depth, id); each node once, at its least depth
  bool truncated = false;            // perRootLimit cut the tree
};

struct PathQuery {
  std::vector<std::string> namespaces;  // required
  int maxDepth = 6;                     // 1..kMaxTraversalDepth
  Direction direction = Direction::Out;
  std::vector<std::string> relations;
  std::optional<double> minWeight;
};

struct GraphPath {
  std::vector<Uuid> nodes;  // from .. to
  std::vector<Uuid> edges;  // nodes.size() - 1 edges
};

// The edges of a large load (an import), handed over in batches and written by finish().
// Every edge gets exactly the semantics of GraphStore::upsertEdges. The default load writes
// each batch as it is added; a backend may instead hold the edges and write them all at
// finish(), in its own key order and one transaction, which turns many scattered B-tree
// inserts into one ordered pass. Destroying a load before finish() writes nothing it still
// holds. Not thread-safe: one thread at a time uses it, and it must not outlive its backend.
class EdgeLoad {
 public:
  virtual ~EdgeLoad() = default;
  virtual void add(std::span<const Edge> edges) = 0;
  // Writes whatever is held; the summary covers every edge added since the load began.
  virtual BatchWriteSummary finish() = 0;

  // A load that holds every edge until finish() (writes nothing before) says so. Its user may
  // then add edges ahead of its other writes, each with its position in the input (a line
  // number; non-decreasing over the load), and take back the latest with dropFrom().
  virtual bool holdsUntilFinish() const { return false; }
  // add() with positions; the default ignores them.
  virtual void addAt(std::span<const Edge> edges, std::span<const std::int64_t> positions);
  // Forgets every held edge (and every failure counted) at `position` or later. Unsupported
  // unless the load holds until finish().
  virtual void dropFrom(std::int64_t position);
};

// Thread-safe. Edges may join entities and notes; an edge whose endpoint is soft-deleted is
// invisible to neighbors, traverse and shortestPath (the edge itself stays stored).
class GraphStore {
 public:
  virtual ~GraphStore() = default;
  // Upserts on the natural key (namespace, source, target, relation): an existing edge keeps
  // its id and created_at, takes the new weight and metadata and is revived if soft-deleted.
  // Symmetric relations are stored with the smaller UUID as source. Returns the stored edge.
  // InvalidInput on weight outside [0,1] or an empty relation; Conflict when the id names an
  // edge with another natural key.
  virtual Edge upsertEdge(const Edge& edge) = 0;
  virtual BatchWriteSummary upsertEdges(std::span<const Edge> edges) = 0;
  // A load of many edges; the default calls upsertEdges once per add().
  virtual std::unique_ptr<EdgeLoad> beginLoad();
  virtual std::optional<Edge> getEdge(const Uuid& id) = 0;
  // Live edges with these ids, in the order of `ids` (missing ones skipped).
  virtual std::vector<Edge> getEdges(std::span<const Uuid> ids) = 0;
  virtual bool deleteEdge(const Uuid& id, DeleteMode mode) = 0;
  virtual Page<Edge> queryEdges(const EdgeFilter& filter, const PageRequest& page = {}) = 0;
  virtual std::int64_t countEdges(const EdgeFilter& filter) = 0;

  // Ordered by (weight desc, node id, relation).
  virtual std::vector<Neighbor> neighbors(const Uuid& node, const NeighborQuery& query) = 0;
  // neighbors() of each distinct node; the default asks once per node.
  virtual std::map<Uuid, std::vector<Neighbor>> neighborsBatch(std::span<const Uuid> nodes,
                                                               const NeighborQuery& query);
  // One tree per root, in the order of the roots. InvalidInput for depth outside 1..10 or an
  // exceeded work budget; Timeout past the time budget. Never a silently partial answer.
  virtual std::vector<TraversalTree> traverse(const TraverseRequest& request) = 0;
  // A fewest-hops path, or nullopt when none exists within maxDepth. Among equally short
  // paths the lexicographically smallest node sequence is returned.
  virtual std::optional<GraphPath> shortestPath(const Uuid& from, const Uuid& to, const PathQuery& query) = 0;
};

}  // namespace khive::storage
