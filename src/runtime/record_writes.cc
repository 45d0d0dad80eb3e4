#include "runtime/record_writes.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "khive/core/error.h"
#include "khive/runtime/indexing.h"
#include "khive/runtime/policy.h"
#include "runtime/audit_log.h"
#include "runtime/id_owners.h"
#include "runtime/verb_helpers.h"

namespace khive::runtime {

namespace {

Json mergeProperties(Json base, const Json& patch) {
  if (!patch.is_object()) invalid("update", "properties must be a JSON object");
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    if (it.value().is_null()) base.erase(it.key());
    else base[it.key()] = it.value();
  }
  return base;
}

// True when a live edge has `e`'s natural key (namespace, source, target, relation); a
// symmetric relation matches either orientation, as the store keeps one canonical row.
bool liveEdgeWithKey(storage::GraphStore& graph, const Vocabulary& vocabulary, const Edge& e) {
  storage::EdgeFilter f;
  f.namespaces = {e.ns};
  f.sources = {e.sourceId, e.targetId};
  f.targets = {e.sourceId, e.targetId};
  f.relations = {e.relation};
  const bool symmetric = vocabulary.isSymmetric(e.relation);
  for (const auto& x : graph.queryEdges(f, {.offset = 0, .limit = 4}).items)
    if ((x.sourceId == e.sourceId && x.targetId == e.targetId) ||
        (symmetric && x.sourceId == e.targetId && x.targetId == e.sourceId))
      return true;
  return false;
}

// The stored form of the two record types the verbs create, update and delete alike.
template <class R>
struct Stored;
template <>
struct Stored<Entity> {
  static constexpr Substrate substrate = Substrate::Entity;
  static constexpr int idType = 0;  // kIdTypes
  static void validate(const Policy& p, const Entity& e) { p.validateEntity(e); }
  static std::optional<Entity> get(storage::Backend& b, const Uuid& id, bool deletedToo) {
    return deletedToo ? b.entities().getEntityIncludingDeleted(id) : b.entities().getEntity(id);
  }
  static Entity upsert(storage::Backend& b, const Entity& e) { return b.entities().upsertEntity(e); }
  static void erase(storage::Backend& b, const Uuid& id, storage::DeleteMode m) { b.entities().deleteEntity(id, m); }
};
template <>
struct Stored<Note> {
  static constexpr Substrate substrate = Substrate::Note;
  static constexpr int idType = 1;
  static void validate(const Policy& p, const Note& n) { p.validateNote(n); }
  static std::optional<Note> get(storage::Backend& b, const Uuid& id, bool deletedToo) {
    return deletedToo ? b.notes().getNoteIncludingDeleted(id) : b.notes().getNote(id);
  }
  static Note upsert(storage::Backend& b, const Note& n) { return b.notes().upsertNote(n); }
  static void erase(storage::Backend& b, const Uuid& id, storage::DeleteMode m) { b.notes().deleteNote(id, m); }
};

// A patch's fields applied to an entity or a note; a field of the other type is refused.
void applyPatch(Entity& e, const RecordPatch& p) {
  if (p.content || p.salience || p.status)
    invalid("update", "content, salience and status are note fields; this is an entity");
  if (p.name) e.name = *p.name;
  if (p.description) e.description = *p.description;
  if (p.kind) e.kind = *p.kind;
  if (p.entityType) e.entityType = *p.entityType;
  if (p.properties) e.properties = mergeProperties(e.properties, *p.properties);
  if (p.tags) e.tags = *p.tags;
}
void applyPatch(Note& n, const RecordPatch& p) {
  if (p.description || p.entityType || p.tags)
    invalid("update", "description, entity_type and tags are entity fields; this is a note");
  if (p.name) n.name = *p.name;
  if (p.kind) n.kind = *p.kind;
  if (p.content) n.content = *p.content;
  if (p.salience) n.salience = *p.salience;
  if (p.status) n.status = *p.status;
  if (p.properties) n.properties = mergeProperties(n.properties, *p.properties);
}

}  // namespace

template <class R>
R RecordWrites::create(const R& record, const std::optional<Uuid>& id) {
  AuditLog::Target target{Stored<R>::substrate, policy_.writeNamespace()};
  return audit_.write("create", target, record.kind, [&] {
    policy_.checkGrant("create", policy_.writeNamespace());
    R r = record;
    r.id = id.value_or(Uuid::v7());
    r.ns = policy_.writeNamespace();
    Stored<R>::validate(policy_, r);
    if (id) checkNewId(backend_, *id, Stored<R>::idType);
    auto vec = indexing_.vectorForWrite(embeddingText(r));  // an engine failure leaves nothing written
    R stored = Stored<R>::upsert(backend_, r);
    indexing_.index(stored, std::move(vec));
    return stored;
  });
}

