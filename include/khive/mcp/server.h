#pragma once
// khive's MCP server: the Model Context Protocol over stdio (JSON-RPC 2.0, one message per
// line), protocol version 2025-06-18 with negotiation. Exposes the runtime's verbs as tools.
// stdout carries protocol messages only; diagnostics go to stderr.

#include <iosfwd>
#include <optional>

#include "khive/core/json.h"
#include "khive/runtime/runtime.h"

namespace khive::mcp {

inline constexpr const char* kProtocolVersion = "2025-06-18";

// Single-threaded: one session at a time.
class Server {
 public:
  explicit Server(runtime::Runtime& rt) : rt_(rt) {}

  // Handles one raw line; returns the response line, or nullopt for a notification.
  // Malformed input gets a JSON-RPC error response, never an exception.
  std::optional<std::string> handleLine(std::string_view line);
  // Handles one parsed message (request or notification).
  std::optional<Json> handle(const Json& message);

  // The tool list with a JSON Schema per tool.
  static Json tools();

 private:
  Json callTool(const std::string& name, const Json& args);

  runtime::Runtime& rt_;
  bool initialized_ = false;
};

// Reads lines from `in` until EOF, writes responses to `out`. Returns the exit code (0).
int serve(runtime::Runtime& rt, std::istream& in, std::ostream& out);

}  // namespace khive::mcp
