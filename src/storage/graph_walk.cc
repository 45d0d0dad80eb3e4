#include "khive/storage/graph_walk.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "khive/core/error.h"
#include "khive/storage/record_checks.h"
#include "khive/storage/sql_access.h"

namespace khive::storage {

namespace {
constexpr std::string_view kCap = "graph";

[[noreturn]] void invalid(std::string_view op, std::string msg) {
  throw Error(ErrorCode::InvalidInput, std::string(kCap), std::string(op), std::move(msg));
}

void checkNamespaces(const std::vector<std::string>& namespaces, std::string_view op) {
  if (namespaces.empty()) invalid(op, "at least one namespace is required");
}

void checkWeight(std::optional<double> w, std::string_view op) {
  if (w && (!std::isfinite(*w) || *w < 0 || *w > 1))
    invalid(op, fmt::format("min_weight must be within [0, 1], got {}", *w));
}

void checkDepth(int depth, std::string_view op) {
  if (depth < 1 || depth > kMaxTraversalDepth)
    invalid(op, fmt::format("max_depth must be 1..{}, got {}", kMaxTraversalDepth, depth));
}

// The nodes a level reaches for the first time, each with its smallest (parent, edge), in id
// order. `known` holds the nodes of earlier levels.
template <class Known>
std::vector<Hop> firstReached(std::vector<Hop>& rows, const Known& known) {
  std::unordered_map<Uuid, std::size_t> best;  // node -> index of its best row
  best.reserve(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Hop& h = rows[i];
    if (known.contains(h.to)) continue;
    auto [it, fresh] = best.try_emplace(h.to, i);
    if (fresh) continue;
    const Hop& b = rows[it->second];
    if (std::tie(h.from, h.edge) < std::tie(b.from, b.edge)) it->second = i;
  }
  std::vector<Hop> out;
  out.reserve(best.size());
  for (const auto& [node, i] : best) out.push_back(rows[i]);
  std::sort(out.begin(), out.end(), [](const Hop& a, const Hop& b) { return a.to < b.to; });
  return out;
}
}  // namespace

HopPlan planHops(Direction direction, const std::vector<std::string>& relations,
                 std::span<const std::string> symmetricRelations, const std::vector<std::string>& namespaces,
                 std::optional<double> minWeight) {
  std::vector<std::string> symmetric;
  for (const auto& s : symmetricRelations) {
    if (relations.empty() || std::find(relations.begin(), relations.end(), s) != relations.end())
      symmetric.push_back(s);
  }
  HopPlan plan{{}, namespaces, minWeight};
  switch (direction) {
    case Direction::Out:
      plan.parts.push_back({true, relations, false, Direction::Out});
      if (!symmetric.empty()) plan.parts.push_back({false, std::move(symmetric), true, Direction::Out});
      break;
    case Direction::In:
      plan.parts.push_back({false, relations, false, Direction::In});
      if (!symmetric.empty()) plan.parts.push_back({true, std::move(symmetric), true, Direction::In});
      break;
    case Direction::Both:
      plan.parts.push_back({true, relations, false, Direction::Out});
      plan.parts.push_back({false, relations, true, Direction::In});
      break;
  }
  return plan;
}

Direction mirrored(Direction direction) {
  switch (direction) {
    case Direction::Out:
      return Direction::In;
    case Direction::In:
      return Direction::Out;
    case Direction::Both:
      break;
  }
  return Direction::Both;
}

void checkNeighborQuery(const NeighborQuery& q) {
  checkNamespaces(q.namespaces, "neighbors");
  checkWeight(q.minWeight, "neighbors");
  if (q.limit < 1 || q.limit > kMaxPageLimit)
    invalid("neighbors", fmt::format("limit must be 1..{}, got {}", kMaxPageLimit, q.limit));
}

void checkTraverseRequest(const TraverseRequest& r) {
  checkNamespaces(r.namespaces, "traverse");
  checkDepth(r.maxDepth, "traverse");
  checkWeight(r.minWeight, "traverse");
  if (r.perRootLimit < 1) invalid("traverse", "per_root_limit must be >= 1");
  if (r.maxWork < 1) invalid("traverse", "max_work must be >= 1");
}

void checkPathQuery(const PathQuery& q) {
  checkNamespaces(q.namespaces, "shortest_path");
  checkDepth(q.maxDepth, "shortest_path");
  checkWeight(q.minWeight, "shortest_path");
}

void checkEdge(const Edge& e, std::string_view op) {
  if (e.id.isNil()) invalid(op, "edge id is the nil UUID; generate one with Uuid::v7()");
  if (e.ns.empty()) invalid(op, "edge namespace is empty");
  if (e.relation.empty()) invalid(op, "edge relation is empty");
  if (e.sourceId.isNil() || e.targetId.isNil()) invalid(op, "edge endpoints must be non-nil UUIDs");
  if (!std::isfinite(e.weight) || e.weight < 0 || e.weight > 1)
    invalid(op, fmt::format("edge weight must be within [0, 1], got {}", e.weight));
  if (!e.metadata.is_object()) invalid(op, "edge metadata must be a JSON object");
  checkRecordText(e, kCap, op);
}

std::vector<TraversalTree> walkTrees(FrontierSource& source, const TraverseRequest& r, const HopPlan& plan,
                                     std::chrono::steady_clock::time_point deadline) {
  std::vector<TraversalTree> trees;
  trees.reserve(r.roots.size());
  for (const auto& root : r.roots) {
    if (std::chrono::steady_clock::now() > deadline) throwTimeBudgetExceeded(r.timeBudget, kCap, "traverse");
    source.boundUntil(deadline);
    TraversalTree& tree = trees.emplace_back();
    tree.rootId = root;
    auto whole = source.walkFrom(plan, root, r.maxDepth, r.maxWork);
    if (whole ? !whole->rootLive : !source.isLiveNode(root)) continue;
    tree.nodes.push_back({root, 0, std::nullopt, std::nullopt});
    std::unordered_set<Uuid> seen{root};
    std::vector<Uuid> frontier{root};
    std::int64_t work = 1;  // the root's own row
    for (int level = 1; level <= r.maxDepth && !frontier.empty(); ++level) {
      if (std::chrono::steady_clock::now() > deadline) throwTimeBudgetExceeded(r.timeBudget, kCap, "traverse");
      std::vector<Hop> rows;
      std::int64_t edgeRows = 0;
      if (!whole) {
        rows = source.expand(plan, frontier, r.maxWork - work + 1);
        edgeRows = static_cast<std::int64_t>(rows.size());
      } else if (static_cast<std::size_t>(level) <= whole->levels.size()) {
        auto& l = whole->levels[static_cast<std::size_t>(level) - 1];
        rows = std::move(l.reached);
        edgeRows = l.rows;
      }
      work += edgeRows;
      if (work > r.maxWork) {
        throw Error(ErrorCode::InvalidInput, std::string(kCap), "traverse",
                    fmt::format("the traversal from {} exceeded its work budget of {} (the root and every edge "
                                "followed count one each); lower max_depth, filter relations or raise max_work",
                                root.str(), r.maxWork));
      }
      frontier.clear();
      for (const Hop& h : firstReached(rows, seen)) {
        seen.insert(h.to);
        tree.nodes.push_back({h.to, level, h.edge, h.from});
        frontier.push_back(h.to);
      }
    }
    if (static_cast<std::int64_t>(tree.nodes.size()) > r.perRootLimit) {
      tree.nodes.resize(static_cast<std::size_t>(r.perRootLimit));
      tree.truncated = true;
    }
  }
  return trees;
}

std::optional<GraphPath> searchPath(FrontierSource& source, const Uuid& from, const Uuid& to, int maxDepth,
                                    const HopPlan& forward, const HopPlan& backward) {
  if (!source.isLiveNode(from) || !source.isLiveNode(to)) return std::nullopt;
  if (from == to) return GraphPath{{from}, {}};
  struct Side {
    const HopPlan& plan;
    std::unordered_map<Uuid, std::pair<Uuid, Uuid>> parent;  // node -> (prev, edge)
    std::unordered_map<Uuid, int> depth;
    std::vector<Uuid> frontier;
    int level = 0;
  };
  Side fwd{forward, {}, {{from, 0}}, {from}, 0};
  Side bwd{backward, {}, {{to, 0}}, {to}, 0};
  while (!fwd.frontier.empty() && !bwd.frontier.empty() && fwd.level + bwd.level < maxDepth) {
    Side& side = fwd.frontier.size() <= bwd.frontier.size() ? fwd : bwd;
    Side& other = &side == &fwd ? bwd : fwd;
    auto rows = source.expand(side.plan, side.frontier, 0);
    ++side.level;
    side.frontier.clear();
    for (const Hop& h : firstReached(rows, side.depth)) {
      side.depth.emplace(h.to, side.level);
      side.parent.emplace(h.to, std::pair{h.from, h.edge});
      side.frontier.push_back(h.to);
    }
    // A meeting node closes a shortest path; among several, the one nearest the other side's
    // start, then the smallest id, keeps the answer deterministic.
    const Uuid* best = nullptr;
    int bestDepth = 0;
    for (const auto& node : side.frontier) {
      auto it = other.depth.find(node);
      if (it == other.depth.end()) continue;
      if (!best || it->second < bestDepth || (it->second == bestDepth && node < *best)) {
        best = &node;
        bestDepth = it->second;
      }
    }
    if (!best) continue;
    GraphPath path;
    std::vector<std::pair<Uuid, Uuid>> head;  // (node, edge into it) from `from`
    for (Uuid n = *best; n != from;) {
      const auto& [prev, edge] = fwd.parent.at(n);
      head.emplace_back(n, edge);
      n = prev;
    }
    path.nodes.push_back(from);
    for (auto it = head.rbegin(); it != head.rend(); ++it) {
      path.edges.push_back(it->second);
      path.nodes.push_back(it->first);
    }
    for (Uuid n = *best; n != to;) {
      const auto& [next, edge] = bwd.parent.at(n);
      path.edges.push_back(edge);
      path.nodes.push_back(next);
      n = next;
    }
    return path;
  }
  return std::nullopt;
}

}  // namespace khive::storage
