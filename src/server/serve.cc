#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "khive/commands/command_table.h"
#include "khive/core/error.h"
#include "khive/server/server.h"
#include "server/api.h"
#include "server/http.h"
#include "server/jwt.h"
#include "server/mcp_http.h"
#include "server/metrics.h"
#include "server/static_files.h"
#include "server/tenants.h"

namespace khive::server {
namespace {

// A file named in [server]: relative to the config file's directory.
std::filesystem::path configRelative(const runtime::Config& config, const std::string& name) {
  std::filesystem::path p(name);
  if (p.is_absolute() || !config.source) return p;
  return config.source->parent_path() / p;
}

std::string readServerFile(const runtime::Config& config, const std::string& name, const char* key) {
  const auto path = configRelative(config, name);
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  if (in) text << in.rdbuf();
  if (!in || text.str().empty())
    throw Error(ErrorCode::InvalidInput, "serve", "tls", fmt::format("[server] {} = \"{}\": cannot read {}", key, name, path.string()));
  return text.str();
}

HttpResponse json(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.set("Content-Type", "application/json");
  r.body = std::move(body);
  return r;
}

HttpResponse failure(int status, std::string_view code, std::string_view message, const HttpRequest& req) {
  return json(status, errorBody(code, message, req.requestId));
}

std::string_view methodLabel(std::string_view m) {
  for (std::string_view k : {"GET", "POST", "PATCH", "DELETE", "PUT", "HEAD", "OPTIONS"})
    if (m == k) return k;
  return "OTHER";
}

std::string utcNow() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  // The date and time to the second change once a second: each worker formats them then.
  thread_local std::time_t second = -1;
  thread_local std::string prefix;
  if (t != second) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    prefix = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                         tm.tm_min, tm.tm_sec);
    second = t;
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  return fmt::format("{}.{:03}Z", prefix, ms);
}

// Handles every request; the HTTP transport calls it from its workers. Thread-safe.
class Service {
 public:
  explicit Service(const ServeOptions& o)
      : options_(o),
        tenants_(o),
        mcp_(tenants_, o.config.server.allowedOrigins),
        openApi_(commands::openApiDocument(runtime::Vocabulary(o.config.vocabulary)).dump()) {
    const auto& j = o.config.server.jwt;
    if (!j.issuer.empty()) jwt_ = std::make_unique<JwtVerifier>(j, configRelative(o.config, j.jwksFile));
  }

  Tenants& tenants() { return tenants_; }
  McpEndpoint& mcp() { return mcp_; }
  HttpServer* http = nullptr;

  HttpResponse handle(HttpRequest& req) { return dispatch(req); }

