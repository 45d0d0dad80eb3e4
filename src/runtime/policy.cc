#include "khive/runtime/policy.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <set>

#include "khive/core/error.h"
#include "runtime/boundary.h"
#include "runtime/verb_helpers.h"

namespace khive::runtime {

namespace {

std::vector<std::string> withWriteNs(std::vector<std::string> visible, const std::string& ns) {
  if (std::find(visible.begin(), visible.end(), ns) == visible.end()) visible.push_back(ns);
  return visible;
}

}  // namespace

void checkNamespace(std::string_view ns) {
  bool ok = !ns.empty() && ns.size() <= 64;
  for (char c : ns) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == ':' || c == '-');
  if (!ok) invalid("namespace", fmt::format("namespace '{}' must be 1..64 characters of [A-Za-z0-9_.:-]", excerpt(ns, 80)));
}

Policy::Policy(storage::Backend& backend, const Config& config, const std::optional<std::string>& writeNamespace)
    : backend_(backend),
      actor_(config.actor.id),
      grants_(config.grants),
      limits_(config.limits),
      vocabulary_(config.vocabulary) {
  writeNs_ = writeNamespace.value_or(config.actor.ns);
  checkNamespace(writeNs_);
  for (const auto& ns : config.actor.visibleNamespaces) checkNamespace(ns);
  std::vector<std::string> visible = config.actor.visibleNamespaces;
  if (visible.empty()) visible.push_back(config.actor.ns);
  readNs_ = withWriteNs(std::move(visible), writeNs_);
}

// ---- scope and grants ------------------------------------------------------------------

bool Policy::inReadScope(std::string_view ns) const noexcept {
  return std::find(readNs_.begin(), readNs_.end(), ns) != readNs_.end();
}

void Policy::checkGrant(std::string_view verb, std::string_view ns) const {
  if (grants_.empty()) {
    if (inReadScope(ns)) return;
    throw Error(ErrorCode::PermissionDenied, "runtime", "gate",
                fmt::format("actor '{}' may not '{}' in namespace '{}': without [[grants]] an actor writes only in its "
                            "read scope ({})",
                            actor(), verb, ns, fmt::join(readNs_, ", ")));
  }
  auto has = [](const std::vector<std::string>& list, std::string_view v) {
    return std::any_of(list.begin(), list.end(), [&](const std::string& s) { return s == "*" || s == v; });
  };
  for (const auto& g : grants_)
    if ((g.actor == "*" || g.actor == actor()) && has(g.verbs, verb) && has(g.namespaces, ns)) return;
  throw Error(ErrorCode::PermissionDenied, "runtime", "gate",
              fmt::format("actor '{}' has no grant for '{}' in namespace '{}'", actor(), verb, ns));
}

// ---- validation ------------------------------------------------------------------------

void Policy::validateEntity(const Entity& e) const {
  const Limits& l = limits_;
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

void Policy::validateNote(const Note& n) const {
  const Limits& l = limits_;
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

void Policy::validateEvent(const Event& e) const {
  const Limits& l = limits_;
  checkNamespace(e.ns);
  checkNameField(e.verb, "event verb", l);
  if (blank(e.verb)) invalid("validate", "event verb must not be empty");
  checkNameField(e.actor, "event actor", l);
  checkNameField(e.kind, "event kind", l);
  if (e.sessionId) checkNameField(*e.sessionId, "event session_id", l);
  if (!e.payload.is_object()) invalid("validate", "event payload must be a JSON object");
  checkJsonField(e.payload, "event payload", l);
}

void Policy::validateEdge(const Edge& e, std::string_view sourceType, std::string_view targetType) const {
  checkNamespace(e.ns);
  checkNameField(e.relation, "edge relation", limits_);
  vocabulary_.checkRelation(e.relation);
  if (!(e.weight >= 0 && e.weight <= 1)) invalid("validate", fmt::format("edge weight {} is outside [0, 1]", e.weight));
  if (!e.metadata.is_object()) invalid("validate", "edge metadata must be a JSON object");
  checkJsonField(e.metadata, "edge metadata", limits_);
  if (e.sourceId == e.targetId) invalid("validate", "an edge cannot join a record to itself");
  if (sourceType.empty()) invalid("validate", fmt::format("edge source {} is not a live entity or note", e.sourceId.str()));
  if (targetType.empty()) invalid("validate", fmt::format("edge target {} is not a live entity or note", e.targetId.str()));
  if (e.relation == "annotates" && sourceType != "note")
    invalid("validate", fmt::format("'annotates' starts at a note; the source is an {}", sourceType));
  if ((e.relation == "supersedes" || e.relation == "supports" || e.relation == "refutes") && sourceType != targetType)
    invalid("validate", fmt::format("'{}' joins two records of one substrate; here an {} and a {}", e.relation,
                                    sourceType, targetType));
}

// ---- lookups scoped to the caller ----------------------------------------------------

Uuid Policy::resolveId(std::string_view text) const {
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
  const storage::SqlDialect& dialect = backend_.dialect();
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
  auto reader = backend_.sql().reader();
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

std::string Policy::substrateOf(const Uuid& id) const {
  if (auto e = backend_.entities().getEntity(id); e && inReadScope(e->ns)) return "entity";
  if (auto n = backend_.notes().getNote(id); n && inReadScope(n->ns)) return "note";
  return "";
}

std::optional<std::string> Policy::storedEdgeNamespace(const Uuid& id) const {
  const std::string sql =
      "SELECT namespace FROM edges WHERE id = " + backend_.dialect().placeholder(1, storage::ParamType::Id);
  auto rows = backend_.sql().reader()->query(sql, {id}).rows;
  if (rows.empty()) return std::nullopt;
  return storage::asText(rows[0][0]);
}

std::vector<NodeSummary> Policy::summarize(const std::vector<Uuid>& ids) const {
  std::map<Uuid, NodeSummary> found;
  for (std::size_t i = 0; i < ids.size(); i += 1000) {
    std::vector<Uuid> chunk(ids.begin() + static_cast<std::ptrdiff_t>(i),
                            ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), i + 1000)));
    storage::EntityFilter ef;
    ef.namespaces = readNs_;
    ef.ids = chunk;
    for (auto& e : backend_.entities().queryEntities(ef, {.offset = 0, .limit = 1000}).items)
      found[e.id] = {e.id, "entity", e.kind, e.name};
    storage::NoteFilter nf;
    nf.namespaces = readNs_;
    nf.ids = chunk;
    for (auto& n : backend_.notes().queryNotes(nf, {.offset = 0, .limit = 1000}).items)
      found[n.id] = {n.id, "note", n.kind, n.name.value_or(n.content.substr(0, 60))};
  }
  std::vector<NodeSummary> out;
  for (const auto& id : ids) {
    auto it = found.find(id);
    out.push_back(it != found.end() ? it->second : NodeSummary{id, "missing", "", ""});
  }
  return out;
}

void Policy::requireVisibleNodes(std::string_view op, const std::vector<Uuid>& ids) const {
  for (const auto& s : summarize(ids))
    if (s.type == "missing")
      throw Error(ErrorCode::NotFound, "runtime", std::string(op), fmt::format("no live entity or note {}", s.id.str()));
}

}  // namespace khive::runtime
