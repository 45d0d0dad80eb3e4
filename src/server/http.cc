#include "server/http.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <random>
#include <thread>

#include "khive/core/error.h"

namespace khive::server {

std::string_view HttpRequest::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k == name) return v;
  return {};
}

struct HttpServer::Context {
  HttpRequest request;
  bool tooLarge = false;
  int status = 0;
};

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

MHD_Result collect(void* cls, MHD_ValueKind, const char* key, const char* value) {
  auto* out = static_cast<std::vector<std::pair<std::string, std::string>>*>(cls);
  out->emplace_back(key ? key : "", value ? value : "");
  return MHD_YES;
}

MHD_Result accessTrampoline(void* cls, MHD_Connection* connection, const char* url, const char* method, const char*,
                            const char* uploadData, size_t* uploadSize, void** state) {
  return static_cast<HttpServer*>(cls)->onRequest(connection, url, method, uploadData, uploadSize, state) ? MHD_YES : MHD_NO;
}

void completedTrampoline(void* cls, MHD_Connection*, void** state, MHD_RequestTerminationCode toe) {
  static_cast<HttpServer*>(cls)->onCompleted(state, static_cast<int>(toe));
}

// The reader of a streamed body: pulls the next chunk from the handler's stream.
struct Streamed {
  std::function<std::optional<std::string>()> next;
  std::string pending;
  std::size_t offset = 0;
  bool done = false;
};

ssize_t readStream(void* cls, uint64_t, char* buf, size_t max) {
  auto* s = static_cast<Streamed*>(cls);
  while (s->offset >= s->pending.size()) {
    if (s->done) return MHD_CONTENT_READER_END_OF_STREAM;
    std::optional<std::string> chunk;
    try {
      chunk = s->next();
    } catch (...) {
      return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    if (!chunk) {
      s->done = true;
      return MHD_CONTENT_READER_END_OF_STREAM;
    }
    s->pending = std::move(*chunk);
    s->offset = 0;
  }
  const std::size_t n = std::min(max, s->pending.size() - s->offset);
  std::memcpy(buf, s->pending.data() + s->offset, n);
  s->offset += n;
  return static_cast<ssize_t>(n);
}

void freeStream(void* cls) { delete static_cast<Streamed*>(cls); }

}  // namespace