  void completed(const HttpRequest& req, int status, bool delivered) {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - req.started).count();
    const std::string route = req.route.empty() ? "other" : req.route;
    metrics_.observe(route, std::string(methodLabel(req.method)), status, seconds);
    // The fields written as they are hold no quote or backslash; the token's id and actor are escaped.
    std::string text = fmt::format(R"({{"ts":"{}","request_id":"{}","method":"{}","route":"{}","status":{},"ms":{:.2f},"delivered":{})",
                                   utcNow(), req.requestId, methodLabel(req.method), route, status, seconds * 1000, delivered);
    if (!req.tokenId.empty())
      text += fmt::format(R"(,"token_id":{},"actor":{})", Json(req.tokenId).dump(-1, ' ', false, Json::error_handler_t::replace),
                          Json(req.actor).dump(-1, ' ', false, Json::error_handler_t::replace));
    text += "}\n";
    // One write(2) per line: lines of concurrent requests do not interleave, and no lock is
    // held across the system call.
    for (std::size_t done = 0; done < text.size();) {
      const ssize_t n = ::write(STDERR_FILENO, text.data() + done, text.size() - done);
      if (n <= 0 && errno != EINTR) break;
      if (n > 0) done += static_cast<std::size_t>(n);
    }
  }

 private:
  HttpResponse dispatch(HttpRequest& req) {
    const std::string& path = req.path;
    if (path == "/healthz") {
      req.route = "/healthz";
      return json(200, R"({"status":"ok"})");
    }
    if (path == "/readyz") {
      req.route = "/readyz";
      std::string problem;
      if (http && http->quiesced()) return json(503, R"({"status":"stopping"})");
      if (tenants_.ready(problem)) return json(200, R"({"status":"ready"})");
      return json(503, Json{{"status", "unavailable"}, {"problem", problem}}.dump());
    }
    if (path == "/metrics") {
      req.route = "/metrics";
      HttpResponse r;
      r.set("Content-Type", "text/plain; version=0.0.4");
      r.body = metrics_.render({{"khive_http_requests_in_flight", http ? http->inFlight() : 0},
                                {"khive_mcp_sessions", static_cast<double>(mcp_.sessions())},
                                {"khive_tokens", static_cast<double>(tenants_.tokenCount())}},
                               tenants_.poolStats());
      return r;
    }
    if (path == "/.well-known/oauth-protected-resource" && jwt_) {
      // RFC 9728: where a client gets a token for this server.
      req.route = path;
      return json(200, Json{{"resource", resourceId(req)},
                            {"authorization_servers", Json::array({jwt_->config().issuer})},
                            {"bearer_methods_supported", Json::array({"header"})},
                            {"resource_name", "khive"}}
                           .dump());
    }
    if (path == "/v1/openapi.json") {
      req.route = "/v1/openapi.json";
      return json(200, openApi_);
    }
    if (path == "/mcp") {
      req.route = "/mcp";
      if (!mcp_.originAllowed(req))
        return failure(403, "forbidden_origin", "the Origin of this request is not allowed ([server] allowed_origins)", req);
      auto token = authenticate(req);
      if (!token) return unauthorized(req);
      return mcp_.handle(req, *token);
    }
    if (auto page = staticFile(req)) return std::move(*page);
    if (!path.starts_with("/v1/")) return failure(404, "not_found", fmt::format("no route {} (see /v1/openapi.json)", path), req);

    ApiMatch m = matchApi(req.method, path);
    if (!m.command) {
      req.route = "other";
      if (m.pathKnown) return failure(405, "method_not_allowed", fmt::format("{} is not allowed on {}", req.method, path), req);
      return failure(404, "not_found", fmt::format("no route {} (see /v1/openapi.json)", path), req);
    }
    req.route = m.command->http->path;
    auto token = authenticate(req);
    if (!token) return unauthorized(req);
    try {
      Json args = callArguments(*m.command, m.pathArgs, req);
      // Namespaces named in the arguments (reindex) must be the token's: 403, as any other
      // request beyond its grants.
      if (args.contains("namespaces") && args["namespaces"].is_array()) {
        const auto mine = tokenNamespaces(*token);
        for (const auto& ns : args["namespaces"])
          if (!ns.is_string() || !std::binary_search(mine.begin(), mine.end(), ns.get<std::string>()))
            return failure(403, "permission_denied", fmt::format("the token has no grant in namespace {}", ns.dump()), req);
      }
      auto rt = tenants_.runtimeFor(*token);
      Json result = commands::callCommand(*rt, m.command->name, args, {}, commands::kHttp);
      return json(m.command->http->status, result.dump(-1, ' ', false, Json::error_handler_t::replace));
    } catch (const commands::ArgumentError& e) {
      return json(400, errorBody(errorCodeName(e.code()), e.message(), req.requestId, e.data()));
    } catch (const Error& e) {
      return failure(httpStatus(e.code()), errorCodeName(e.code()), e.message(), req);
    } catch (const Json::exception& e) {
      return failure(400, "invalid_input", fmt::format("invalid arguments: {}", e.what()), req);
    }
  }

  std::optional<runtime::TokenConfig> authenticate(HttpRequest& req) {
    const std::string_view h = req.header("authorization");
    if (h.size() < 7 || !(h.substr(0, 7) == "Bearer " || h.substr(0, 7) == "bearer ")) {
      authProblem() = "";
      return std::nullopt;
    }
    std::string_view bearer = h.substr(7);
    while (!bearer.empty() && bearer.front() == ' ') bearer.remove_prefix(1);
    std::string problem;
    auto t = jwt_ && !bearer.starts_with("khive_") && JwtVerifier::looksLikeJwt(bearer) ? jwt_->verify(bearer, problem)
                                                                                        : tenants_.authenticate(bearer, problem);
    authProblem() = problem;
    if (t) {
      req.tokenId = t->id;
      req.actor = t->actor;
    }
    return t;
  }

  // Why the last authentication on this thread failed ("" when no token was given).
  static std::string& authProblem() {
    thread_local std::string p;
    return p;
  }

  HttpResponse unauthorized(const HttpRequest& req) {
    const std::string& problem = authProblem();
    HttpResponse r = failure(401, "unauthorized",
                             problem.empty() ? "a bearer token is required (Authorization: Bearer <token>; see `khive token create`)"
                                             : problem,
                             req);
    std::string challenge = R"(Bearer realm="khive")";
    if (jwt_) challenge += fmt::format(R"(, resource_metadata="{}/.well-known/oauth-protected-resource")", baseUrl(req));
    if (!problem.empty()) challenge += fmt::format(R"(, error="invalid_token", error_description="{}")", problem);
    r.set("WWW-Authenticate", challenge);
    return r;
  }

  // This server as clients reach it: [server.jwt] resource, else the scheme and Host of the request.
  std::string baseUrl(const HttpRequest& req) const {
    std::string host(req.header("host"));
    if (host.empty() || host.find_first_of("\"\\ ,") != std::string::npos) host = "localhost";
    return fmt::format("{}://{}", options_.config.server.tlsCertFile.empty() ? "http" : "https", host);
  }
  std::string resourceId(const HttpRequest& req) const {
    const auto& r = jwt_->config().resource;
    return r.empty() ? baseUrl(req) : r;
  }

  ServeOptions options_;
  Tenants tenants_;
  McpEndpoint mcp_;
  Metrics metrics_;
  const std::string openApi_;  // /v1/openapi.json, for the vocabulary of the config
  std::unique_ptr<JwtVerifier> jwt_;  // [server.jwt] set: JWT access tokens too
};

}  // namespace

