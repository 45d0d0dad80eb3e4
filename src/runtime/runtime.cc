#include "khive/runtime/runtime.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <set>

#include "khive/core/error.h"
#include "khive/core/utf8.h"
#include "khive/query/compiler.h"
#include "khive/query/parse.h"
#include "khive/runtime/bounds.h"
#include "khive/runtime/codec.h"
#include "runtime/boundary.h"
#include "runtime/id_owners.h"
#include "runtime/request_checks.h"

namespace khive::runtime {

using Clock = std::chrono::steady_clock;

namespace {

[[noreturn]] void invalid(std::string_view op, std::string message) {
  throw Error(ErrorCode::InvalidInput, "runtime", std::string(op), std::move(message));
}

bool blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c) != 0; });
}

Uuid idOf(const Entity& e) { return e.id; }
Uuid idOf(const Note& n) { return n.id; }
Uuid idOf(const Edge& e) { return e.id; }
Uuid idOf(const Record& r) {
  return std::visit([](const auto& v) { return v.id; }, r);
}
std::string kindOf(const Entity& e) { return e.kind; }
std::string kindOf(const Note& n) { return n.kind; }
std::string kindOf(const Edge& e) { return e.relation; }
std::string kindOf(const Record& r) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, Edge>) return v.relation;
        else return v.kind;
      },
      r);
}

std::string nsOf(const Entity& e) { return e.ns; }
std::string nsOf(const Note& n) { return n.ns; }
std::string nsOf(const Edge& e) { return e.ns; }
std::string nsOf(const Record& r) {
  return std::visit([](const auto& v) { return v.ns; }, r);
}
// An event's substrate for a written record: an edge takes `other` (the verb's).
Substrate substrateOfRecord(const Entity&, Substrate) { return Substrate::Entity; }
Substrate substrateOfRecord(const Note&, Substrate) { return Substrate::Note; }
Substrate substrateOfRecord(const Edge&, Substrate other) { return other; }
Substrate substrateOfRecord(const Event&, Substrate other) { return other; }
Substrate substrateOfRecord(const Record& r, Substrate other) {
  return std::visit([&](const auto& v) { return substrateOfRecord(v, other); }, r);
}

std::vector<std::string> withWriteNs(std::vector<std::string> visible, const std::string& ns) {
  if (std::find(visible.begin(), visible.end(), ns) == visible.end()) visible.push_back(ns);
  return visible;
}

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

}  // namespace

std::string_view recordType(const Record& r) noexcept {
  switch (r.index()) {
    case 0: return "entity";
    case 1: return "note";
    case 2: return "edge";
    default: return "event";
  }
}

void checkNamespace(std::string_view ns) {
  bool ok = !ns.empty() && ns.size() <= 64;
  for (char c : ns) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == ':' || c == '-');
  if (!ok) invalid("namespace", fmt::format("namespace '{}' must be 1..64 characters of [A-Za-z0-9_.:-]", excerpt(ns, 80)));
}

Runtime::Runtime(std::unique_ptr<storage::Backend> backend, RuntimeOptions options)
    : Runtime(std::shared_ptr<storage::Backend>(std::move(backend)), std::move(options)) {}

Runtime::Runtime(std::shared_ptr<storage::Backend> backend, RuntimeOptions options)
    : backend_(std::move(backend)), options_(std::move(options)), vocabulary_(options_.config.vocabulary) {
  writeNs_ = options_.writeNamespace.value_or(options_.config.actor.ns);
  checkNamespace(writeNs_);
  for (const auto& ns : options_.config.actor.visibleNamespaces) checkNamespace(ns);
  std::vector<std::string> visible = options_.config.actor.visibleNamespaces;
  if (visible.empty()) visible.push_back(options_.config.actor.ns);
  readNs_ = withWriteNs(std::move(visible), writeNs_);
  const Limits& limits = options_.config.limits;
  backend_->setReadBudget({limits.timeBudget, limits.workBudget});
  auto info = backend_->info();
  engine_ = info.engine;
  for (const auto& c : info.capabilities) {
    if (c.capability == storage::Capability::Text) hasText_ = c.supported;
    if (c.capability == storage::Capability::Vectors) hasVectors_ = c.supported;
  }
}

// ---- gate and events -------------------------------------------------------------------

bool Runtime::inReadScope(std::string_view ns) const noexcept {
  return std::find(readNs_.begin(), readNs_.end(), ns) != readNs_.end();
}

