#include "server/static_files.h"

namespace khive::server {

std::optional<HttpResponse> staticFile(HttpRequest& req) {
  const std::string_view path = req.path == "/index.html" ? std::string_view("/") : std::string_view(req.path);
  const StaticFile* found = nullptr;
  for (const auto& f : embeddedFiles())
    if (f.path == path) found = &f;
  if (!found) return std::nullopt;
  req.route = path == "/" ? "/" : "/explorer/{file}";
  HttpResponse r;
  if (req.method != "GET" && req.method != "HEAD") {
    r.status = 405;
    r.set("Allow", "GET, HEAD");
    r.set("Content-Type", "application/json");
    r.body = R"({"error":{"code":"method_not_allowed","message":"the explorer's files are read with GET"}})";
    return r;
  }
  // The page talks only to this server; it may not be framed, and no referrer leaves it.
  r.set("Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
  r.set("X-Content-Type-Options", "nosniff");
  r.set("Referrer-Policy", "no-referrer");
  r.set("Cache-Control", "no-cache");
  r.set("ETag", std::string(found->etag));
  if (req.header("if-none-match") == found->etag) {
    r.status = 304;
    return r;
  }
  r.set("Content-Type", std::string(found->contentType));
  r.body.assign(reinterpret_cast<const char*>(found->data), found->size);
  return r;
}

}  // namespace khive::server