template <class R>
R RecordWrites::rewrite(R r, const RecordPatch& p) {
  policy_.checkGrant("update", r.ns);
  const std::string before = embeddingText(r);
  applyPatch(r, p);
  r.updatedAt = 0;
  Stored<R>::validate(policy_, r);
  // Re-embed when the embedded text changed, or the kind or properties the vector carries
  // for filtering.
  std::optional<std::vector<float>> vec;
  if (embeddingText(r) != before || p.kind || p.properties) vec = indexing_.vectorForWrite(embeddingText(r));
  R stored = Stored<R>::upsert(backend_, r);
  indexing_.index(stored, std::move(vec));
  return stored;
}

Entity RecordWrites::createEntity(const EntityInput& in) {
  return create(Entity{.kind = in.kind,
                       .entityType = in.entityType,
                       .name = in.name,
                       .description = in.description,
                       .properties = in.properties,
                       .tags = in.tags},
                in.id);
}

Note RecordWrites::createNote(const NoteInput& in) {
  return create(Note{.kind = in.kind,
                     .status = in.status,
                     .name = in.name,
                     .content = in.content,
                     .salience = in.salience,
                     .decayFactor = in.decayFactor,
                     .expiresAt = in.expiresAt,
                     .properties = in.properties},
                in.id);
}

Record RecordWrites::update(const Uuid& id, const RecordPatch& p) {
  AuditLog::Target target{Substrate::Entity, policy_.writeNamespace()};
  return audit_.write("update", target, "", [&]() -> Record {
    if (auto e = backend_.entities().getEntity(id); e && policy_.inReadScope(e->ns)) {
      target.ns = e->ns;
      return rewrite(*e, p);
    }
    if (auto n = backend_.notes().getNote(id); n && policy_.inReadScope(n->ns)) {
      target = {Substrate::Note, n->ns};
      return rewrite(*n, p);
    }
    if (auto ed = backend_.graph().getEdge(id); ed && policy_.inReadScope(ed->ns)) {
      target.ns = ed->ns;
      invalid("update", "edges are updated with `link` (same source, target and relation)");
    }
    throw Error(ErrorCode::NotFound, "runtime", "update", fmt::format("no live entity or note {}", id.str()));
  });
}

Record RecordWrites::remove(const Uuid& id, bool hard) {
  auto mode = hard ? storage::DeleteMode::Hard : storage::DeleteMode::Soft;
  AuditLog::Target target{Substrate::Entity, policy_.writeNamespace()};
  return audit_.write("delete", target, "", [&]() -> Record {
    auto gone = [&](auto rec) {
      rec.deletedAt = rec.deletedAt.value_or(0);
      return rec;
    };
    // An entity or a note in the read scope: the record after a soft delete, as it was before a
    // hard one.
    auto removed = [&]<class R>(std::optional<R> r) -> std::optional<Record> {
      if (!r || !policy_.inReadScope(r->ns)) return std::nullopt;
      target = {Stored<R>::substrate, r->ns};
      policy_.checkGrant("delete", r->ns);
      Stored<R>::erase(backend_, id, mode);
      if (!hard) {
        if (auto after = Stored<R>::get(backend_, id, true)) return *after;
      }
      return gone(*r);
    };
    if (auto r = removed(Stored<Entity>::get(backend_, id, hard))) return *r;
    if (auto r = removed(Stored<Note>::get(backend_, id, hard))) return *r;
    // A hard delete also finds a soft-deleted edge, which getEdge does not return.
    std::optional<Edge> ed = backend_.graph().getEdge(id);
    std::optional<std::string> edgeNs = ed ? std::optional(ed->ns) : hard ? policy_.storedEdgeNamespace(id) : std::nullopt;
    if (edgeNs && policy_.inReadScope(*edgeNs)) {
      target.ns = *edgeNs;
      policy_.checkGrant("delete", *edgeNs);
      if (backend_.graph().deleteEdge(id, mode)) {
        if (ed) return gone(*ed);
        Edge stub;
        stub.id = id;
        stub.ns = *edgeNs;
        return stub;
      }
    }
    throw Error(ErrorCode::NotFound, "runtime", "delete", fmt::format("no {}record {}", hard ? "" : "live ", id.str()));
  });
}