int serve(const ServeOptions& given) {
  ServeOptions o = given;
  if (o.listen) o.config.server.listen = *o.listen;
  if (o.port) o.config.server.port = *o.port;
  const auto& sc = o.config.server;

  // The workers inherit this mask, so the signals reach only sigwait below.
  sigset_t stopSignals;
  sigemptyset(&stopSignals);
  sigaddset(&stopSignals, SIGTERM);
  sigaddset(&stopSignals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  Service service(o);
  HttpServer http(HttpOptions{.listen = sc.listen,
                              .port = sc.port,
                              .workers = sc.workers,
                              .maxConnections = sc.maxConnections,
                              .maxBodyBytes = sc.maxBodyBytes,
                              .idleTimeoutS = sc.slowClientTimeoutS,
                              .tlsCert = sc.tlsCertFile.empty() ? "" : readServerFile(o.config, sc.tlsCertFile, "tls_cert_file"),
                              .tlsKey = sc.tlsKeyFile.empty() ? "" : readServerFile(o.config, sc.tlsKeyFile, "tls_key_file")},
                  [&service](HttpRequest& r) { return service.handle(r); },
                  [&service](const HttpRequest& r, int status, bool delivered) { service.completed(r, status, delivered); });
  service.http = &http;
  http.start();
  const bool v6 = sc.listen.find(':') != std::string::npos;
  fmt::print(stderr, "khive serve: listening on {}://{}{}{}:{} ({} backend, {} workers)\n", sc.tlsCertFile.empty() ? "http" : "https",
             v6 ? "[" : "", sc.listen,
             v6 ? "]" : "", http.port(), service.tenants().engine(), sc.workers);
  std::fflush(stderr);

  int sig = 0;
  sigwait(&stopSignals, &sig);
  fmt::print(stderr, "khive serve: {} received: no new connections, finishing {} request(s) in flight\n",
             sig == SIGTERM ? "SIGTERM" : "SIGINT", http.inFlight());
  std::fflush(stderr);
  http.quiesce();
  const auto drainLimit = std::chrono::milliseconds(std::max<std::int64_t>(sc.requestTimeBudgetMs, 1000) + 5000);
  const bool drained = http.drain(drainLimit);
  service.mcp().close(std::chrono::seconds(5));
  http.stop();
  service.tenants().close();
  fmt::print(stderr, "khive serve: stopped{}\n", drained ? "" : " (some requests did not finish in time)");
  return 0;
}

}  // namespace khive::server
