#include "server/api.h"

#include <fmt/format.h>

#include <array>
#include <cstdlib>
#include <map>
#include <set>

#include "khive/mcp/server.h"
#include "khive/storage/record_checks.h"

namespace khive::server {
namespace {

// The verbs of the API. The integrator's command table replaces the verb list; the paths stay.
constexpr std::array kRoutes = {
    Route{"create_entity", "POST", "/v1/entities", 201, ""},
    Route{"create_note", "POST", "/v1/notes", 201, ""},
    Route{"link", "POST", "/v1/edges", 201, ""},
    Route{"list", "GET", "/v1/records", 200, ""},
    Route{"get", "GET", "/v1/records/{id}", 200, ""},
    Route{"get", "GET", "/v1/entities/{id}", 200, "entity"},
    Route{"get", "GET", "/v1/notes/{id}", 200, "note"},
    Route{"get", "GET", "/v1/edges/{id}", 200, "edge"},
    Route{"update", "PATCH", "/v1/records/{id}", 200, ""},
    Route{"delete", "DELETE", "/v1/records/{id}", 200, ""},
    Route{"neighbors", "GET", "/v1/records/{id}/neighbors", 200, ""},
    Route{"merge", "POST", "/v1/merge", 200, ""},
    Route{"traverse", "POST", "/v1/traverse", 200, ""},
    Route{"path", "GET", "/v1/path", 200, ""},
    Route{"search", "GET", "/v1/search", 200, ""},
    Route{"search", "POST", "/v1/search", 200, ""},
    Route{"query", "POST", "/v1/query", 200, ""},
    Route{"stats", "GET", "/v1/stats", 200, ""},
    Route{"reindex", "POST", "/v1/reindex", 200, ""},
    Route{"doctor", "GET", "/v1/doctor", 200, ""},
};

[[noreturn]] void bad(std::string message) { throw Error(ErrorCode::InvalidInput, "http", "arguments", std::move(message)); }

const Json& toolSchemas() {
  static const Json schemas = [] {
    Json out = Json::object();
    for (const auto& t : mcp::Server::tools()) out[t["name"].get<std::string>()] = t;
    return out;
  }();
  return schemas;
}

std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

Json convert(const std::string& name, const std::string& value, const Json& schema) {
  const std::string type = schema.value("type", "string");
  auto fail = [&](std::string_view what) -> Json { bad(fmt::format("query parameter '{}' must be {} (got '{}')", name, what, value)); };
  if (type == "integer") {
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || errno != 0) return fail("an integer");
    return Json(static_cast<std::int64_t>(v));
  }
  if (type == "number") {
    char* end = nullptr;
    const double v = std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0') return fail("a number");
    return Json(v);
  }
  if (type == "boolean") {
    if (value == "true" || value == "1") return Json(true);
    if (value == "false" || value == "0") return Json(false);
    return fail("true or false");
  }
  if (type == "object") {
    if (storage::jsonTextDepth(value) > storage::kMaxJsonDepth) return fail("a JSON object of bounded depth");
    Json j = Json::parse(value, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return fail("a JSON object");
    return j;
  }
  return Json(value);
}

}  // namespace

std::span<const Route> routes() { return kRoutes; }

Match matchRoute(std::string_view method, std::string_view path) {
  Match m;
  const auto have = segments(path);
  for (const auto& r : kRoutes) {
    const auto want = segments(r.path);
    if (want.size() != have.size()) continue;
    Json args = Json::object();
    bool ok = true;
    for (std::size_t i = 0; i < want.size() && ok; ++i) {
      if (want[i].starts_with("{")) args[std::string(want[i].substr(1, want[i].size() - 2))] = std::string(have[i]);
      else ok = want[i] == have[i];
    }
    if (!ok) continue;
    m.pathKnown = true;
    if (r.method != method) continue;
    m.route = &r;
    m.pathArgs = std::move(args);
    return m;
  }
  return m;
}

Json callArguments(const Route& route, const Json& pathArgs, const HttpRequest& req) {
  const Json& schema = toolSchemas().at(std::string(route.verb));
  const Json& props = schema["inputSchema"]["properties"];
  Json args = Json::object();
  if ((route.method == "POST" || route.method == "PATCH") && !req.body.empty()) {
    if (storage::jsonTextDepth(req.body, storage::kMaxJsonDepth + 2) > storage::kMaxJsonDepth + 2)
      bad(fmt::format("the body nests deeper than {} levels of objects and arrays", storage::kMaxJsonDepth));
    args = Json::parse(req.body, nullptr, false);
    if (args.is_discarded()) bad("the body is not valid JSON");
    if (!args.is_object()) bad("the body must be a JSON object of the verb's arguments");
  }
  std::map<std::string, Json> fromQuery;
  for (const auto& [rawKey, value] : req.query) {
    const std::string key = rawKey == "q" && props.contains("text") ? "text" : rawKey;
    if (!props.contains(key))
      bad(fmt::format("unknown query parameter '{}' for {} {} (see /v1/openapi.json)", rawKey, route.method, route.path));
    const Json& p = props[key];
    if (p.value("type", "") == "array") {
      Json& list = fromQuery[key];
      if (list.is_null()) list = Json::array();
      std::size_t i = 0;
      while (i <= value.size()) {
        std::size_t j = value.find(',', i);
        if (j == std::string::npos) j = value.size();
        if (j > i) list.push_back(value.substr(i, j - i));
        i = j + 1;
      }
    } else {
      if (fromQuery.count(key)) bad(fmt::format("query parameter '{}' is given twice", rawKey));
      fromQuery[key] = convert(rawKey, value, p);
    }
  }
  for (auto& [k, v] : fromQuery) {
    if (args.contains(k)) bad(fmt::format("'{}' is given both in the query string and in the body", k));
    args[k] = std::move(v);
  }
  for (auto it = pathArgs.begin(); it != pathArgs.end(); ++it) {
    if (args.contains(it.key()) && args[it.key()] != it.value())
      bad(fmt::format("'{}' in the body differs from the path", it.key()));
    args[it.key()] = it.value();
  }
  return args;
}

int httpStatus(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::NotFound: return 404;
    case ErrorCode::AlreadyExists:
    case ErrorCode::Conflict: return 409;
    case ErrorCode::InvalidInput:
    case ErrorCode::Unsupported: return 400;
    case ErrorCode::PermissionDenied: return 403;
    case ErrorCode::Pool: return 429;
    case ErrorCode::Timeout: return 504;
    case ErrorCode::Transaction:
    case ErrorCode::Serialization:
    case ErrorCode::IndexMaintenance:
    case ErrorCode::Driver:
    case ErrorCode::Unavailable: return 503;
  }
  return 500;
}