void Runtime::checkGrant(std::string_view verb, std::string_view ns) const {
  const auto& grants = options_.config.grants;
  if (grants.empty()) {
    if (inReadScope(ns)) return;
    throw Error(ErrorCode::PermissionDenied, "runtime", "gate",
                fmt::format("actor '{}' may not '{}' in namespace '{}': without [[grants]] an actor writes only in its "
                            "read scope ({})",
                            actor(), verb, ns, fmt::join(readNs_, ", ")));
  }
  auto has = [](const std::vector<std::string>& list, std::string_view v) {
    return std::any_of(list.begin(), list.end(), [&](const std::string& s) { return s == "*" || s == v; });
  };
  for (const auto& g : grants)
    if ((g.actor == "*" || g.actor == actor()) && has(g.verbs, verb) && has(g.namespaces, ns)) return;
  throw Error(ErrorCode::PermissionDenied, "runtime", "gate",
              fmt::format("actor '{}' has no grant for '{}' in namespace '{}'", actor(), verb, ns));
}

void Runtime::recordEvent(std::string_view verb, Substrate substrate, std::string_view kind, Outcome outcome, Json payload,
                          Clock::duration took, std::optional<Uuid> target, std::string_view ns) {
  Event ev;
  ev.id = Uuid::v7();
  ev.ns = ns.empty() ? writeNs_ : std::string(ns);
  ev.verb = std::string(verb);
  ev.substrate = substrate;
  ev.actor = actor();
  // The kind of a refused request may be the bad input: kept as an excerpt a record may hold.
  ev.kind = outcome == Outcome::Success ? std::string(kind) : excerpt(kind, std::min<std::size_t>(200, limits().maxNameBytes));
  ev.outcome = outcome;
  ev.payload = std::move(payload);
  ev.durationUs = std::chrono::duration_cast<std::chrono::microseconds>(took).count();
  ev.targetId = target;
  ev.sessionId = options_.sessionId;
  if (outcome == Outcome::Success) {
    backend_->events().appendEvent(ev);
    return;
  }
  try {
    backend_->events().appendEvent(ev);
  } catch (const Error&) {
    // The caller rethrows the error that made this an error event; a second failure (e.g. the
    // database is gone) adds nothing a person can act on.
  }
}

template <class F>
auto Runtime::write(std::string_view verb, AuditTarget& target, std::string_view kind, F&& body) {
  auto start = Clock::now();
  for (int attempt = 1;; ++attempt) {
    try {
      // One unit of work: the record, its text document, its vector and the success event
      // commit together or not at all. Its transaction begins at the body's first write, after
      // its reads and its embedding request. On an error the unit is rolled back as the error
      // leaves this block, and the error event below is written on its own.
      auto work = backend_->beginWork();
      auto result = body();
      recordEvent(verb, substrateOfRecord(result, target.substrate), kindOf(result), Outcome::Success, Json::object(),
                  Clock::now() - start, idOf(result), nsOf(result));
      work->commit();
      return result;
    } catch (const Error& e) {
      // A deadlock or serialization failure (PostgreSQL) ended the unit's transaction: the verb
      // runs again from its first read, up to three times in all.
      if ((e.code() == ErrorCode::Serialization || e.code() == ErrorCode::Transaction) && attempt < 3) continue;
      Outcome o = e.code() == ErrorCode::PermissionDenied ? Outcome::Denied : Outcome::Error;
      recordEvent(verb, target.substrate, kind, o, Json{{"error", excerpt(e.message(), 4096)}, {"code", std::string(errorCodeName(e.code()))}},
                  Clock::now() - start, std::nullopt, target.ns);
      throw;
    }
  }
}

void Runtime::requireVisibleNodes(std::string_view op, const std::vector<Uuid>& ids) {
  for (const auto& s : summarize(ids))
    if (s.type == "missing")
      throw Error(ErrorCode::NotFound, "runtime", std::string(op), fmt::format("no live entity or note {}", s.id.str()));
}

// ---- validation ------------------------------------------------------------------------

void Runtime::validateEntity(const Entity& e) const {
  const Limits& l = limits();
  checkNamespace(e.ns);
  checkNameField(e.kind, "entity kind", l);
  vocabulary_.checkEntityKind(e.kind);
  checkNameField(e.name, "entity name", l);
  if (blank(e.name)) invalid("validate", "entity name must not be empty");
  if (e.entityType) checkNameField(*e.entityType, "entity entity_type", l);
  if (e.entityType && blank(*e.entityType)) invalid("validate", "entity_type must not be empty when given");
  if (e.description) checkTextField(*e.description, "entity description", l);
  if (!e.properties.is_object()) invalid("validate", "entity properties must be a JSON object");
  checkJsonField(e.properties, "entity properties", l);
  checkTagCount(e.tags.size(), "entity tags", l);
  for (const auto& t : e.tags) {
    checkNameField(t, "entity tag", l);
    if (blank(t)) invalid("validate", "tags must not be empty");
  }
}

