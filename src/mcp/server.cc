#include "khive/mcp/server.h"

#include <fmt/format.h>

#include <iostream>
#include <optional>

#include "khive/core/error.h"
#include "khive/runtime/codec.h"
#include "khive/storage/record_checks.h"
#include "mcp/arguments.h"

namespace khive::mcp {
namespace {

// JSON-RPC 2.0 error codes.
constexpr int kParseError = -32700;
constexpr int kInvalidRequest = -32600;
constexpr int kMethodNotFound = -32601;
constexpr int kInvalidParams = -32602;

Json rpcError(const Json& id, int code, std::string message) {
  return Json{{"jsonrpc", "2.0"}, {"id", id}, {"error", Json{{"code", code}, {"message", std::move(message)}}}};
}
Json rpcResult(const Json& id, Json result) { return Json{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}}; }

// ---- tool schemas ----------------------------------------------------------------------

Json str(const char* d) { return Json{{"type", "string"}, {"description", d}}; }
Json num(const char* d, double lo, double hi) { return Json{{"type", "number"}, {"description", d}, {"minimum", lo}, {"maximum", hi}}; }
Json integer(const char* d, int lo, int hi) { return Json{{"type", "integer"}, {"description", d}, {"minimum", lo}, {"maximum", hi}}; }
Json strings(const char* d) { return Json{{"type", "array"}, {"items", Json{{"type", "string"}}}, {"description", d}}; }
Json obj(const char* d) { return Json{{"type", "object"}, {"description", d}}; }
Json dirSchema() { return Json{{"type", "string"}, {"enum", {"out", "in", "both"}}, {"description", "Edge direction"}}; }

Json tool(const char* name, const char* description, Json properties, std::vector<std::string> required, bool readOnly) {
  Json schema{{"type", "object"}, {"properties", std::move(properties)}, {"additionalProperties", false}};
  if (!required.empty()) schema["required"] = required;
  return Json{{"name", name}, {"description", description}, {"inputSchema", schema}, {"annotations", Json{{"readOnlyHint", readOnly}}}};
}

// ---- argument access -------------------------------------------------------------------

[[noreturn]] void badArg(std::string_view m) { throw Error(ErrorCode::InvalidInput, "mcp", "arguments", std::string(m)); }

struct Args {
  const Json& j;
  bool has(const char* k) const { return j.contains(k) && !j[k].is_null(); }
  std::string s(const char* k) const {
    if (!has(k)) badArg(fmt::format("'{}' is required", k));
    if (!j[k].is_string()) badArg(fmt::format("'{}' must be a string", k));
    return j[k].get<std::string>();
  }
  std::optional<std::string> os(const char* k) const { return has(k) ? std::optional(s(k)) : std::nullopt; }
  std::optional<double> on(const char* k) const {
    if (!has(k)) return std::nullopt;
    if (!j[k].is_number()) badArg(fmt::format("'{}' must be a number", k));
    return j[k].get<double>();
  }
  std::int64_t i(const char* k, std::int64_t d) const {
    if (!has(k)) return d;
    if (!j[k].is_number_integer()) badArg(fmt::format("'{}' must be an integer", k));
    return j[k].get<std::int64_t>();
  }
  std::vector<std::string> list(const char* k) const {
    std::vector<std::string> out;
    if (!has(k)) return out;
    if (!j[k].is_array()) badArg(fmt::format("'{}' must be an array of strings", k));
    for (const auto& v : j[k]) {
      if (!v.is_string()) badArg(fmt::format("'{}' must be an array of strings", k));
      out.push_back(v.get<std::string>());
    }
    return out;
  }
  Json o(const char* k) const {
    if (!has(k)) return Json::object();
    if (!j[k].is_object()) badArg(fmt::format("'{}' must be an object", k));
    return j[k];
  }
  storage::Direction dir(const char* k, storage::Direction d) const {
    if (!has(k)) return d;
    auto v = s(k);
    if (v == "out") return storage::Direction::Out;
    if (v == "in") return storage::Direction::In;
    if (v == "both") return storage::Direction::Both;
    badArg(fmt::format("'{}' must be out, in or both", k));
  }
};

std::string textOf(const std::string& name, const Json& result) {
  // A short human rendering next to the structured content.
  if (name == "search" && result.contains("hits")) {
    std::string out = fmt::format("{} hit(s)", result["hits"].size());
    for (const auto& h : result["hits"]) out += fmt::format("\n{}. {} [{}] {}", h["rank"].get<int>(), h["name"].get<std::string>(), h["kind"].get<std::string>(), h["id"].get<std::string>());
    return out;
  }
  return result.dump();
}

}  // namespace