Entity RecordWrites::merge(const Uuid& loserId, const Uuid& winnerId) {
  AuditLog::Target target{Substrate::Entity, policy_.writeNamespace()};
  return audit_.write("merge", target, "", [&] {
    if (loserId == winnerId) invalid("merge", "cannot merge an entity into itself");
    auto loser = backend_.entities().getEntity(loserId);
    auto winner = backend_.entities().getEntity(winnerId);
    if (!loser || !policy_.inReadScope(loser->ns))
      throw Error(ErrorCode::NotFound, "runtime", "merge", fmt::format("no live entity {}", loserId.str()));
    if (!winner || !policy_.inReadScope(winner->ns))
      throw Error(ErrorCode::NotFound, "runtime", "merge", fmt::format("no live entity {}", winnerId.str()));
    target.ns = winner->ns;
    policy_.checkGrant("merge", loser->ns);
    policy_.checkGrant("merge", winner->ns);
    // Every namespace the merge writes in is checked before anything is written: those of the
    // edges it moves too.
    std::set<std::string> edgeNamespaces;
    for (bool outgoing : {true, false}) {
      storage::EdgeFilter f;
      f.namespaces = policy_.readNamespaces();
      (outgoing ? f.sources : f.targets) = {loserId};
      for (std::int64_t offset = 0;;) {
        auto page = backend_.graph().queryEdges(f, {.offset = offset, .limit = 1000});
        for (const auto& old : page.items) edgeNamespaces.insert(old.ns);
        if (!page.nextOffset) break;
        offset = *page.nextOffset;
      }
    }
    for (const auto& ns : edgeNamespaces) policy_.checkGrant("merge", ns);
    // Move every live edge touching the loser (in the read scope) to the winner. An edge that
    // would join the winner to itself is dropped; one whose natural key the winner already has
    // live is not moved (the winner's edge keeps its weight and metadata, as its properties win).
    for (bool outgoing : {true, false}) {
      storage::EdgeFilter f;
      f.namespaces = policy_.readNamespaces();
      (outgoing ? f.sources : f.targets) = {loserId};
      for (std::int64_t offset = 0;;) {
        auto page = backend_.graph().queryEdges(f, {.offset = offset, .limit = 1000});
        for (const auto& old : page.items) {
          Edge moved = old;
          moved.id = Uuid::v7();
          moved.createdAt = moved.updatedAt = 0;
          (outgoing ? moved.sourceId : moved.targetId) = winnerId;
          if (moved.sourceId != moved.targetId && !liveEdgeWithKey(backend_.graph(), policy_.vocabulary(), moved))
            backend_.graph().upsertEdge(moved);
        }
        if (!page.nextOffset) break;
        offset = *page.nextOffset;
      }
    }
    for (const auto& t : loser->tags)
      if (std::find(winner->tags.begin(), winner->tags.end(), t) == winner->tags.end()) winner->tags.push_back(t);
    Json props = loser->properties;
    for (auto it = winner->properties.begin(); it != winner->properties.end(); ++it) props[it.key()] = it.value();
    winner->properties = props;
    winner->updatedAt = 0;
    Entity stored = backend_.entities().upsertEntity(*winner);
    indexing_.index(stored);
    Uuid mergeEvent = Uuid::v7();
    loser->mergedInto = winnerId;
    loser->mergeEventId = mergeEvent;
    loser->updatedAt = 0;
    backend_.entities().upsertEntity(*loser);
    backend_.entities().deleteEntity(loserId, storage::DeleteMode::Soft);
    return stored;
  });
}

Edge RecordWrites::link(const LinkInput& in) {
  AuditLog::Target target{Substrate::Entity, policy_.writeNamespace()};
  return audit_.write("link", target, in.relation, [&] {
    policy_.checkGrant("link", policy_.writeNamespace());
    // Both endpoints must be visible, and the caller may link in each endpoint's namespace.
    std::string types[2];
    for (int i = 0; i < 2; ++i) {
      const Uuid& end = i == 0 ? in.source : in.target;
      std::optional<std::string> ns;
      if (auto en = backend_.entities().getEntity(end)) {
        ns = en->ns;
        types[i] = "entity";
      } else if (auto no = backend_.notes().getNote(end)) {
        ns = no->ns;
        types[i] = "note";
      }
      if (!ns || !policy_.inReadScope(*ns))
        throw Error(ErrorCode::NotFound, "runtime", "link", fmt::format("no live entity or note {}", end.str()));
      policy_.checkGrant("link", *ns);
    }
    Edge e;
    e.id = Uuid::v7();
    e.ns = policy_.writeNamespace();
    e.sourceId = in.source;
    e.targetId = in.target;
    e.relation = in.relation;
    e.weight = in.weight;
    e.metadata = in.metadata;
    policy_.validateEdge(e, types[0], types[1]);
    return backend_.graph().upsertEdge(e);
  });
}

}  // namespace khive::runtime
