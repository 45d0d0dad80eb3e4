#pragma once
// `khive serve`: khive as a shared service (docs/serve.md). One process holds the database
// credentials and serves, over HTTP/1.1,
//   /v1/...          the JSON API of the verbs (one route per verb, OpenAPI 3.1 at /v1/openapi.json)
//   /mcp             MCP over Streamable HTTP (protocol 2025-06-18)
//   /healthz /readyz /metrics   operations
// Every /v1 and /mcp request carries a bearer token (runtime/tokens.h) and runs under its
// grants: a Runtime per token whose actor, read scope and grants are the token's, over one
// shared backend (SQLite) or a backend per namespace set whose row-level security scope is the
// token's namespaces (PostgreSQL).

#include <filesystem>
#include <optional>
#include <string>

#include "khive/runtime/config.h"

namespace khive::server {

struct ServeOptions {
  runtime::Config config;                 // [server], [[tokens]], [limits], engines, vocabulary
  std::optional<std::string> db;          // --db: a SQLite file (overrides the config's backend)
  std::optional<std::string> backendUrl;  // --backend: sqlite:... or postgresql://...
  std::optional<std::string> listen;      // --listen (overrides [server] listen)
  std::optional<int> port;                // --port (overrides [server] port; 0 = any free port)
};

// Opens the store, listens and serves until SIGTERM or SIGINT, then stops accepting, lets
// in-flight requests finish, and closes the connection pools. Prints
// "khive serve: listening on http://ADDRESS:PORT" on stderr once it accepts requests, then one
// JSON line per request. Returns the exit code; throws Error when it cannot start.
int serve(const ServeOptions& options);

}  // namespace khive::server