Json Server::tools() {
  Json ids = str("A record id (UUID) or a unique prefix of at least 8 hex characters");
  return Json::array({
      tool("create_entity", "Create an entity (kinds: concept, document, dataset, project, person, org, artifact, service, resource, plus configured additions)",
           {{"kind", str("Entity kind")}, {"name", str("Name (non-empty)")}, {"description", str("Description")},
            {"entity_type", str("Free-form sub-kind")}, {"properties", obj("JSON properties")}, {"tags", strings("Tags")}},
           {"kind", "name"}, false),
      tool("create_note", "Create a note (kinds: observation, insight, question, decision, reference)",
           {{"kind", str("Note kind")}, {"content", str("Content (non-empty)")}, {"name", str("Name")},
            {"salience", num("Salience", 0, 1)}, {"properties", obj("JSON properties")}},
           {"kind", "content"}, false),
      tool("get", "Get one record (entity, note, edge or event) by id", {{"id", ids}}, {"id"}, true),
      tool("update", "Update fields of an entity or note; properties are merged (null removes a key)",
           {{"id", ids}, {"name", str("New name")}, {"description", str("New description")}, {"kind", str("New kind")},
            {"content", str("New content (notes)")}, {"salience", num("New salience (notes)", 0, 1)},
            {"properties", obj("Properties to merge")}, {"tags", strings("Replacement tags")}},
           {"id"}, false),
      tool("delete", "Delete a record: soft by default, hard removes it and its incident edges",
           {{"id", ids}, {"hard", Json{{"type", "boolean"}, {"description", "Hard delete"}}}}, {"id"}, false),
      tool("merge", "Merge entity `from` into entity `into`: edges move, tags union, `from` is soft-deleted",
           {{"from", ids}, {"into", ids}}, {"from", "into"}, false),
      tool("link", "Create or update an edge source -relation-> target",
           {{"source", ids}, {"relation", str("Relation (instance_of, part_of, extends, annotates, supports, ...)")}, {"target", ids},
            {"weight", num("Weight", 0, 1)}, {"metadata", obj("Edge metadata")}},
           {"source", "relation", "target"}, false),
      tool("list", "List records of the read scope",
           {{"type", Json{{"type", "string"}, {"enum", {"entity", "note", "edge", "event"}}}}, {"kinds", strings("Kinds (relations for edges, verbs for events)")},
            {"name_prefix", str("Name prefix (entities)")}, {"limit", integer("Page size", 1, 10000)}, {"offset", integer("Offset", 0, 1000000000)}},
           {}, true),
      tool("neighbors", "Records one edge away from a record",
           {{"id", ids}, {"direction", dirSchema()}, {"relations", strings("Only these relations")}, {"limit", integer("At most", 1, 10000)}},
           {"id"}, true),
      tool("traverse", "Walk the graph from roots up to a depth; returns one path tree per root",
           {{"roots", strings("Root ids")}, {"depth", integer("Maximum depth", 1, 10)}, {"direction", dirSchema()},
            {"relations", strings("Only these relations")}, {"limit", integer("Nodes per root", 1, 100000)}},
           {"roots"}, true),
      tool("path", "A fewest-hops path between two records",
           {{"from", ids}, {"to", ids}, {"depth", integer("Maximum hops", 1, 10)}, {"direction", dirSchema()}, {"relations", strings("Only these relations")}},
           {"from", "to"}, true),
      tool("search", "Full-text search over entities and notes (hybrid when an embedding engine is configured)",
           {{"text", str("Search text")}, {"kinds", strings("Only these kinds")}, {"limit", integer("Top k", 1, 1000)},
            {"scope", Json{{"type", "string"}, {"enum", {"mixed", "entities", "notes"}}}}},
           {"text"}, true),
      tool("query", "Run a read-only GQL (MATCH ... RETURN) or SPARQL (SELECT ... WHERE {...}) pattern query",
           {{"text", str("The query")}, {"language", Json{{"type", "string"}, {"enum", {"gql", "sparql"}}}},
            {"cap", integer("Row cap", 1, 10000)}, {"parameters", obj("Values of $name references")},
            {"explain", Json{{"type", "boolean"}, {"description", "Return the compiled SQL, its parameters and the engine's plan instead of rows"}}}},
           {"text"}, true),
      tool("stats", "Counts of entities, notes, edges, events in the read scope", Json::object(), {}, true),
      tool("reindex",
           "(Re)embed every live entity and note with an embedding engine so vector search finds them; sends "
           "notifications/progress after each batch when the call carries a progressToken",
           {{"engine", str("Engine name (default: the default engine)")}, {"namespaces", strings("Only these namespaces (default: the read scope)")},
            {"batch", integer("Records embedded per batch (default 256)", 1, 10000)}},
           {}, false),
      tool("doctor", "Report backend, versions, schema, extensions, index state and embedding engines",
           {{"probe", Json{{"type", "boolean"}, {"description", "Ask each embedding engine for a test vector (default true)"}}}}, {}, true),
  });
}