void Runtime::validateNote(const Note& n) const {
  const Limits& l = limits();
  checkNamespace(n.ns);
  checkNameField(n.kind, "note kind", l);
  vocabulary_.checkNoteKind(n.kind);
  checkTextField(n.content, "note content", l);
  if (blank(n.content)) invalid("validate", "note content must not be empty");
  if (n.name) checkNameField(*n.name, "note name", l);
  if (n.name && blank(*n.name)) invalid("validate", "note name must not be empty when given");
  if (n.salience && !(*n.salience >= 0 && *n.salience <= 1))
    invalid("validate", fmt::format("salience {} is outside [0, 1]", *n.salience));
  if (n.decayFactor && !(*n.decayFactor >= 0 && std::isfinite(*n.decayFactor)))
    invalid("validate", fmt::format("decay_factor {} must be a finite number >= 0", *n.decayFactor));
  if (!n.properties.is_object()) invalid("validate", "note properties must be a JSON object");
  checkJsonField(n.properties, "note properties", l);
}

void Runtime::validateEvent(const Event& e) const {
  const Limits& l = limits();
  checkNamespace(e.ns);
  checkNameField(e.verb, "event verb", l);
  if (blank(e.verb)) invalid("validate", "event verb must not be empty");
  checkNameField(e.actor, "event actor", l);
  checkNameField(e.kind, "event kind", l);
  if (e.sessionId) checkNameField(*e.sessionId, "event session_id", l);
  if (!e.payload.is_object()) invalid("validate", "event payload must be a JSON object");
  checkJsonField(e.payload, "event payload", l);
}

void Runtime::validateEdge(const Edge& e, std::string_view sourceType, std::string_view targetType) const {
  checkNamespace(e.ns);
  checkNameField(e.relation, "edge relation", limits());
  vocabulary_.checkRelation(e.relation);
  if (!(e.weight >= 0 && e.weight <= 1)) invalid("validate", fmt::format("edge weight {} is outside [0, 1]", e.weight));
  if (!e.metadata.is_object()) invalid("validate", "edge metadata must be a JSON object");
  checkJsonField(e.metadata, "edge metadata", limits());
  if (e.sourceId == e.targetId) invalid("validate", "an edge cannot join a record to itself");
  if (sourceType.empty()) invalid("validate", fmt::format("edge source {} is not a live entity or note", e.sourceId.str()));
  if (targetType.empty()) invalid("validate", fmt::format("edge target {} is not a live entity or note", e.targetId.str()));
  if (e.relation == "annotates" && sourceType != "note")
    invalid("validate", fmt::format("'annotates' starts at a note; the source is an {}", sourceType));
  if ((e.relation == "supersedes" || e.relation == "supports" || e.relation == "refutes") && sourceType != targetType)
    invalid("validate", fmt::format("'{}' joins two records of one substrate; here an {} and a {}", e.relation,
                                    sourceType, targetType));
}

std::string Runtime::substrateOf(const Uuid& id) {
  if (auto e = backend_->entities().getEntity(id); e && inReadScope(e->ns)) return "entity";
  if (auto n = backend_->notes().getNote(id); n && inReadScope(n->ns)) return "note";
  return "";
}

std::optional<std::string> Runtime::storedEdgeNamespace(const Uuid& id) {
  const std::string sql =
      "SELECT namespace FROM edges WHERE id = " + backend_->dialect().placeholder(1, storage::ParamType::Id);
  auto rows = backend_->sql().reader()->query(sql, {id}).rows;
  if (rows.empty()) return std::nullopt;
  return storage::asText(rows[0][0]);
}

void Runtime::indexText(const Entity& e) {
  if (hasText_) backend_->text().upsertDocument(retrieval::textDocumentOf(e));
}
void Runtime::indexText(const Note& n) {
  if (hasText_) backend_->text().upsertDocument(retrieval::textDocumentOf(n));
}

// ---- ids -------------------------------------------------------------------------------

