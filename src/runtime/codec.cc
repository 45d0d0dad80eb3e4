#include "khive/runtime/codec.h"

#include <fmt/format.h>

#include <initializer_list>

#include "khive/core/error.h"

namespace khive::runtime {
namespace {

template <class T>
Json opt(const std::optional<T>& v) {
  return v ? Json(*v) : Json(nullptr);
}
Json optId(const std::optional<Uuid>& v) { return v ? Json(v->str()) : Json(nullptr); }

// Builds a JSON object member by member, each value moved in once (a braced list of pairs
// builds and then copies a two-element array per member): records are encoded on every read.
struct Members {
  Json j = Json::object();
  Members& add(const char* key, Json value) {
    j.get_ref<Json::object_t&>().emplace(key, std::move(value));
    return *this;
  }
  Json done() { return std::move(j); }
};

[[noreturn]] void bad(std::string_view type, std::string_view field, std::string_view what) {
  throw Error(ErrorCode::InvalidInput, "runtime", "decode", fmt::format("{}: field '{}' {}", type, field, what));
}

struct Fields {
  const Json& j;
  std::string_view type;

  void only(std::initializer_list<std::string_view> allowed) const {
    if (!j.is_object()) throw Error(ErrorCode::InvalidInput, "runtime", "decode", fmt::format("{}: not a JSON object", type));
    for (auto it = j.begin(); it != j.end(); ++it) {
      bool ok = it.key() == "type";
      for (auto a : allowed) ok = ok || it.key() == a;
      if (!ok) bad(type, it.key(), "is not a field of this record type");
    }
  }
  bool has(const char* f) const { return j.contains(f) && !j[f].is_null(); }
  std::string str(const char* f) const {
    if (!has(f)) bad(type, f, "is required");
    if (!j[f].is_string()) bad(type, f, "must be a string");
    return j[f].get<std::string>();
  }
  std::optional<std::string> optStr(const char* f) const { return has(f) ? std::optional(str(f)) : std::nullopt; }
  Uuid id(const char* f) const {
    auto u = Uuid::tryParse(str(f));
    if (!u) bad(type, f, "must be a UUID");
    return *u;
  }
  std::optional<Uuid> optId(const char* f) const { return has(f) ? std::optional(id(f)) : std::nullopt; }
  std::int64_t integer(const char* f) const {
    if (!has(f)) bad(type, f, "is required");
    if (!j[f].is_number_integer()) bad(type, f, "must be an integer");
    return j[f].get<std::int64_t>();
  }
  std::int64_t intOr(const char* f, std::int64_t d) const { return has(f) ? integer(f) : d; }
  std::optional<std::int64_t> optInt(const char* f) const { return has(f) ? std::optional(integer(f)) : std::nullopt; }
  std::optional<double> optNum(const char* f) const {
    if (!has(f)) return std::nullopt;
    if (!j[f].is_number()) bad(type, f, "must be a number");
    return j[f].get<double>();
  }
  Json object(const char* f) const {
    if (!has(f)) return Json::object();
    if (!j[f].is_object()) bad(type, f, "must be a JSON object");
    return j[f];
  }
  std::vector<std::string> strings(const char* f) const {
    std::vector<std::string> out;
    if (!has(f)) return out;
    if (!j[f].is_array()) bad(type, f, "must be an array of strings");
    for (const auto& v : j[f]) {
      if (!v.is_string()) bad(type, f, "must be an array of strings");
      out.push_back(v.get<std::string>());
    }
    return out;
  }
};

}  // namespace

Json toJson(const Entity& e) {
  return Members()
      .add("id", e.id.str())
      .add("namespace", e.ns)
      .add("kind", e.kind)
      .add("entity_type", opt(e.entityType))
      .add("name", e.name)
      .add("description", opt(e.description))
      .add("properties", e.properties)
      .add("tags", e.tags)
      .add("created_at", e.createdAt)
      .add("updated_at", e.updatedAt)
      .add("deleted_at", opt(e.deletedAt))
      .add("merged_into", optId(e.mergedInto))
      .add("merge_event_id", optId(e.mergeEventId))
      .done();
}

Json toJson(const Note& n) {
  return Members()
      .add("id", n.id.str())
      .add("namespace", n.ns)
      .add("kind", n.kind)
      .add("status", std::string(noteStatusName(n.status)))
      .add("name", opt(n.name))
      .add("content", n.content)
      .add("salience", opt(n.salience))
      .add("decay_factor", opt(n.decayFactor))
      .add("expires_at", opt(n.expiresAt))
      .add("properties", n.properties)
      .add("created_at", n.createdAt)
      .add("updated_at", n.updatedAt)
      .add("deleted_at", opt(n.deletedAt))
      .done();
}

Json toJson(const Edge& e) {
  return Members()
      .add("id", e.id.str())
      .add("namespace", e.ns)
      .add("source_id", e.sourceId.str())
      .add("target_id", e.targetId.str())
      .add("relation", e.relation)
      .add("weight", e.weight)
      .add("metadata", e.metadata)
      .add("created_at", e.createdAt)
      .add("updated_at", e.updatedAt)
      .add("deleted_at", opt(e.deletedAt))
      .done();
}

Json toJson(const Event& e) {
  return Members()
      .add("id", e.id.str())
      .add("namespace", e.ns)
      .add("verb", e.verb)
      .add("substrate", std::string(substrateName(e.substrate)))
      .add("actor", e.actor)
      .add("kind", e.kind)
      .add("outcome", std::string(outcomeName(e.outcome)))
      .add("payload", e.payload)
      .add("duration_us", e.durationUs)
      .add("target_id", optId(e.targetId))
      .add("session_id", opt(e.sessionId))
      .add("created_at", e.createdAt)
      .done();
}

Entity entityFromJson(const Json& j) {
  Fields f{j, "entity"};
  f.only({"id", "namespace", "kind", "entity_type", "name", "description", "properties", "tags", "created_at",
          "updated_at", "deleted_at", "merged_into", "merge_event_id"});
  Entity e;
  e.id = f.has("id") ? f.id("id") : Uuid::v7();
  e.ns = f.optStr("namespace").value_or("");
  e.kind = f.str("kind");
  e.entityType = f.optStr("entity_type");
  e.name = f.str("name");
  e.description = f.optStr("description");
  e.properties = f.object("properties");
  e.tags = f.strings("tags");
  e.createdAt = f.intOr("created_at", 0);
  e.updatedAt = f.intOr("updated_at", 0);
  e.deletedAt = f.optInt("deleted_at");
  e.mergedInto = f.optId("merged_into");
  e.mergeEventId = f.optId("merge_event_id");
  return e;
}

Note noteFromJson(const Json& j) {
  Fields f{j, "note"};
  f.only({"id", "namespace", "kind", "status", "name", "content", "salience", "decay_factor", "expires_at",
          "properties", "created_at", "updated_at", "deleted_at"});
  Note n;
  n.id = f.has("id") ? f.id("id") : Uuid::v7();
  n.ns = f.optStr("namespace").value_or("");
  n.kind = f.str("kind");
  if (f.has("status")) n.status = parseNoteStatus(f.str("status"));
  n.name = f.optStr("name");
  n.content = f.str("content");
  n.salience = f.optNum("salience");
  n.decayFactor = f.optNum("decay_factor");
  n.expiresAt = f.optInt("expires_at");
  n.properties = f.object("properties");
  n.createdAt = f.intOr("created_at", 0);
  n.updatedAt = f.intOr("updated_at", 0);
  n.deletedAt = f.optInt("deleted_at");
  return n;
}

Edge edgeFromJson(const Json& j) {
  Fields f{j, "edge"};
  f.only({"id", "namespace", "source_id", "target_id", "relation", "weight", "metadata", "created_at", "updated_at",
          "deleted_at"});
  Edge e;
  e.id = f.has("id") ? f.id("id") : Uuid::v7();
  e.ns = f.optStr("namespace").value_or("");
  e.sourceId = f.id("source_id");
  e.targetId = f.id("target_id");
  e.relation = f.str("relation");
  e.weight = f.optNum("weight").value_or(1.0);
  e.metadata = f.object("metadata");
  e.createdAt = f.intOr("created_at", 0);
  e.updatedAt = f.intOr("updated_at", 0);
  e.deletedAt = f.optInt("deleted_at");
  return e;
}

Event eventFromJson(const Json& j) {
  Fields f{j, "event"};
  f.only({"id", "namespace", "verb", "substrate", "actor", "kind", "outcome", "payload", "duration_us", "target_id",
          "session_id", "created_at"});
  Event e;
  e.id = f.id("id");
  e.ns = f.optStr("namespace").value_or("");
  e.verb = f.str("verb");
  e.substrate = parseSubstrate(f.str("substrate"));
  e.actor = f.str("actor");
  e.kind = f.optStr("kind").value_or("");
  e.outcome = f.has("outcome") ? parseOutcome(f.str("outcome")) : Outcome::Success;
  e.payload = f.object("payload");
  e.durationUs = f.intOr("duration_us", 0);
  e.targetId = f.optId("target_id");
  e.sessionId = f.optStr("session_id");
  e.createdAt = f.intOr("created_at", 0);
  return e;
}

}  // namespace khive::runtime

