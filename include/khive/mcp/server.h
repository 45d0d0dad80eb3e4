#pragma once
// khive's MCP server: the Model Context Protocol over stdio (JSON-RPC 2.0, one message per
// line), protocol version 2025-06-18 with negotiation. Exposes the runtime's verbs as tools.
// stdout carries protocol messages only; diagnostics go to stderr.

#include <functional>
#include <iosfwd>
#include <optional>

#include "khive/core/json.h"
#include "khive/runtime/runtime.h"

namespace khive::mcp {

inline constexpr const char* kProtocolVersion = "2025-06-18";

// Writes one server-to-client message (a notification) to the transport, in order with the
// responses: it is called while a request is handled, before that request's response.
using NotifySink = std::function<void(const Json& message)>;

// Single-threaded: one session at a time.
class Server {
 public:
  // Without a sink, notifications (progress) are dropped.
  explicit Server(runtime::Runtime& rt, NotifySink notify = {}) : rt_(rt), notify_(std::move(notify)) {}

  // Handles one raw line; returns the response line, or nullopt for a notification.
  // Malformed input gets a JSON-RPC error response, never an exception.
  std::optional<std::string> handleLine(std::string_view line);
  // Handles one parsed message (request or notification).
  std::optional<Json> handle(const Json& message);

  // The tool list, generated from the command table (khive/commands/command_table.h): a JSON
  // Schema per tool whose kind and relation enums are those of `vocabulary`.
  static Json tools(const runtime::Vocabulary& vocabulary = runtime::Vocabulary());

  // Runs one tool on `rt`: checks the arguments against the tool's schema, then calls the
  // verb. Throws Error: InvalidInput for an unknown tool or bad arguments, else the verb's
  // error. progressToken non-null and notify set: a long tool (reindex) sends
  // notifications/progress through notify. Thread-safe when rt is (it keeps no state). The
  // HTTP API of `khive serve` dispatches every verb through it.
  static Json call(runtime::Runtime& rt, std::string_view name, const Json& args, const Json& progressToken = Json(),
                   const NotifySink& notify = {});

 private:
  runtime::Runtime& rt_;
  NotifySink notify_;
  bool initialized_ = false;
};

// Reads lines from `in` until EOF, writes responses and notifications to `out`, one per line.
// Returns the exit code (0).
int serve(runtime::Runtime& rt, std::istream& in, std::ostream& out);

}  // namespace khive::mcp