Json Server::callTool(const std::string& name, const Json& argsJson, const Json& progressToken) {
  Args a{argsJson};
  auto& rt = rt_;
  if (name == "create_entity")
    return runtime::toJson(runtime::Record(rt.createEntity({.kind = a.s("kind"), .name = a.s("name"), .description = a.os("description"),
                                                            .entityType = a.os("entity_type"), .properties = a.o("properties"), .tags = a.list("tags")})));
  if (name == "create_note")
    return runtime::toJson(runtime::Record(rt.createNote({.kind = a.s("kind"), .content = a.s("content"), .name = a.os("name"),
                                                          .salience = a.on("salience"), .properties = a.o("properties")})));
  if (name == "get") {
    auto id = rt.resolveId(a.s("id"));
    auto r = rt.get(id);
    if (!r) throw Error(ErrorCode::NotFound, "mcp", "get", fmt::format("no record {}", id.str()));
    return runtime::toJson(*r);
  }
  if (name == "update") {
    runtime::RecordPatch p;
    p.name = a.os("name");
    p.description = a.os("description");
    p.kind = a.os("kind");
    p.content = a.os("content");
    p.salience = a.on("salience");
    if (a.has("properties")) p.properties = a.o("properties");
    if (a.has("tags")) p.tags = a.list("tags");
    return runtime::toJson(rt.update(rt.resolveId(a.s("id")), p));
  }
  if (name == "delete") {
    bool hard = a.has("hard") && argsJson["hard"].is_boolean() && argsJson["hard"].get<bool>();
    return runtime::toJson(rt.remove(rt.resolveId(a.s("id")), hard));
  }
  if (name == "merge") return runtime::toJson(runtime::Record(rt.merge(rt.resolveId(a.s("from")), rt.resolveId(a.s("into")))));
  if (name == "link")
    return runtime::toJson(runtime::Record(rt.link({.source = rt.resolveId(a.s("source")), .target = rt.resolveId(a.s("target")),
                                                    .relation = a.s("relation"), .weight = a.on("weight").value_or(1.0), .metadata = a.o("metadata")})));
  if (name == "list") {
    runtime::ListRequest r;
    r.type = a.os("type").value_or("entity");
    r.kinds = a.list("kinds");
    r.namePrefix = a.os("name_prefix");
    r.limit = a.i("limit", 50);
    r.offset = a.i("offset", 0);
    return runtime::toJson(rt.list(r));
  }
  if (name == "neighbors")
    return runtime::toJson(rt.neighbors(rt.resolveId(a.s("id")), a.dir("direction", storage::Direction::Both), a.list("relations"), a.i("limit", 100)));
  if (name == "traverse") {
    std::vector<Uuid> roots;
    for (const auto& r : a.list("roots")) roots.push_back(rt.resolveId(r));
    if (roots.empty()) badArg("'roots' must name at least one record");
    return runtime::toJson(rt.traverse(roots, static_cast<int>(a.i("depth", 3)), a.dir("direction", storage::Direction::Out), a.list("relations"), a.i("limit", 1000)));
  }
  if (name == "path") {
    auto p = rt.path(rt.resolveId(a.s("from")), rt.resolveId(a.s("to")), static_cast<int>(a.i("depth", 6)), a.dir("direction", storage::Direction::Out), a.list("relations"));
    if (!p) return Json{{"nodes", Json::array()}, {"edges", Json::array()}, {"found", false}};
    Json j = runtime::toJson(*p);
    j["found"] = true;
    return j;
  }
  if (name == "search") {
    runtime::SearchRequest r;
    r.text = a.s("text");
    r.kinds = a.list("kinds");
    r.topK = a.i("limit", 10);
    auto scope = a.os("scope").value_or("mixed");
    r.scope = scope == "entities" ? retrieval::Scope::Entities : scope == "notes" ? retrieval::Scope::Notes : retrieval::Scope::Mixed;
    return runtime::toJson(rt.search(r));
  }
  if (name == "query")
    return runtime::toJson(rt.query({.text = a.s("text"), .language = a.os("language"), .rowCap = a.i("cap", 500), .parameters = a.o("parameters"),
                                     .explain = a.has("explain") && argsJson["explain"].is_boolean() && argsJson["explain"].get<bool>()}));
  if (name == "stats") return runtime::toJson(rt.stats());
  if (name == "reindex") {
    runtime::ReindexRequest r{.engine = a.os("engine"), .namespaces = a.list("namespaces"), .batchSize = a.i("batch", 256)};
    if (!progressToken.is_null() && notify_) {
      // MCP requires progress to increase with every notification; the runtime reports the
      // start (0 done) and then each written batch.
      r.progress = [this, &progressToken, last = std::optional<std::int64_t>()](const runtime::ReindexProgress& p) mutable {
        if (last && p.done <= *last) return;
        last = p.done;
        notify_(Json{{"jsonrpc", "2.0"},
                     {"method", "notifications/progress"},
                     {"params", Json{{"progressToken", progressToken},
                                     {"progress", p.done},
                                     {"total", p.total},
                                     {"message", fmt::format("reindexed {} of {} records", p.done, p.total)}}}});
      };
    }
    return runtime::toJson(rt.reindex(r));
  }
  if (name == "doctor") return rt.doctor(!(a.has("probe") && argsJson["probe"].is_boolean() && !argsJson["probe"].get<bool>()));
  throw std::logic_error("unreachable: tool list and dispatch disagree on " + name);
}