Uuid Runtime::resolveId(std::string_view text) {
  if (auto u = Uuid::tryParse(text)) return *u;
  std::string hex;
  for (char c : text) {
    if (c == '-') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c)))
      invalid("resolve", fmt::format("'{}' is not an id (a UUID or a prefix of at least 8 hex characters)", excerpt(text, 80)));
    hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (hex.size() < 8 || hex.size() > 32)
    invalid("resolve", fmt::format("'{}' is not an id (a UUID or a prefix of at least 8 hex characters)", excerpt(text, 80)));
  Uuid lo = Uuid::parse(hex + std::string(32 - hex.size(), '0'));
  Uuid hi = Uuid::parse(hex + std::string(32 - hex.size(), 'f'));
  const storage::SqlDialect& dialect = backend_->dialect();
  // Records before events: a v7 id shares its leading (millisecond) digits with the event of
  // the verb that wrote it, so an 8-character prefix of a fresh entity would otherwise always
  // be ambiguous with its own "create" event. Events are found when no record matches.
  // Only ids of the read scope are found (and named when the prefix is ambiguous).
  storage::SqlParams params{lo, hi};
  std::string inScope;
  for (const auto& ns : readNs_) {
    params.emplace_back(ns);
    inScope += fmt::format("{}{}", inScope.empty() ? "" : ", ",
                           dialect.placeholder(static_cast<int>(params.size()), storage::ParamType::Text));
  }
  auto reader = backend_->sql().reader();
  std::set<std::string> found;
  for (const auto& tables : {std::vector<const char*>{"entities", "notes", "edges"}, std::vector<const char*>{"events"}}) {
    std::string sql;
    for (const char* table : tables) {
      if (!sql.empty()) sql += " UNION ALL ";
      sql += fmt::format("SELECT {} FROM (SELECT id FROM {} WHERE id BETWEEN {} AND {} AND namespace IN ({}) LIMIT 2) AS t_{}",
                         dialect.idAsText("id"), table, dialect.placeholder(1, storage::ParamType::Id),
                         dialect.placeholder(2, storage::ParamType::Id), inScope, table);
    }
    for (const auto& r : reader->query(sql, params).rows) found.insert(storage::asText(r[0]));
    if (!found.empty()) break;
  }
  if (found.empty()) throw Error(ErrorCode::NotFound, "runtime", "resolve", fmt::format("no record has an id starting with '{}'", text));
  if (found.size() > 1)
    invalid("resolve", fmt::format("id prefix '{}' is ambiguous ({} and others); give more characters", text, *found.begin()));
  return Uuid::parse(*found.begin());
}

// ---- write verbs -----------------------------------------------------------------------

Entity Runtime::createEntity(const EntityInput& in) {
  AuditTarget target{Substrate::Entity, writeNs_};
  return write("create", target, in.kind, [&] {
    checkGrant("create", writeNs_);
    Entity e;
    e.id = in.id.value_or(Uuid::v7());
    e.ns = writeNs_;
    e.kind = in.kind;
    e.name = in.name;
    e.description = in.description;
    e.entityType = in.entityType;
    e.properties = in.properties;
    e.tags = in.tags;
    validateEntity(e);
    if (in.id) checkNewId(*backend_, *in.id, 0);
    auto vec = vectorForWrite(embeddingText(e));  // an engine failure leaves nothing written
    Entity stored = backend_->entities().upsertEntity(e);
    indexText(stored);
    if (vec) storeVector(stored.id, stored.ns, stored.kind, stored.properties, std::move(*vec));
    return stored;
  });
}

Note Runtime::createNote(const NoteInput& in) {
  AuditTarget target{Substrate::Note, writeNs_};
  return write("create", target, in.kind, [&] {
    checkGrant("create", writeNs_);
    Note n;
    n.id = in.id.value_or(Uuid::v7());
    n.ns = writeNs_;
    n.kind = in.kind;
    n.content = in.content;
    n.name = in.name;
    n.salience = in.salience;
    n.decayFactor = in.decayFactor;
    n.expiresAt = in.expiresAt;
    n.status = in.status;
    n.properties = in.properties;
    validateNote(n);
    if (in.id) checkNewId(*backend_, *in.id, 1);
    auto vec = vectorForWrite(embeddingText(n));
    Note stored = backend_->notes().upsertNote(n);
    indexText(stored);
    if (vec) storeVector(stored.id, stored.ns, stored.kind, stored.properties, std::move(*vec));
    return stored;
  });
}

