#pragma once
// The HTTP/1.1 transport of `khive serve` over libmicrohttpd (docs/serve.md, "Why
// libmicrohttpd"): a fixed pool of worker threads, each polling its share of the connections
// with epoll, keep-alive, a connection limit, an idle/slow-client timeout, a body size limit
// enforced while the body arrives, chunked streaming responses, and a graceful stop.

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct MHD_Daemon;

namespace khive::server {

// Value type; thread-compatible.
struct HttpRequest {
  std::string method;
  std::string path;  // without the query string, percent-decoded by the transport
  std::vector<std::pair<std::string, std::string>> query;    // decoded, in order (keys may repeat)
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::chrono::steady_clock::time_point started;

  std::string requestId;  // 16 hex digits, also sent back as X-Request-Id
  // Set by the handler for the completion callback (metrics and the request log).
  std::string route;      // the route template ("/v1/records/{id}"), never an id
  std::string tokenId;    // the public id of the caller's token, never the token
  std::string actor;

  // The first header with this (lower-case) name, or "".
  std::string_view header(std::string_view name) const;
};

// Value type; thread-compatible. With `stream` set the body is sent chunked: the transport
// calls stream() from the worker thread until it returns nullopt (it may block until the next
// chunk is ready).
struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::function<std::optional<std::string>()> stream;

  void set(std::string name, std::string value) { headers.emplace_back(std::move(name), std::move(value)); }
};

struct HttpOptions {
  std::string listen = "127.0.0.1";  // an IPv4 or IPv6 address
  int port = 8787;                   // 0: any free port (see HttpServer::port())
  int workers = 8;
  int maxConnections = 256;
  std::int64_t maxBodyBytes = 8 << 20;
  int idleTimeoutS = 30;
  // PEM text of the certificate (chain) and its private key: HTTPS (libmicrohttpd's GnuTLS)
  // when both are set.
  std::string tlsCert, tlsKey;
};

// Thread-safe: handle and completed are called concurrently from the worker threads.
class HttpServer {
 public:
  using Handler = std::function<HttpResponse(HttpRequest&)>;
  // Called once a response has been sent (or the connection failed), with its status and
  // whether the client received the whole response.
  using Completed = std::function<void(const HttpRequest&, int status, bool delivered)>;

  HttpServer(HttpOptions options, Handler handle, Completed completed);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts the workers. Error(InvalidInput) for a bad address, Error(Driver) when
  // the port cannot be bound.
  void start();
  int port() const noexcept { return port_; }
  // Requests received whose response has not been sent yet.
  int inFlight() const noexcept { return inFlight_.load(); }
  // Stops accepting connections: the listening socket is closed, open connections go on.
  void quiesce();
  // Waits until no request is in flight, at most `limit`; true when none is.
  bool drain(std::chrono::milliseconds limit);
  // Closes every connection and joins the workers.
  void stop();
  bool quiesced() const noexcept { return quiesced_.load(); }

  // libmicrohttpd callbacks (public for the C trampolines).
  struct Context;
  int onRequest(void* connection, const char* url, const char* method, const char* uploadData, std::size_t* uploadSize,
                void** state);
  void onCompleted(void** state, int terminationCode);

 private:
  HttpOptions options_;
  Handler handle_;
  Completed completed_;
  MHD_Daemon* daemon_ = nullptr;
  int port_ = 0;
  std::atomic<int> inFlight_{0};
  std::atomic<bool> quiesced_{false};
};

}  // namespace khive::server
