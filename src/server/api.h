#pragma once
// The JSON HTTP API under /v1/ (docs/serve.md, "HTTP API"), generated from the command table:
// a request is matched to a command by its HttpRoute (commands::matchRoute), its arguments are
// assembled from the path, the query string and the JSON body, checked and run by
// commands::callCommand on the HTTP surface; khive's error codes map to HTTP statuses, and the
// OpenAPI 3.1 document is commands::openApiDocument.
//
// Pure functions over the immutable command table: thread-safe.

#include <string>
#include <string_view>

#include "khive/commands/command_table.h"
#include "khive/core/error.h"
#include "khive/core/json.h"
#include "server/http.h"

namespace khive::server {

struct ApiMatch {
  const commands::Command* command = nullptr;
  Json pathArgs = Json::object();
  bool pathKnown = false;  // no command for this method, but one for another method (405)
};
ApiMatch matchApi(std::string_view method, std::string_view path);

// The call's arguments: path arguments, query parameters read as the argument's type
// (commands::valueFromText; lists comma-separated or repeated; objects as JSON text), and for
// POST and PATCH the JSON object body. The same argument in two places, or a body that is not
// a JSON object, is Error(InvalidInput); unknown arguments are left for callCommand to refuse.
Json callArguments(const commands::Command& command, const Json& pathArgs, const HttpRequest& request);

// The HTTP status of an error code.
int httpStatus(ErrorCode code) noexcept;
// {"error": {"code": ..., "message": ..., "request_id": ..., "data": ... (when not null)}}
std::string errorBody(std::string_view code, std::string_view message, std::string_view requestId,
                      const Json& data = Json());

}  // namespace khive::server
