#pragma once
// MCP over Streamable HTTP at /mcp (protocol 2025-06-18; docs/serve.md, "MCP"): POST carries
// one JSON-RPC message and gets a JSON reply, or an SSE stream when the client accepts
// text/event-stream and a tool call asks for progress; GET is 405 (the server sends no
// messages of its own); DELETE ends a session. initialize opens a session (Mcp-Session-Id),
// bound to the token that opened it; MCP-Protocol-Version is checked (400 when unsupported)
// and so is Origin (403).
//
// Thread-safe: requests of one session run one at a time, sessions in parallel.

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "khive/runtime/config.h"
#include "server/http.h"
#include "server/tenants.h"

namespace khive::server {

class McpEndpoint {
 public:
  McpEndpoint(Tenants& tenants, std::vector<std::string> allowedOrigins)
      : tenants_(tenants), allowedOrigins_(std::move(allowedOrigins)) {}
  ~McpEndpoint();

  // `token` is the authenticated caller.
  HttpResponse handle(const HttpRequest& request, const runtime::TokenConfig& token);
  // Origin check alone (before authentication): false when the Origin header names a site
  // that is neither loopback nor in [server] allowed_origins.
  bool originAllowed(const HttpRequest& request) const;
  std::size_t sessions();
  // Waits (at most `limit`) for the streamed replies still running, then drops every session.
  void close(std::chrono::milliseconds limit);

 private:
  struct Session;
  HttpResponse post(const HttpRequest& request, const runtime::TokenConfig& token);

  Tenants& tenants_;
  std::vector<std::string> allowedOrigins_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Session>> sessions_;
  std::atomic<int> streaming_{0};
};

}  // namespace khive::server
