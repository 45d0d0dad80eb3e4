#pragma once
// The explorer's static files (docs/explorer.md): the page in web/explorer/ and cytoscape.js
// from the npm lock in tools/explorer/, embedded into the binary at build time (the generated
// explorer_assets.cc, written by tools/explorer/embed.mjs) and served by `khive serve` at "/"
// and under "/explorer/". The page holds no data: everything it shows comes from /v1 with the
// token the user signs in with.
//
// Immutable tables and pure functions: thread-safe.

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

#include "server/http.h"

namespace khive::server {

// One embedded file. Value type.
struct StaticFile {
  std::string_view path;         // the URL path: "/", "/explorer/app.js", ...
  std::string_view contentType;  // with charset for text
  std::string_view etag;         // a quoted hash of the bytes
  const unsigned char* data;
  std::size_t size;
};

// Every embedded file (defined in the generated explorer_assets.cc; empty when the build was
// configured with -DKHIVE_EXPLORER=OFF).
std::span<const StaticFile> embeddedFiles();

// The response when `req.path` names an embedded file ("/index.html" is "/"); nullopt
// otherwise. GET and HEAD only (405 otherwise); If-None-Match gives 304. Sets req.route.
std::optional<HttpResponse> staticFile(HttpRequest& req);

}  // namespace khive::server
