#include "server/mcp_http.h"

#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <random>
#include <thread>

#include "khive/core/error.h"
#include "khive/mcp/server.h"
#include "khive/runtime/runtime.h"

namespace khive::server {
namespace {

// Versions a client may name in MCP-Protocol-Version: those initialize negotiates.
constexpr std::array<std::string_view, 3> kVersions = {"2025-06-18", "2025-03-26", "2024-11-05"};
constexpr std::size_t kMaxSessions = 10000;
constexpr auto kSessionIdle = std::chrono::hours(1);

std::string randomId() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return fmt::format("{:016x}{:016x}", gen(), gen());
}

HttpResponse rpcFailure(int status, int code, std::string_view message) {
  HttpResponse r;
  r.status = status;
  r.set("Content-Type", "application/json");
  r.body = Json{{"jsonrpc", "2.0"}, {"id", nullptr}, {"error", Json{{"code", code}, {"message", message}}}}.dump();
  return r;
}

bool accepts(const HttpRequest& req, std::string_view type) { return req.header("accept").find(type) != std::string_view::npos; }

}  // namespace

struct McpEndpoint::Session {
  std::string id;
  std::string tokenKey;  // the token's id and hash: only the token that opened it may use it
  std::shared_ptr<runtime::Runtime> rt;
  std::mutex run;              // one request at a time (mcp::Server is single-threaded)
  mcp::NotifySink sink;        // the running request's notification sink; guarded by run
  std::unique_ptr<mcp::Server> server;
  std::atomic<std::int64_t> lastUsed{0};  // steady_clock ticks
};

McpEndpoint::~McpEndpoint() { close(std::chrono::seconds(5)); }

bool McpEndpoint::originAllowed(const HttpRequest& req) const {
  const std::string_view origin = req.header("origin");
  if (origin.empty()) return true;  // not a browser: nothing to rebind
  if (std::find(allowedOrigins_.begin(), allowedOrigins_.end(), origin) != allowedOrigins_.end()) return true;
  std::string_view rest = origin;
  if (rest.starts_with("http://")) rest.remove_prefix(7);
  else if (rest.starts_with("https://")) rest.remove_prefix(8);
  else return false;
  std::string_view host = rest;
  if (host.starts_with("[")) host = host.substr(0, host.find(']') + 1);
  else host = host.substr(0, host.find(':'));
  return host == "localhost" || host == "127.0.0.1" || host == "[::1]";
}