Record Runtime::update(const Uuid& id, const RecordPatch& p) {
  AuditTarget target{Substrate::Entity, writeNs_};
  return write("update", target, "", [&]() -> Record {
    if (auto e = backend_->entities().getEntity(id); e && inReadScope(e->ns)) {
      target.ns = e->ns;
      checkGrant("update", e->ns);
      const std::string before = embeddingText(*e);
      if (p.content || p.salience || p.status) invalid("update", "content, salience and status are note fields; this is an entity");
      if (p.name) e->name = *p.name;
      if (p.description) e->description = *p.description;
      if (p.kind) e->kind = *p.kind;
      if (p.entityType) e->entityType = *p.entityType;
      if (p.properties) e->properties = mergeProperties(e->properties, *p.properties);
      if (p.tags) e->tags = *p.tags;
      e->updatedAt = 0;
      validateEntity(*e);
      // Re-embed when the embedded text changed, or the kind or properties the vector carries
      // for filtering.
      std::optional<std::vector<float>> vec;
      if (embeddingText(*e) != before || p.kind || p.properties) vec = vectorForWrite(embeddingText(*e));
      Entity stored = backend_->entities().upsertEntity(*e);
      indexText(stored);
      if (vec) storeVector(stored.id, stored.ns, stored.kind, stored.properties, std::move(*vec));
      return stored;
    }
    if (auto n = backend_->notes().getNote(id); n && inReadScope(n->ns)) {
      target = {Substrate::Note, n->ns};
      checkGrant("update", n->ns);
      const std::string before = embeddingText(*n);
      if (p.description || p.entityType || p.tags) invalid("update", "description, entity_type and tags are entity fields; this is a note");
      if (p.name) n->name = *p.name;
      if (p.kind) n->kind = *p.kind;
      if (p.content) n->content = *p.content;
      if (p.salience) n->salience = *p.salience;
      if (p.status) n->status = *p.status;
      if (p.properties) n->properties = mergeProperties(n->properties, *p.properties);
      n->updatedAt = 0;
      validateNote(*n);
      std::optional<std::vector<float>> vec;
      if (embeddingText(*n) != before || p.kind || p.properties) vec = vectorForWrite(embeddingText(*n));
      Note stored = backend_->notes().upsertNote(*n);
      indexText(stored);
      if (vec) storeVector(stored.id, stored.ns, stored.kind, stored.properties, std::move(*vec));
      return stored;
    }
    if (auto ed = backend_->graph().getEdge(id); ed && inReadScope(ed->ns)) {
      target.ns = ed->ns;
      invalid("update", "edges are updated with `link` (same source, target and relation)");
    }
    throw Error(ErrorCode::NotFound, "runtime", "update", fmt::format("no live entity or note {}", id.str()));
  });
}