std::string errorBody(std::string_view code, std::string_view message, std::string_view requestId) {
  return Json{{"error", Json{{"code", code}, {"message", message}, {"request_id", requestId}}}}.dump(
      -1, ' ', false, Json::error_handler_t::replace);
}

const Json& openApiDocument() {
  static const Json doc = [] {
    const Json errorRef = Json{{"$ref", "#/components/schemas/Error"}};
    auto errorResponse = [&](const char* what) {
      return Json{{"description", what}, {"content", Json{{"application/json", Json{{"schema", errorRef}}}}}};
    };
    Json paths = Json::object();
    for (const auto& r : kRoutes) {
      const Json& tool = toolSchemas().at(std::string(r.verb));
      const Json& input = tool["inputSchema"];
      Json params = Json::array();
      std::vector<std::string> inPath;
      for (const auto seg : segments(r.path))
        if (seg.starts_with("{")) {
          std::string name(seg.substr(1, seg.size() - 2));
          inPath.push_back(name);
          params.push_back(Json{{"name", name}, {"in", "path"}, {"required", true}, {"schema", input["properties"][name]}});
        }
      const std::string method = r.method == "GET" ? "get" : r.method == "POST" ? "post" : r.method == "PATCH" ? "patch" : "delete";
      // search has a GET and a POST form; get has typed aliases.
      const std::string operationId = !r.recordType.empty() ? fmt::format("get_{}", r.recordType)
                                      : r.verb == "search"  ? fmt::format("search_{}", method)
                                                            : std::string(r.verb);
      Json op{{"operationId", operationId}, {"summary", tool["description"]}, {"tags", Json::array({std::string(r.verb)})}};
      const bool hasBody = r.method == "POST" || r.method == "PATCH";
      Json bodySchema = input;
      for (const auto& name : inPath) {
        bodySchema["properties"].erase(name);
        if (bodySchema.contains("required")) {
          Json req = Json::array();
          for (const auto& x : bodySchema["required"])
            if (x != name) req.push_back(x);
          bodySchema["required"] = req;
        }
      }
      if (bodySchema.contains("required") && bodySchema["required"].empty()) bodySchema.erase("required");
      if (hasBody) {
        op["requestBody"] = Json{{"required", bodySchema.contains("required")},
                                 {"content", Json{{"application/json", Json{{"schema", bodySchema}}}}}};
      } else {
        std::set<std::string> required;
        if (bodySchema.contains("required"))
          for (const auto& x : bodySchema["required"]) required.insert(x.get<std::string>());
        for (auto it = bodySchema["properties"].begin(); it != bodySchema["properties"].end(); ++it) {
          Json p{{"name", it.key()}, {"in", "query"}, {"required", required.count(it.key()) > 0}, {"schema", it.value()}};
          if (it.value().value("type", "") == "array") {
            p["style"] = "form";
            p["explode"] = false;
          }
          params.push_back(std::move(p));
        }
        if (r.verb == "search")
          params.push_back(Json{{"name", "q"}, {"in", "query"}, {"required", false}, {"description", "Same as text"}, {"schema", Json{{"type", "string"}}}});
      }
      if (!params.empty()) op["parameters"] = params;
      op["responses"] = Json{{std::to_string(r.status), Json{{"description", "The verb's result (as the MCP tool's structuredContent)"},
                                                             {"content", Json{{"application/json", Json{{"schema", Json{{"type", "object"}}}}}}}}},
                             {"400", errorResponse("Bad arguments (invalid_input, unsupported)")},
                             {"401", errorResponse("No token, or an unknown, expired or revoked one")},
                             {"403", errorResponse("Beyond the token's grants (permission_denied)")},
                             {"404", errorResponse("No such record in the token's read scope (not_found)")},
                             {"409", errorResponse("Conflict (already_exists, conflict)")},
                             {"413", errorResponse("Body larger than [server] max_body_bytes")},
                             {"429", errorResponse("No database connection free in time (pool): retry")},
                             {"503", errorResponse("The store failed or is unavailable")},
                             {"504", errorResponse("The request's time budget ran out (timeout)")}};
      paths[std::string(r.path)][method] = op;
    }
    return Json{{"openapi", "3.1.0"},
                {"info", Json{{"title", "khive HTTP API"}, {"version", "0.1.0"},
                              {"description", "The verbs of khive over JSON; every call runs under the bearer token's grants."}}},
                {"servers", Json::array({Json{{"url", "/"}}})},
                {"security", Json::array({Json{{"bearer", Json::array()}}})},
                {"paths", paths},
                {"components",
                 Json{{"securitySchemes", Json{{"bearer", Json{{"type", "http"}, {"scheme", "bearer"}}}}},
                      {"schemas", Json{{"Error", Json{{"type", "object"},
                                                      {"required", Json::array({"error"})},
                                                      {"properties", Json{{"error", Json{{"type", "object"},
                                                                                         {"required", Json::array({"code", "message"})},
                                                                                         {"properties", Json{{"code", Json{{"type", "string"}}},
                                                                                                             {"message", Json{{"type", "string"}}},
                                                                                                             {"request_id", Json{{"type", "string"}}}}}}}}}}}}}}}};
  }();
  return doc;
}

}  // namespace khive::server