std::size_t McpEndpoint::sessions() {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

void McpEndpoint::close(std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (streaming_.load() > 0 && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::lock_guard lock(mu_);
  sessions_.clear();
}

HttpResponse McpEndpoint::handle(const HttpRequest& req, const runtime::TokenConfig& token) {
  const std::string_view version = req.header("mcp-protocol-version");
  if (!version.empty() && std::find(kVersions.begin(), kVersions.end(), version) == kVersions.end())
    return rpcFailure(400, -32600,
                      fmt::format("Bad Request: unsupported MCP-Protocol-Version '{}' (supported: {})", version, fmt::join(kVersions, ", ")));
  if (req.method == "POST") return post(req, token);
  if (req.method == "GET") {
    // No server-initiated messages: the spec's answer is 405.
    HttpResponse r = rpcFailure(405, -32000, "Method Not Allowed: this server sends no messages outside a request's reply");
    r.set("Allow", "POST, DELETE");
    return r;
  }
  if (req.method == "DELETE") {
    const std::string id(req.header("mcp-session-id"));
    if (id.empty()) return rpcFailure(400, -32000, "Bad Request: Mcp-Session-Id header is required");
    std::lock_guard lock(mu_);
    auto it = sessions_.find(id);
    if (it == sessions_.end() || it->second->tokenKey != token.id + ":" + token.sha256)
      return rpcFailure(404, -32001, "Session not found");
    sessions_.erase(it);
    HttpResponse r;
    r.status = 200;
    return r;
  }
  HttpResponse r = rpcFailure(405, -32000, "Method Not Allowed: use POST, or DELETE to end a session");
  r.set("Allow", "POST, DELETE");
  return r;
}

HttpResponse McpEndpoint::post(const HttpRequest& req, const runtime::TokenConfig& token) {
  Json msg = Json::parse(req.body, nullptr, false);
  if (msg.is_discarded()) return rpcFailure(400, -32700, "Parse error: the body is not one JSON-RPC message");
  if (msg.is_array()) return rpcFailure(400, -32600, "Invalid Request: JSON-RPC batches are not supported by MCP 2025-06-18");
  if (!msg.is_object()) return rpcFailure(400, -32600, "Invalid Request: not a JSON-RPC message");
  const std::string method = msg.contains("method") && msg["method"].is_string() ? msg["method"].get<std::string>() : "";
  const bool isRequest = !method.empty() && msg.contains("id");
  const std::string tokenKey = token.id + ":" + token.sha256;
  const auto now = std::chrono::steady_clock::now().time_since_epoch().count();

  std::shared_ptr<Session> s;
  const bool initialize = method == "initialize" && isRequest;
  if (initialize) {
    s = std::make_shared<Session>();
    s->id = randomId();
    s->tokenKey = tokenKey;
    s->rt = tenants_.runtimeFor(token, s->id);
    Session* raw = s.get();
    s->server = std::make_unique<mcp::Server>(*s->rt, [raw](const Json& m) {
      if (raw->sink) raw->sink(m);
    });
  } else {
    const std::string id(req.header("mcp-session-id"));
    if (id.empty()) return rpcFailure(400, -32000, "Bad Request: Mcp-Session-Id header is required (send initialize first)");
    std::lock_guard lock(mu_);
    auto it = sessions_.find(id);
    if (it == sessions_.end() || it->second->tokenKey != tokenKey) return rpcFailure(404, -32001, "Session not found");
    s = it->second;
  }
  s->lastUsed = now;

  if (!isRequest) {
    std::lock_guard run(s->run);
    s->server->handleLine(req.body);
    HttpResponse r;
    r.status = 202;
    return r;
  }

  const bool progress = method == "tools/call" && msg.contains("params") && msg["params"].is_object() &&
                        msg["params"].contains("_meta") && msg["params"]["_meta"].is_object() &&
                        msg["params"]["_meta"].contains("progressToken");
  if (progress && accepts(req, "text/event-stream")) {
    // The tool runs on its own thread; its notifications and then its reply leave as SSE
    // events as they come.
    struct Pipe {
      std::mutex mu;
      std::condition_variable cv;
      std::deque<std::string> events;
      bool done = false;
    };
    auto pipe = std::make_shared<Pipe>();
    auto push = [pipe](const std::string& data) {
      std::lock_guard lock(pipe->mu);
      pipe->events.push_back("event: message\ndata: " + data + "\n\n");
      pipe->cv.notify_all();
    };
    ++streaming_;
    std::thread([this, s, pipe, push, body = req.body] {
      {
        std::lock_guard run(s->run);
        s->sink = [&push](const Json& m) { push(m.dump(-1, ' ', false, Json::error_handler_t::replace)); };
        std::optional<std::string> reply;
        try {
          reply = s->server->handleLine(body);
        } catch (...) {
          reply = Json{{"jsonrpc", "2.0"}, {"id", nullptr}, {"error", Json{{"code", -32603}, {"message", "internal error"}}}}.dump();
        }
        s->sink = nullptr;
        if (reply) push(*reply);
      }
      {
        std::lock_guard lock(pipe->mu);
        pipe->done = true;
        pipe->cv.notify_all();
      }
      --streaming_;
    }).detach();
    HttpResponse r;
    r.status = 200;
    r.set("Content-Type", "text/event-stream");
    r.set("Cache-Control", "no-cache");
    r.stream = [pipe]() -> std::optional<std::string> {
      std::unique_lock lock(pipe->mu);
      pipe->cv.wait(lock, [&] { return !pipe->events.empty() || pipe->done; });
      if (pipe->events.empty()) return std::nullopt;
      std::string e = std::move(pipe->events.front());
      pipe->events.pop_front();
      return e;
    };
    return r;
  }

  std::optional<std::string> reply;
  {
    std::lock_guard run(s->run);
    reply = s->server->handleLine(req.body);
  }
  HttpResponse r;
  r.status = 200;
  r.set("Content-Type", "application/json");
  r.body = reply ? *reply : "";
  if (initialize) {
    Json j = Json::parse(r.body, nullptr, false);
    if (!j.is_discarded() && j.contains("result")) {
      std::lock_guard lock(mu_);
      if (sessions_.size() >= kMaxSessions) {
        const auto cutoff = now - std::chrono::duration_cast<std::chrono::steady_clock::duration>(kSessionIdle).count();
        std::erase_if(sessions_, [&](const auto& kv) { return kv.second->lastUsed.load() < cutoff; });
      }
      if (sessions_.size() >= kMaxSessions)
        return rpcFailure(503, -32000, fmt::format("too many open MCP sessions ({}): end sessions with DELETE /mcp", kMaxSessions));
      sessions_.emplace(s->id, s);
      r.set("Mcp-Session-Id", s->id);
    }
  }
  return r;
}

}  // namespace khive::server