HttpServer::HttpServer(HttpOptions options, Handler handle, Completed completed)
    : options_(std::move(options)), handle_(std::move(handle)), completed_(std::move(completed)) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::start() {
  sockaddr_in v4{};
  sockaddr_in6 v6{};
  const sockaddr* addr = nullptr;
  // Turbo: libmicrohttpd tries non-blocking reads and writes before waiting on epoll for them,
  // and closes connections without a shutdown() first: fewer system calls and context switches
  // per request.
  unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO | MHD_USE_ITC | MHD_USE_ERROR_LOG;
  if (inet_pton(AF_INET, options_.listen.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    v4.sin_port = htons(static_cast<uint16_t>(options_.port));
    addr = reinterpret_cast<const sockaddr*>(&v4);
  } else if (inet_pton(AF_INET6, options_.listen.c_str(), &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(static_cast<uint16_t>(options_.port));
    addr = reinterpret_cast<const sockaddr*>(&v6);
    flags |= MHD_USE_IPv6;
  } else {
    throw Error(ErrorCode::InvalidInput, "serve", "listen",
                fmt::format("[server] listen = \"{}\" is not an IPv4 or IPv6 address (e.g. \"127.0.0.1\" or \"::1\")",
                            options_.listen));
  }
  // HTTPS: the certificate and key go in as an option array, empty for plain HTTP.
  const bool tls = !options_.tlsCert.empty();
  if (tls) flags |= MHD_USE_TLS;
  MHD_OptionItem tlsOptions[] = {{tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, const_cast<char*>(options_.tlsKey.c_str())},
                                 {MHD_OPTION_HTTPS_MEM_CERT, 0, const_cast<char*>(options_.tlsCert.c_str())},
                                 {MHD_OPTION_END, 0, nullptr}};
  daemon_ = MHD_start_daemon(flags, static_cast<uint16_t>(options_.port), nullptr, nullptr, &accessTrampoline, this,
                             MHD_OPTION_SOCK_ADDR, addr,                                                  //
                             MHD_OPTION_THREAD_POOL_SIZE, static_cast<unsigned int>(options_.workers),    //
                             MHD_OPTION_CONNECTION_LIMIT, static_cast<unsigned int>(options_.maxConnections),
                             MHD_OPTION_CONNECTION_TIMEOUT, static_cast<unsigned int>(options_.idleTimeoutS),
                             MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,                                       //
                             MHD_OPTION_NOTIFY_COMPLETED, &completedTrampoline, this,                    //
                             MHD_OPTION_ARRAY, tlsOptions,                                                //
                             MHD_OPTION_END);
  if (!daemon_)
    throw Error(ErrorCode::Driver, "serve", "listen",
                fmt::format("cannot listen on {} port {} (in use, or not permitted{}): set [server] listen and port",
                            options_.listen, options_.port,
                            tls ? "; or [server] tls_cert_file / tls_key_file are not a PEM certificate and its key" : ""));
  const MHD_DaemonInfo* info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
  port_ = info ? info->port : options_.port;
}

int HttpServer::onRequest(void* connection, const char* url, const char* method, const char* uploadData,
                          std::size_t* uploadSize, void** state) {
  auto* conn = static_cast<MHD_Connection*>(connection);
  auto* ctx = static_cast<Context*>(*state);
  if (!ctx) {
    ctx = new Context();
    *state = ctx;
    ++inFlight_;
    ctx->request.started = std::chrono::steady_clock::now();
    thread_local std::mt19937_64 ids{std::random_device{}()};
    ctx->request.requestId = fmt::format("{:016x}", ids());
    ctx->request.method = method ? method : "";
    ctx->request.path = url ? url : "";
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, &collect, &ctx->request.query);
    MHD_get_connection_values(conn, MHD_HEADER_KIND, &collect, &ctx->request.headers);
    for (auto& h : ctx->request.headers) h.first = lower(h.first);
    const auto length = ctx->request.header("content-length");
    if (!length.empty()) {
      char* end = nullptr;
      const std::string text(length);
      const unsigned long long n = std::strtoull(text.c_str(), &end, 10);
      ctx->tooLarge = n > static_cast<unsigned long long>(options_.maxBodyBytes);
    }
    if (!ctx->tooLarge) return 1;
    // Refused before the body is read; the connection is closed after the answer.
  } else if (*uploadSize > 0) {
    if (!ctx->tooLarge && ctx->request.body.size() + *uploadSize <= static_cast<std::size_t>(options_.maxBodyBytes)) {
      ctx->request.body.append(uploadData, *uploadSize);
    } else {
      ctx->tooLarge = true;
      ctx->request.body.clear();
    }
    *uploadSize = 0;
    return 1;
  }

  HttpResponse res;
  if (ctx->tooLarge) {
    res.status = 413;
    res.set("Content-Type", "application/json");
    res.body = fmt::format(
        R"x({{"error":{{"code":"payload_too_large","message":"the request body is larger than [server] max_body_bytes ({} bytes)","request_id":"{}"}}}})x",
        options_.maxBodyBytes, ctx->request.requestId);
  } else {
    try {
      res = handle_(ctx->request);
    } catch (const std::exception& e) {
      res = HttpResponse{};
      res.status = 500;
      res.set("Content-Type", "application/json");
      res.body = R"({"error":{"code":"internal","message":"unexpected failure while handling the request"}})";
    }
  }
  ctx->status = res.status;
  res.set("X-Request-Id", ctx->request.requestId);
  MHD_Response* r = nullptr;
  if (res.stream) {
    auto* s = new Streamed{std::move(res.stream)};
    r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, &readStream, s, &freeStream);
  } else {
    r = MHD_create_response_from_buffer(res.body.size(), res.body.data(), MHD_RESPMEM_MUST_COPY);
  }
  if (!r) return 0;
  for (const auto& [k, v] : res.headers) MHD_add_response_header(r, k.c_str(), v.c_str());
  if (quiesced_.load() || ctx->tooLarge) MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
  const MHD_Result ok = MHD_queue_response(conn, static_cast<unsigned int>(res.status), r);
  MHD_destroy_response(r);
  return ok == MHD_YES ? 1 : 0;
}

void HttpServer::onCompleted(void** state, int terminationCode) {
  auto* ctx = static_cast<Context*>(*state);
  if (!ctx) return;
  *state = nullptr;
  try {
    if (completed_) completed_(ctx->request, ctx->status, terminationCode == MHD_REQUEST_TERMINATED_COMPLETED_OK);
  } catch (...) {
    // A failed log line must not take the worker down.
  }
  delete ctx;
  --inFlight_;
}

void HttpServer::quiesce() {
  if (!daemon_ || quiesced_.exchange(true)) return;
  const MHD_socket fd = MHD_quiesce_daemon(daemon_);
  if (fd != MHD_INVALID_SOCKET) ::close(fd);
}

bool HttpServer::drain(std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (inFlight_.load() > 0) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

void HttpServer::stop() {
  if (!daemon_) return;
  MHD_stop_daemon(daemon_);
  daemon_ = nullptr;
}

}  // namespace khive::server
