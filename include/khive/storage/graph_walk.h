#pragma once
// The graph walks written once for every engine: request checks, hop planning, the
// breadth-first traversal with its work budget and the bidirectional shortest-path search.
// They run over one backend primitive, FrontierSource::expand ("every live edge one hop out
// of these nodes"), which each backend implements with its own SQL.

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "khive/core/records.h"
#include "khive/storage/graph_store.h"

namespace khive::storage {

// One way of following edges. `forward` follows source -> target; otherwise target -> source.
// A walk in direction Out follows every edge forward and symmetric edges backward too (they
// are stored once, smaller UUID first, but mean both ways); In is the mirror; Both follows
// every edge both ways. A part that repeats edges an earlier part already follows skips
// self-loops, so each edge is followed once.
struct HopPart {
  bool forward = true;
  std::vector<std::string> relations;  // empty = any
  bool skipSelfLoops = false;
  Direction reported = Direction::Out;  // the direction a neighbor found this way is reported in
};

// What one hop follows: its parts and the edge conditions every part shares. Besides these,
// an edge is followed only when it is live: not soft-deleted and neither endpoint
// soft-deleted.
struct HopPlan {
  std::vector<HopPart> parts;
  std::vector<std::string> namespaces;  // non-empty
  std::optional<double> minWeight;
};

// The hop plan for a walk in `direction` over `relations` (empty = any), given every relation
// the backend stores symmetrically.
HopPlan planHops(Direction direction, const std::vector<std::string>& relations,
                 std::span<const std::string> symmetricRelations, const std::vector<std::string>& namespaces,
                 std::optional<double> minWeight);

// The plan walking the other way: Out <-> In, Both stays Both.
Direction mirrored(Direction direction);

// One edge followed: from a frontier node to the edge's other endpoint.
struct Hop {
  Uuid from;
  Uuid to;
  Uuid edge;
};

// The backend primitive the walks run over: reads on one connection, held by the backend for
// the length of one walk. Single-threaded.
class FrontierSource {
 public:
  virtual ~FrontierSource() = default;
  // True when `node` is a live (not soft-deleted) entity or note.
  virtual bool isLiveNode(const Uuid& node) = 0;
  // Every live edge one hop out of the `frontier` nodes along `plan`, in any order; with
  // `limit` > 0 at most that many. The same edge is returned once per part that follows it.
  virtual std::vector<Hop> expand(const HopPlan& plan, std::span<const Uuid> frontier, std::int64_t limit) = 0;
  // Called before each root of a traversal with the traversal's deadline; a backend whose
  // statements are bounded per transaction (not per connection) arms the bound here.
  virtual void boundUntil(std::chrono::steady_clock::time_point deadline) { (void)deadline; }

  // One level of a whole walk (walkFrom): the edge rows its expansion returned (at most the
  // work budget left + 1, as expand() is asked for), and the nodes it reached first, each with
  // its smallest (parent, edge).
  struct Level {
    std::int64_t rows = 0;
    std::vector<Hop> reached;
  };
  struct Walk {
    bool rootLive = false;
    std::vector<Level> levels;  // depth 1, 2, ...; stops after the level that exceeds maxWork
  };
  // The levels of walkTrees' breadth-first walk from `root`, computed by the engine in one
  // request, with exactly the rules walkTrees applies to expand()'s rows; nullopt when the
  // backend has no such request (walkTrees then expands level by level).
  virtual std::optional<Walk> walkFrom(const HopPlan& plan, const Uuid& root, int maxDepth, std::int64_t maxWork) {
    (void)plan, (void)root, (void)maxDepth, (void)maxWork;
    return std::nullopt;
  }
};

// Request checks shared by every engine: InvalidInput naming the field and its range.
void checkNeighborQuery(const NeighborQuery& query);
void checkTraverseRequest(const TraverseRequest& request);
void checkPathQuery(const PathQuery& query);
// An edge as upsertEdge takes it (InvalidInput naming what is wrong); `operation` names the
// caller in the error.
void checkEdge(const Edge& edge, std::string_view operation);

// The traversal, breadth-first and one expand() per level (or the levels of the backend's
// walkFrom() for each root, when it has one): each node is expanded once, at its
// least depth, and reached through its smallest parent and then smallest edge (UUID order).
// Each tree lists the root, then every node at depth 1, 2, ... in id order within a depth.
//
// The work budget (TraverseRequest::maxWork) counts the root as one and every edge row a
// level's expansion returns; a level asks for at most the budget left + 1 rows, so an
// exceeded budget is detected without reading further. Past the deadline between levels the
// walk fails with Timeout; inside a statement the backend enforces it. `plan` comes from
// planHops for the request's direction and relations.
std::vector<TraversalTree> walkTrees(FrontierSource& source, const TraverseRequest& request, const HopPlan& plan,
                                     std::chrono::steady_clock::time_point deadline);

// The fewest-hops path (GraphStore::shortestPath): a bidirectional breadth-first search, one
// expand() per level, always expanding the smaller frontier. `forward` follows the query's
// direction, `backward` its mirror.
std::optional<GraphPath> searchPath(FrontierSource& source, const Uuid& from, const Uuid& to, int maxDepth,
                                    const HopPlan& forward, const HopPlan& backward);

}  // namespace khive::storage