std::optional<Json> Server::handle(const Json& msg) {
  if (!msg.is_object() || !msg.contains("jsonrpc") || msg["jsonrpc"] != "2.0" || !msg.contains("method") || !msg["method"].is_string()) {
    Json id = msg.is_object() && msg.contains("id") ? msg["id"] : Json(nullptr);
    if (msg.is_object() && !msg.contains("method") && (msg.contains("result") || msg.contains("error"))) return std::nullopt;  // a response to us
    return rpcError(id, kInvalidRequest, "invalid JSON-RPC 2.0 request");
  }
  const std::string method = msg["method"].get<std::string>();
  const bool isRequest = msg.contains("id");
  if (isRequest && !(msg["id"].is_string() || msg["id"].is_number_integer()))
    return rpcError(nullptr, kInvalidRequest, "request id must be a string or an integer");
  const Json id = isRequest ? msg["id"] : Json(nullptr);
  const Json params = msg.contains("params") ? msg["params"] : Json::object();
  if (!isRequest) {
    if (method == "notifications/initialized") initialized_ = true;
    return std::nullopt;  // notifications get no response
  }
  if (!params.is_object()) return rpcError(id, kInvalidParams, "params must be an object");

  if (method == "initialize") {
    if (params.contains("protocolVersion") && !params["protocolVersion"].is_string())
      return rpcError(id, kInvalidParams, "protocolVersion must be a string");
    std::string requested = params.value("protocolVersion", std::string());
    // Negotiation: we answer with the client's version when we speak it, else with ours.
    static const std::vector<std::string> supported = {"2025-06-18", "2025-03-26", "2024-11-05"};
    std::string version = std::find(supported.begin(), supported.end(), requested) != supported.end() ? requested : kProtocolVersion;
    return rpcResult(id, Json{{"protocolVersion", version},
                              {"capabilities", Json{{"tools", Json{{"listChanged", false}}}}},
                              {"serverInfo", Json{{"name", "khive"}, {"title", "khive knowledge graph"}, {"version", "0.1.0"}}},
                              {"instructions", "khive stores typed entities, notes and edges. Use search or query to find records, "
                                               "create_entity/create_note/link to write, traverse/neighbors/path to walk the graph."}});
  }
  if (method == "ping") return rpcResult(id, Json::object());
  if (method == "tools/list") return rpcResult(id, Json{{"tools", tools()}});
  if (method == "tools/call") {
    if (!params.contains("name") || !params["name"].is_string()) return rpcError(id, kInvalidParams, "tools/call needs a tool name");
    const std::string name = params["name"].get<std::string>();
    Json schema;
    for (const auto& t : tools())
      if (t["name"] == name) schema = t["inputSchema"];
    if (schema.is_null()) return rpcError(id, kInvalidParams, fmt::format("unknown tool '{}'", name));
    Json args = params.contains("arguments") ? params["arguments"] : Json::object();
    if (!args.is_object()) return rpcError(id, kInvalidParams, "arguments must be an object");
    if (auto problem = checkArguments(name, schema, args)) {
      Json error = rpcError(id, kInvalidParams, problem->message);
      error["error"]["data"] = problem->data;
      return error;
    }
    // A progressToken is a string or an integer (MCP 2025-06-18, _meta of the request).
    Json progressToken;
    if (params.contains("_meta") && params["_meta"].is_object() && params["_meta"].contains("progressToken")) {
      const Json& t = params["_meta"]["progressToken"];
      if (!t.is_string() && !t.is_number_integer()) return rpcError(id, kInvalidParams, "progressToken must be a string or an integer");
      progressToken = t;
    }
    try {
      Json result = callTool(name, args, progressToken);
      return rpcResult(id, Json{{"content", Json::array({Json{{"type", "text"}, {"text", textOf(name, result)}}})},
                                {"structuredContent", result},
                                {"isError", false}});
    } catch (const Error& e) {
      // Tool errors are results the model can read and act on, not protocol errors.
      return rpcResult(id, Json{{"content", Json::array({Json{{"type", "text"}, {"text", fmt::format("{} ({})", e.message(), errorCodeName(e.code()))}}})},
                                {"isError", true}});
    }
  }
  return rpcError(id, kMethodNotFound, fmt::format("method '{}' not found", method));
}