Record Runtime::remove(const Uuid& id, bool hard) {
  auto mode = hard ? storage::DeleteMode::Hard : storage::DeleteMode::Soft;
  AuditTarget target{Substrate::Entity, writeNs_};
  return write("delete", target, "", [&]() -> Record {
    auto gone = [&](auto rec) {
      rec.deletedAt = rec.deletedAt.value_or(0);
      return rec;
    };
    auto e = hard ? backend_->entities().getEntityIncludingDeleted(id) : backend_->entities().getEntity(id);
    if (e && inReadScope(e->ns)) {
      target.ns = e->ns;
      checkGrant("delete", e->ns);
      backend_->entities().deleteEntity(id, mode);
      if (!hard) {
        if (auto after = backend_->entities().getEntityIncludingDeleted(id)) return *after;
      }
      return gone(*e);
    }
    auto n = hard ? backend_->notes().getNoteIncludingDeleted(id) : backend_->notes().getNote(id);
    if (n && inReadScope(n->ns)) {
      target = {Substrate::Note, n->ns};
      checkGrant("delete", n->ns);
      backend_->notes().deleteNote(id, mode);
      if (!hard) {
        if (auto after = backend_->notes().getNoteIncludingDeleted(id)) return *after;
      }
      return gone(*n);
    }
    // A hard delete also finds a soft-deleted edge, which getEdge does not return.
    std::optional<Edge> ed = backend_->graph().getEdge(id);
    std::optional<std::string> edgeNs = ed ? std::optional(ed->ns) : hard ? storedEdgeNamespace(id) : std::nullopt;
    if (edgeNs && inReadScope(*edgeNs)) {
      target.ns = *edgeNs;
      checkGrant("delete", *edgeNs);
      if (backend_->graph().deleteEdge(id, mode)) {
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

Entity Runtime::merge(const Uuid& loserId, const Uuid& winnerId) {
  AuditTarget target{Substrate::Entity, writeNs_};
  return write("merge", target, "", [&] {
    if (loserId == winnerId) invalid("merge", "cannot merge an entity into itself");
    auto loser = backend_->entities().getEntity(loserId);
    auto winner = backend_->entities().getEntity(winnerId);
    if (!loser || !inReadScope(loser->ns))
      throw Error(ErrorCode::NotFound, "runtime", "merge", fmt::format("no live entity {}", loserId.str()));
    if (!winner || !inReadScope(winner->ns))
      throw Error(ErrorCode::NotFound, "runtime", "merge", fmt::format("no live entity {}", winnerId.str()));
    target.ns = winner->ns;
    checkGrant("merge", loser->ns);
    checkGrant("merge", winner->ns);
    // Every namespace the merge writes in is checked before anything is written: those of the
    // edges it moves too.
    std::set<std::string> edgeNamespaces;
    for (bool outgoing : {true, false}) {
      storage::EdgeFilter f;
      f.namespaces = readNs_;
      (outgoing ? f.sources : f.targets) = {loserId};
      for (std::int64_t offset = 0;;) {
        auto page = backend_->graph().queryEdges(f, {.offset = offset, .limit = 1000});
        for (const auto& old : page.items) edgeNamespaces.insert(old.ns);
        if (!page.nextOffset) break;
        offset = *page.nextOffset;
      }
    }
    for (const auto& ns : edgeNamespaces) checkGrant("merge", ns);
    // Move every live edge touching the loser (in the read scope) to the winner. An edge that
    // would join the winner to itself is dropped; one whose natural key the winner already has
    // live is not moved (the winner's edge keeps its weight and metadata, as its properties win).
    for (bool outgoing : {true, false}) {
      storage::EdgeFilter f;
      f.namespaces = readNs_;
      (outgoing ? f.sources : f.targets) = {loserId};
      for (std::int64_t offset = 0;;) {
        auto page = backend_->graph().queryEdges(f, {.offset = offset, .limit = 1000});
        for (const auto& old : page.items) {
          Edge moved = old;
          moved.id = Uuid::v7();
          moved.createdAt = moved.updatedAt = 0;
          (outgoing ? moved.sourceId : moved.targetId) = winnerId;
          if (moved.sourceId != moved.targetId && !liveEdgeWithKey(backend_->graph(), vocabulary_, moved))
            backend_->graph().upsertEdge(moved);
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
    Entity stored = backend_->entities().upsertEntity(*winner);
    indexText(stored);
    Uuid mergeEvent = Uuid::v7();
    loser->mergedInto = winnerId;
    loser->mergeEventId = mergeEvent;
    loser->updatedAt = 0;
    backend_->entities().upsertEntity(*loser);
    backend_->entities().deleteEntity(loserId, storage::DeleteMode::Soft);
    return stored;
  });
}

Edge Runtime::link(const LinkInput& in) {
  AuditTarget target{Substrate::Entity, writeNs_};
  return write("link", target, in.relation, [&] {
    checkGrant("link", writeNs_);
    // Both endpoints must be visible, and the caller may link in each endpoint's namespace.
    std::string types[2];
    for (int i = 0; i < 2; ++i) {
      const Uuid& end = i == 0 ? in.source : in.target;
      std::optional<std::string> ns;
      if (auto en = backend_->entities().getEntity(end)) {
        ns = en->ns;
        types[i] = "entity";
      } else if (auto no = backend_->notes().getNote(end)) {
        ns = no->ns;
        types[i] = "note";
      }
      if (!ns || !inReadScope(*ns))
        throw Error(ErrorCode::NotFound, "runtime", "link", fmt::format("no live entity or note {}", end.str()));
      checkGrant("link", *ns);
    }
    Edge e;
    e.id = Uuid::v7();
    e.ns = writeNs_;
    e.sourceId = in.source;
    e.targetId = in.target;
    e.relation = in.relation;
    e.weight = in.weight;
    e.metadata = in.metadata;
    validateEdge(e, types[0], types[1]);
    return backend_->graph().upsertEdge(e);
  });
}

// ---- read verbs ------------------------------------------------------------------------

std::optional<Record> Runtime::get(const Uuid& id) {
  if (auto e = backend_->entities().getEntityIncludingDeleted(id); e && inReadScope(e->ns)) return *e;
  if (auto n = backend_->notes().getNoteIncludingDeleted(id); n && inReadScope(n->ns)) return *n;
  if (auto ed = backend_->graph().getEdge(id); ed && inReadScope(ed->ns)) return *ed;
  if (auto ev = backend_->events().getEvent(id); ev && inReadScope(ev->ns)) return *ev;
  return std::nullopt;
}

ListResult Runtime::list(const ListRequest& req) {
  checkListRequest(req, limits());
  storage::PageRequest page{.offset = req.offset, .limit = req.limit};
  ListResult out;
  if (req.type == "entity") {
    storage::EntityFilter f;
    f.namespaces = readNs_;
    f.kinds = req.kinds;
    f.namePrefix = req.namePrefix;
    f.tagsAny = req.tags;
    auto p = backend_->entities().queryEntities(f, page);
    for (auto& e : p.items) out.items.emplace_back(std::move(e));
    out.nextOffset = p.nextOffset;
  } else if (req.type == "note") {
    storage::NoteFilter f;
    f.namespaces = readNs_;
    f.kinds = req.kinds;
    auto p = backend_->notes().queryNotes(f, page);
    for (auto& n : p.items) out.items.emplace_back(std::move(n));
    out.nextOffset = p.nextOffset;
  } else if (req.type == "edge") {
    storage::EdgeFilter f;
    f.namespaces = readNs_;
    f.relations = req.kinds;
    auto p = backend_->graph().queryEdges(f, page);
    for (auto& e : p.items) out.items.emplace_back(std::move(e));
    out.nextOffset = p.nextOffset;
  } else if (req.type == "event") {
    storage::EventFilter f;
    f.namespaces = readNs_;
    f.verbs = req.kinds;
    auto p = backend_->events().queryEvents(f, page);
    for (auto& e : p.items) out.items.emplace_back(std::move(e));
    out.nextOffset = p.nextOffset;
  } else {
    invalid("list", fmt::format("unknown record type '{}' (entity, note, edge, event)", excerpt(req.type, 80)));
  }
  return out;
}

std::vector<NodeSummary> Runtime::summarize(const std::vector<Uuid>& ids) {
  std::map<Uuid, NodeSummary> found;
  for (std::size_t i = 0; i < ids.size(); i += 1000) {
    std::vector<Uuid> chunk(ids.begin() + static_cast<std::ptrdiff_t>(i),
                            ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), i + 1000)));
    storage::EntityFilter ef;
    ef.namespaces = readNs_;
    ef.ids = chunk;
    for (auto& e : backend_->entities().queryEntities(ef, {.offset = 0, .limit = 1000}).items)
      found[e.id] = {e.id, "entity", e.kind, e.name};
    storage::NoteFilter nf;
    nf.namespaces = readNs_;
    nf.ids = chunk;
    for (auto& n : backend_->notes().queryNotes(nf, {.offset = 0, .limit = 1000}).items)
      found[n.id] = {n.id, "note", n.kind, n.name.value_or(n.content.substr(0, 60))};
  }
  std::vector<NodeSummary> out;
  for (const auto& id : ids) {
    auto it = found.find(id);
    out.push_back(it != found.end() ? it->second : NodeSummary{id, "missing", "", ""});
  }
  return out;
}

std::vector<NeighborRow> Runtime::neighbors(const Uuid& id, storage::Direction dir, const std::vector<std::string>& relations,
                                            std::int64_t limit) {
  checkBound(limit, kNeighborsLimit, "limit");
  checkListValues(relations, "relations", limits());
  for (const auto& r : relations) vocabulary_.checkRelation(r);
  requireVisibleNodes("neighbors", {id});
  storage::NeighborQuery q;
  q.namespaces = readNs_;
  q.direction = dir;
  q.relations = relations;
  q.limit = limit;
  auto ns = backend_->graph().neighbors(id, q);
  std::vector<Uuid> ids;
  for (const auto& n : ns) ids.push_back(n.nodeId);
  auto sums = summarize(ids);
  std::vector<NeighborRow> out;
  for (std::size_t i = 0; i < ns.size(); ++i) out.push_back({sums[i], ns[i]});
  return out;
}

std::vector<TraversePath> Runtime::traverse(const std::vector<Uuid>& roots, int maxDepth, storage::Direction dir,
                                            const std::vector<std::string>& relations, std::int64_t perRootLimit) {
  checkBound(maxDepth, kTraverseDepth, "depth");
  checkBound(perRootLimit, kTraverseLimit, "limit");
  checkBound(static_cast<std::int64_t>(roots.size()), kTraverseRoots, "the number of roots");
  checkListValues(relations, "relations", limits());
  for (const auto& r : relations) vocabulary_.checkRelation(r);
  requireVisibleNodes("traverse", roots);
  storage::TraverseRequest req;
  req.roots = roots;
  req.namespaces = readNs_;
  req.maxDepth = maxDepth;
  req.direction = dir;
  req.relations = relations;
  req.perRootLimit = perRootLimit;
  req.timeBudget = options_.config.limits.timeBudget;
  std::vector<TraversePath> out;
  for (const auto& tree : backend_->graph().traverse(req)) {
    std::vector<Uuid> ids;
    for (const auto& n : tree.nodes) ids.push_back(n.id);
    auto sums = summarize(ids);
    TraversePath p{tree.rootId, {}, tree.truncated};
    for (std::size_t i = 0; i < tree.nodes.size(); ++i)
      p.nodes.push_back({sums[i], tree.nodes[i].depth, tree.nodes[i].viaEdge, tree.nodes[i].parentId});
    out.push_back(std::move(p));
  }
  return out;
}

std::optional<PathResult> Runtime::path(const Uuid& from, const Uuid& to, int maxDepth, storage::Direction dir,
                                        const std::vector<std::string>& relations) {
  checkBound(maxDepth, kPathDepth, "depth");
  checkListValues(relations, "relations", limits());
  for (const auto& r : relations) vocabulary_.checkRelation(r);
  requireVisibleNodes("path", {from, to});
  storage::PathQuery q;
  q.namespaces = readNs_;
  q.maxDepth = maxDepth;
  q.direction = dir;
  q.relations = relations;
  auto p = backend_->graph().shortestPath(from, to, q);
  if (!p) return std::nullopt;
  return PathResult{summarize(p->nodes), backend_->graph().getEdges(p->edges)};
}

SearchResult Runtime::search(const SearchRequest& req) {
  checkSearchRequest(req, limits());
  if (blank(req.text)) invalid("search", "search text must not be empty");
  if (!hasText_)
    throw Error(ErrorCode::Unsupported, "runtime", "search", "this backend has no text search capability");
  retrieval::HybridQuery q;
  q.text = req.text;
  q.namespaces = readNs_;
  q.kinds = req.kinds;
  q.scope = req.scope;
  q.topK = req.topK;
  q.snippets = true;
  q.fusion = options_.config.fusion;
  SearchResult out;
  out.mode = "text";
  // The query vector comes from the default engine. An engine that fails does not fail the
  // search: it falls back to text and says why (the text signal alone is still an answer).
  if (auto* eng = defaultEngine(); !eng) {
    out.notice = "no embedding engine configured ([[engines]] in khive.toml); text-only search";
  } else if (!hasVectors_) {
    out.notice = fmt::format("the {} backend has no vector capability (see khive doctor); text-only search", engine_);
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
    out.hits = retrieval::HybridSearch(*backend_).search(q);
  } catch (const Error& e) {
    // The store holds vectors of another dimension under the engine's name (the model behind
    // the name changed): no query vector of this engine can be compared with them, but the text
    // signal still answers. Looked up only when the vector search refused the query, so a
    // search pays nothing for the check.
    auto clash = out.mode == "hybrid" && e.code() == ErrorCode::InvalidInput
                     ? storedDimensionClash(*out.engine, static_cast<int>(q.vector.size()))
                     : std::nullopt;
    if (!clash) throw;
    out.notice = *clash + "; text-only search";
    out.mode = "text";
    out.engine.reset();
    q.vector.clear();
    q.vectorModel.clear();
    out.hits = retrieval::HybridSearch(*backend_).search(q);
  }
  if (out.mode == "hybrid" &&
      std::none_of(out.hits.begin(), out.hits.end(), [](const auto& h) { return h.signals.vector.has_value(); }) &&
      backend_->vectors().countVectors(*out.engine, readNs_) == 0)
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

QueryResult Runtime::query(const QueryRequest& req) {
  checkQueryRequest(req, limits());
  const query::SqlDialect& dialect = query::queryDialect(backend_->dialect());
  query::QueryCompiler compiler(dialect);
  query::CompileOptions o;
  o.namespaces = readNs_;
  o.rowCap = req.rowCap;
  o.maxQueryBytes = options_.config.limits.maxQueryBytes;
  o.parameters = req.parameters;
  o.extraRelations = vocabulary_.extraRelations();
  o.extraSymmetricRelations = vocabulary_.extraSymmetricRelations();
  query::Language lang = query::detectLanguage(req.text);
  if (req.language) {
    if (*req.language == "gql") lang = query::Language::Gql;
    else if (*req.language == "sparql") lang = query::Language::Sparql;
    else invalid("query", fmt::format("unknown query language '{}' (gql, sparql)", excerpt(*req.language, 80)));
  }
  auto compiled = compiler.compile(req.text, lang, o);
  auto reader = backend_->sql().reader();
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

Stats Runtime::stats() {
  auto info = backend_->info();
  Stats s;
  s.engine = info.engine;
  s.engineVersion = info.engineVersion;
  s.location = info.location;
  s.schemaVersion = info.schemaVersion;
  s.namespaces = readNs_;
  s.entities = backend_->entities().countEntities({.namespaces = readNs_});
  s.notes = backend_->notes().countNotes({.namespaces = readNs_});
  s.edges = backend_->graph().countEdges({.namespaces = readNs_});
  s.events = backend_->events().countEvents({.namespaces = readNs_});
  if (hasText_) s.textDocuments = backend_->text().countDocuments(readNs_);
  return s;
}

}  // namespace khive::runtime