namespace khive::runtime {

Json toJson(const Record& r) {
  Json j = std::visit([](const auto& v) { return toJson(v); }, r);
  j["type"] = std::string(recordType(r));
  return j;
}

Json toJson(const SearchResult& r) {
  Json hits = Json::array();
  for (const auto& h : r.hits) {
    auto rank = [](const std::optional<int>& v) { return v ? Json(*v) : Json(nullptr); };
    hits.push_back(Json{{"id", h.subjectId.str()},
                        {"type", h.subjectType == retrieval::SubjectType::Entity ? "entity" : "note"},
                        {"namespace", h.ns},
                        {"kind", h.kind},
                        {"name", h.title},
                        {"score", h.score},
                        {"rank", h.rank},
                        {"signals", Json{{"text", rank(h.signals.text)}, {"vector", rank(h.signals.vector)}}},
                        {"snippet", h.snippet ? Json(*h.snippet) : Json(nullptr)}});
  }
  return Json{{"mode", r.mode},
              {"engine", r.engine ? Json(*r.engine) : Json(nullptr)},
              {"notice", r.notice ? Json(*r.notice) : Json(nullptr)},
              {"hits", hits}};
}

Json toJson(const ReindexSummary& s) {
  return Json{{"engine", s.engine},   {"dimensions", s.dimensions}, {"entities", s.entities},
              {"notes", s.notes},     {"skipped", s.skipped},       {"seconds", s.seconds}};
}

namespace {
Json summaryJson(const NodeSummary& n) {
  return Json{{"id", n.id.str()}, {"type", n.type}, {"kind", n.kind}, {"name", n.name}};
}
const char* directionName(storage::Direction d) {
  return d == storage::Direction::Out ? "out" : d == storage::Direction::In ? "in" : "both";
}
}  // namespace

Json toJson(const std::vector<TraversePath>& paths) {
  Json out = Json::array();
  for (const auto& p : paths) {
    Json nodes = Json::array();
    for (const auto& n : p.nodes)
      nodes.push_back(Json{{"id", n.node.id.str()},
                           {"name", n.node.name},
                           {"kind", n.node.kind},
                           {"depth", n.depth},
                           {"via_edge", optId(n.viaEdge)},
                           {"parent_id", optId(n.parentId)}});
    out.push_back(Json{{"root_id", p.rootId.str()}, {"truncated", p.truncated}, {"nodes", nodes}});
  }
  return Json{{"paths", out}};
}

Json toJson(const QueryResult& r) {
  Json rows = Json::array();
  for (const auto& row : r.rows) rows.push_back(row);
  Json out{{"columns", r.columns}, {"rows", rows}, {"truncated", r.truncated}};
  if (r.explain) out["explain"] = Json{{"sql", r.explain->sql}, {"parameters", r.explain->parameters}, {"plan", r.explain->plan}};
  return out;
}

Json toJson(const std::vector<NeighborRow>& rows) {
  Json out = Json::array();
  for (const auto& r : rows) {
    Json j = summaryJson(r.node);
    j["edge_id"] = r.edge.edgeId.str();
    j["relation"] = r.edge.relation;
    j["weight"] = r.edge.weight;
    j["direction"] = directionName(r.edge.direction);
    out.push_back(j);
  }
  return Json{{"neighbors", out}};
}

Json toJson(const PathResult& p) {
  Json nodes = Json::array(), edges = Json::array();
  for (const auto& n : p.nodes) nodes.push_back(summaryJson(n));
  for (const auto& e : p.edges) edges.push_back(toJson(e));
  return Json{{"nodes", nodes}, {"edges", edges}};
}

Json toJson(const ListResult& r) {
  Json items = Json::array();
  for (const auto& i : r.items) items.push_back(toJson(i));
  return Json{{"items", items}, {"next_offset", r.nextOffset ? Json(*r.nextOffset) : Json(nullptr)}};
}

Json toJson(const Stats& s) {
  Json out{{"engine", s.engine},         {"engine_version", s.engineVersion}, {"schema_version", s.schemaVersion},
           {"namespaces", s.namespaces}, {"entities", s.entities},            {"notes", s.notes},
           {"edges", s.edges},           {"events", s.events},                {"text_documents", s.textDocuments}};
  if (s.location) out["location"] = *s.location;
  return out;
}

}  // namespace khive::runtime
