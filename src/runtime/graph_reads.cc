#include "runtime/graph_reads.h"

#include <fmt/format.h>

#include "khive/core/error.h"
#include "khive/runtime/bounds.h"
#include "khive/runtime/policy.h"
#include "runtime/boundary.h"
#include "runtime/request_checks.h"
#include "runtime/verb_helpers.h"

namespace khive::runtime {

std::optional<Record> GraphReads::get(const Uuid& id) {
  if (auto e = backend_.entities().getEntityIncludingDeleted(id); e && policy_.inReadScope(e->ns)) return *e;
  if (auto n = backend_.notes().getNoteIncludingDeleted(id); n && policy_.inReadScope(n->ns)) return *n;
  if (auto ed = backend_.graph().getEdge(id); ed && policy_.inReadScope(ed->ns)) return *ed;
  if (auto ev = backend_.events().getEvent(id); ev && policy_.inReadScope(ev->ns)) return *ev;
  return std::nullopt;
}

ListResult GraphReads::list(const ListRequest& req) {
  checkListRequest(req, policy_.limits());
  storage::PageRequest page{.offset = req.offset, .limit = req.limit};
  ListResult out;
  auto take = [&](auto p) {
    for (auto& r : p.items) out.items.emplace_back(std::move(r));
    out.nextOffset = p.nextOffset;
  };
  if (req.type == "entity") {
    storage::EntityFilter f;
    f.namespaces = policy_.readNamespaces();
    f.kinds = req.kinds;
    f.namePrefix = req.namePrefix;
    f.tagsAny = req.tags;
    take(backend_.entities().queryEntities(f, page));
  } else if (req.type == "note") {
    storage::NoteFilter f;
    f.namespaces = policy_.readNamespaces();
    f.kinds = req.kinds;
    take(backend_.notes().queryNotes(f, page));
  } else if (req.type == "edge") {
    storage::EdgeFilter f;
    f.namespaces = policy_.readNamespaces();
    f.relations = req.kinds;
    take(backend_.graph().queryEdges(f, page));
  } else if (req.type == "event") {
    storage::EventFilter f;
    f.namespaces = policy_.readNamespaces();
    f.verbs = req.kinds;
    take(backend_.events().queryEvents(f, page));
  } else {
    invalid("list", fmt::format("unknown record type '{}' (entity, note, edge, event)", excerpt(req.type, 80)));
  }
  return out;
}

std::vector<NeighborRow> GraphReads::neighbors(const Uuid& id, storage::Direction dir, const std::vector<std::string>& relations,
                                            std::int64_t limit) {
  checkBound(limit, kNeighborsLimit, "limit");
  checkListValues(relations, "relations", policy_.limits());
  for (const auto& r : relations) policy_.vocabulary().checkRelation(r);
  policy_.requireVisibleNodes("neighbors", {id});
  storage::NeighborQuery q;
  q.namespaces = policy_.readNamespaces();
  q.direction = dir;
  q.relations = relations;
  q.limit = limit;
  auto ns = backend_.graph().neighbors(id, q);
  std::vector<Uuid> ids;
  for (const auto& n : ns) ids.push_back(n.nodeId);
  auto sums = policy_.summarize(ids);
  std::vector<NeighborRow> out;
  for (std::size_t i = 0; i < ns.size(); ++i) out.push_back({sums[i], ns[i]});
  return out;
}

std::vector<TraversePath> GraphReads::traverse(const std::vector<Uuid>& roots, int maxDepth, storage::Direction dir,
                                            const std::vector<std::string>& relations, std::int64_t perRootLimit) {
  checkBound(maxDepth, kTraverseDepth, "depth");
  checkBound(perRootLimit, kTraverseLimit, "limit");
  checkBound(static_cast<std::int64_t>(roots.size()), kTraverseRoots, "the number of roots");
  checkListValues(relations, "relations", policy_.limits());
  for (const auto& r : relations) policy_.vocabulary().checkRelation(r);
  policy_.requireVisibleNodes("traverse", roots);
  storage::TraverseRequest req;
  req.roots = roots;
  req.namespaces = policy_.readNamespaces();
  req.maxDepth = maxDepth;
  req.direction = dir;
  req.relations = relations;
  req.perRootLimit = perRootLimit;
  req.timeBudget = policy_.limits().timeBudget;
  std::vector<TraversePath> out;
  for (const auto& tree : backend_.graph().traverse(req)) {
    std::vector<Uuid> ids;
    for (const auto& n : tree.nodes) ids.push_back(n.id);
    auto sums = policy_.summarize(ids);
    TraversePath p{tree.rootId, {}, tree.truncated};
    for (std::size_t i = 0; i < tree.nodes.size(); ++i)
      p.nodes.push_back({sums[i], tree.nodes[i].depth, tree.nodes[i].viaEdge, tree.nodes[i].parentId});
    out.push_back(std::move(p));
  }
  return out;
}

std::optional<PathResult> GraphReads::path(const Uuid& from, const Uuid& to, int maxDepth, storage::Direction dir,
                                        const std::vector<std::string>& relations) {
  checkBound(maxDepth, kPathDepth, "depth");
  checkListValues(relations, "relations", policy_.limits());
  for (const auto& r : relations) policy_.vocabulary().checkRelation(r);
  policy_.requireVisibleNodes("path", {from, to});
  storage::PathQuery q;
  q.namespaces = policy_.readNamespaces();
  q.maxDepth = maxDepth;
  q.direction = dir;
  q.relations = relations;
  auto p = backend_.graph().shortestPath(from, to, q);
  if (!p) return std::nullopt;
  return PathResult{policy_.summarize(p->nodes), backend_.graph().getEdges(p->edges)};
}

}  // namespace khive::runtime
