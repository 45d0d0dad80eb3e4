#pragma once
// The JSON HTTP API under /v1/ (docs/serve.md, "HTTP API"): a route table of verb name ->
// method + path template, the arguments of a call assembled from the path, the query string
// and the JSON body and checked against the verb's input schema, khive's error codes mapped to
// HTTP statuses, and the OpenAPI 3.1 document built from the same table and schemas.
//
// Pure functions over immutable tables: thread-safe.

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "khive/core/error.h"
#include "khive/core/json.h"
#include "server/http.h"

namespace khive::server {

struct Route {
  std::string_view verb;    // the tool / verb name
  std::string_view method;  // GET, POST, PATCH, DELETE
  std::string_view path;    // "/v1/records/{id}": {name} is the argument `name`
  int status;               // success status
  std::string_view recordType;  // non-empty: a record of another type is 404 (typed aliases of get)
};

std::span<const Route> routes();

struct Match {
  const Route* route = nullptr;
  Json pathArgs = Json::object();
  bool pathKnown = false;  // some route has this path (another method: 405)
};
Match matchRoute(std::string_view method, std::string_view path);

// The call's arguments: path arguments, then query parameters converted by the verb's schema
// (integers, numbers, booleans; arrays comma-separated or repeated; `q` means `text`), then the
// JSON object body (POST, PATCH). Throws Error(InvalidInput) naming what is wrong.
Json callArguments(const Route& route, const Json& pathArgs, const HttpRequest& request);

// The HTTP status of an error code.
int httpStatus(ErrorCode code) noexcept;
// {"error": {"code": ..., "message": ..., "request_id": ...}}
std::string errorBody(std::string_view code, std::string_view message, std::string_view requestId);

// The OpenAPI 3.1 document of the /v1 API.
const Json& openApiDocument();

}  // namespace khive::server
