#include "server/api.h"

#include <fmt/format.h>

#include <map>

#include "khive/storage/record_checks.h"

namespace khive::server {
namespace {

[[noreturn]] void bad(std::string message) { throw Error(ErrorCode::InvalidInput, "http", "arguments", std::move(message)); }

const commands::Arg* findArg(const commands::Command& cmd, std::string_view name) {
  for (const auto& a : cmd.args)
    if (a.name == name && (a.surfaces & commands::kHttp)) return &a;
  return nullptr;
}

bool isList(commands::ArgType t) {
  return t == commands::ArgType::StringList || t == commands::ArgType::IdList;
}

// One query parameter as the JSON value of its argument.
Json queryValue(const commands::Command& cmd, const commands::Arg& arg, const std::string& value) {
  if (arg.type == commands::ArgType::Object) {
    if (storage::jsonTextDepth(value) > storage::kMaxJsonDepth)
      bad(fmt::format("query parameter '{}' nests deeper than {} levels", arg.name, storage::kMaxJsonDepth));
    Json j = Json::parse(value, nullptr, false);
    if (j.is_discarded() || !j.is_object())
      bad(fmt::format("query parameter '{}' must be a JSON object (got '{}')", arg.name, value));
    return j;
  }
  return commands::valueFromText(cmd, arg, value, commands::Naming::Json);
}

}  // namespace

ApiMatch matchApi(std::string_view method, std::string_view path) {
  ApiMatch m;
  m.command = commands::matchRoute(method, path, m.pathArgs);
  if (m.command) return m;
  Json ignored;
  for (std::string_view other : {"GET", "POST", "PATCH", "DELETE"})
    if (other != method && commands::matchRoute(other, path, ignored)) m.pathKnown = true;
  return m;
}

Json callArguments(const commands::Command& cmd, const Json& pathArgs, const HttpRequest& req) {
  Json args = Json::object();
  const std::string& method = cmd.http->method;
  if ((method == "POST" || method == "PATCH") && !req.body.empty()) {
    if (storage::jsonTextDepth(req.body, storage::kMaxJsonDepth + 2) > storage::kMaxJsonDepth + 2)
      bad(fmt::format("the body nests deeper than {} levels of objects and arrays", storage::kMaxJsonDepth));
    args = Json::parse(req.body, nullptr, false);
    if (args.is_discarded()) bad("the body is not valid JSON");
    if (!args.is_object()) bad(fmt::format("the body must be a JSON object of the arguments of '{}'", cmd.name));
  }
  std::map<std::string, Json> fromQuery;
  for (const auto& [key, value] : req.query) {
    const commands::Arg* arg = findArg(cmd, key);
    if (!arg) {
      // callCommand refuses it, naming the arguments there are.
      fromQuery[key] = value;
      continue;
    }
    if (isList(arg->type)) {
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
      if (fromQuery.count(key)) bad(fmt::format("query parameter '{}' is given twice", key));
      fromQuery[key] = queryValue(cmd, *arg, value);
    }
  }
  for (auto& [k, v] : fromQuery) {
    if (args.contains(k)) bad(fmt::format("'{}' is given both in the query string and in the body", k));
    args[k] = std::move(v);
  }
  for (auto it = pathArgs.begin(); it != pathArgs.end(); ++it) {
    if (args.contains(it.key()) && args[it.key()] != it.value())
      bad(fmt::format("'{}' in the body or query string differs from the path", it.key()));
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

std::string errorBody(std::string_view code, std::string_view message, std::string_view requestId, const Json& data) {
  Json e{{"code", code}, {"message", message}, {"request_id", requestId}};
  if (!data.is_null()) e["data"] = data;
  return Json{{"error", std::move(e)}}.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace khive::server