std::optional<std::string> Server::handleLine(std::string_view line) {
  // A value nested deeper than any record may hold is refused before it is parsed: the parsed
  // message would be copied recursively (a hundred thousand levels exhaust the stack).
  constexpr int kMaxMessageDepth = storage::kMaxJsonDepth + 8;  // the record's value inside the envelope
  if (storage::jsonTextDepth(line, kMaxMessageDepth) > kMaxMessageDepth)
    return rpcError(nullptr, kInvalidRequest,
                    fmt::format("the message nests deeper than {} levels of objects and arrays", kMaxMessageDepth))
        .dump();
  Json msg = Json::parse(line, nullptr, false);
  if (msg.is_discarded()) return rpcError(nullptr, kParseError, "parse error: not valid JSON").dump();
  if (msg.is_array()) return rpcError(nullptr, kInvalidRequest, "JSON-RPC batches are not supported by MCP 2025-06-18").dump();
  std::optional<Json> response;
  try {
    response = handle(msg);
  } catch (const Error& e) {
    Json id = msg.is_object() && msg.contains("id") ? msg["id"] : Json(nullptr);
    response = Json{{"jsonrpc", "2.0"}, {"id", id}, {"error", Json{{"code", -32603}, {"message", e.message()}}}};
  } catch (const Json::exception& e) {
    // A member of an unexpected JSON type that no check above caught: an answer, never an exit.
    Json id = msg.is_object() && msg.contains("id") ? msg["id"] : Json(nullptr);
    response = rpcError(id, kInvalidParams, fmt::format("invalid params: {}", e.what()));
  }
  if (!response) return std::nullopt;
  return response->dump(-1, ' ', false, Json::error_handler_t::replace);
}

int serve(runtime::Runtime& rt, std::istream& in, std::ostream& out) {
  Server server(rt, [&out](const Json& message) {
    out << message.dump(-1, ' ', false, Json::error_handler_t::replace) << '\n';
    out.flush();
  });
  std::cerr << "khive mcp: serving MCP " << kProtocolVersion << " on stdio\n";
  std::string line;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (auto reply = server.handleLine(line)) {
      out << *reply << '\n';
      out.flush();
    }
  }
  return 0;
}

}  // namespace khive::mcp
