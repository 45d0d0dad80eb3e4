#include "khive/mcp/server.h"

#include <fmt/format.h>

#include <iostream>
#include <map>
#include <optional>

#include "khive/commands/command_table.h"
#include "khive/core/error.h"
#include "khive/storage/record_checks.h"

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

Json Server::tools(const runtime::Vocabulary& vocabulary) {
  Json out = Json::array();
  for (const auto& cmd : commands::commandTable()) {
    if (!(cmd.surfaces & commands::kMcp) || !cmd.handler) continue;
    std::string description = cmd.details.empty() ? cmd.summary : cmd.summary + "\n" + cmd.details;
    out.push_back(Json{{"name", cmd.name},
                       {"description", description},
                       {"inputSchema", commands::inputSchema(cmd, vocabulary, commands::kMcp)},
                       {"annotations", Json{{"readOnlyHint", cmd.readOnly}}}});
  }
  return out;
}

Json Server::call(runtime::Runtime& rt, std::string_view name, const Json& args, const Json& progressToken,
                  const NotifySink& notify) {
  commands::CallContext ctx;
  if (!progressToken.is_null() && notify) {
    // MCP requires progress to increase with every notification; the runtime reports the
    // start (0 done) and then each written batch.
    ctx.progress = [&notify, &progressToken, last = std::optional<std::int64_t>()](const runtime::ReindexProgress& p) mutable {
      if (last && p.done <= *last) return;
      last = p.done;
      notify(Json{{"jsonrpc", "2.0"},
                  {"method", "notifications/progress"},
                  {"params", Json{{"progressToken", progressToken},
                                  {"progress", p.done},
                                  {"total", p.total},
                                  {"message", fmt::format("reindexed {} of {} records", p.done, p.total)}}}});
    };
  }
  return commands::callCommand(rt, name, args, ctx, commands::kMcp);
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
  if (method == "tools/list") return rpcResult(id, Json{{"tools", tools(rt_.vocabulary())}});
  if (method == "tools/call") {
    if (!params.contains("name") || !params["name"].is_string()) return rpcError(id, kInvalidParams, "tools/call needs a tool name");
    const std::string name = params["name"].get<std::string>();
    const commands::Command* cmd = commands::findCommand(name);
    if (!cmd || !cmd->handler || !(cmd->surfaces & commands::kMcp))
      return rpcError(id, kInvalidParams, fmt::format("unknown tool '{}'", name));
    Json args = params.contains("arguments") ? params["arguments"] : Json::object();
    if (!args.is_object()) return rpcError(id, kInvalidParams, "arguments must be an object");
    // A progressToken is a string or an integer (MCP 2025-06-18, _meta of the request).
    Json progressToken;
    if (params.contains("_meta") && params["_meta"].is_object() && params["_meta"].contains("progressToken")) {
      const Json& t = params["_meta"]["progressToken"];
      if (!t.is_string() && !t.is_number_integer()) return rpcError(id, kInvalidParams, "progressToken must be a string or an integer");
      progressToken = t;
    }
    auto toolError = [&](const Error& e) {
      // Tool errors are results the model can read and act on, not protocol errors.
      return rpcResult(id, Json{{"content", Json::array({Json{{"type", "text"}, {"text", fmt::format("{} ({})", e.message(), errorCodeName(e.code()))}}})},
                                {"isError", true}});
    };
    try {
      Json result = call(rt_, name, args, progressToken, notify_);
      return rpcResult(id, Json{{"content", Json::array({Json{{"type", "text"}, {"text", textOf(name, result)}}})},
                                {"structuredContent", result},
                                {"isError", false}});
    } catch (const commands::ArgumentError& e) {
      // An argument the schema does not declare, of another JSON type or outside a fixed enum:
      // invalid params, and nothing was done. A missing argument, a number out of range or a
      // word the vocabulary lacks: a tool error naming what to change.
      using commands::Problem;
      if (e.problem() != Problem::Unknown && e.problem() != Problem::Type && e.problem() != Problem::Enum) return toolError(e);
      Json error = rpcError(id, kInvalidParams, e.message());
      error["error"]["data"] = e.data();
      return error;
    } catch (const Error& e) {
      return toolError(e);
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

namespace {
// Reads one line (without its newline) into `line`, holding at most max + 1 bytes of it: a
// longer line leaves `line` at max + 1 bytes and is read through to its newline. False at EOF.
bool readLine(std::istream& in, std::string& line, std::size_t max) {
  line.clear();
  std::streambuf* buf = in.rdbuf();
  bool any = false;
  for (int c = buf->sbumpc(); c != std::char_traits<char>::eof(); c = buf->sbumpc()) {
    any = true;
    if (c == '\n') return true;
    if (line.size() <= max) line.push_back(static_cast<char>(c));
  }
  in.setstate(std::ios::eofbit);
  return any;
}
}  // namespace

int serve(runtime::Runtime& rt, std::istream& in, std::ostream& out) {
  Server server(rt, [&out](const Json& message) {
    out << message.dump(-1, ' ', false, Json::error_handler_t::replace) << '\n';
    out.flush();
  });
  std::cerr << "khive mcp: serving MCP " << kProtocolVersion << " on stdio\n";
  // A message carries at most one record: one longer than an import line may be is answered
  // with an error and skipped to its newline, never held whole.
  const std::size_t maxLine = rt.limits().maxImportLineBytes;
  std::string line;
  while (readLine(in, line, maxLine)) {
    if (line.size() > maxLine) {
      out << rpcError(nullptr, kInvalidRequest,
                      fmt::format("the message is longer than {} bytes (raise [limits] max_import_line_bytes)", maxLine))
                 .dump()
          << '\n';
      out.flush();
      continue;
    }
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (auto reply = server.handleLine(line)) {
      out << *reply << '\n';
      out.flush();
    }
  }
  return 0;
}

}  // namespace khive::mcp
