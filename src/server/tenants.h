#pragma once
// Who a request is and what it may do: bearer tokens (the [[tokens]] of the config and the
// token file, reloaded when the file changes) and one Runtime per token, built on first use and
// kept. The store is shared: one backend on SQLite; on PostgreSQL one backend (pool) per
// distinct set of token namespaces, so that row-level security scopes every statement of a
// request to its token's namespaces.
//
// Thread-safe.

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "khive/runtime/runtime.h"
#include "khive/server/server.h"

namespace khive::server {

class Tenants {
 public:
  // Opens the store (running its migrations) with every namespace in scope. Throws Error.
  explicit Tenants(const ServeOptions& options);
  ~Tenants();

  // The token `bearer` names, or nullopt with `problem` saying why (unknown, expired, revoked).
  std::optional<runtime::TokenConfig> authenticate(std::string_view bearer, std::string& problem);
  // The runtime of a token; with a sessionId a new one whose events carry it (MCP sessions).
  std::shared_ptr<runtime::Runtime> runtimeFor(const runtime::TokenConfig& token,
                                               const std::optional<std::string>& sessionId = std::nullopt);
  // True when the store answers a query; else false with the problem.
  bool ready(std::string& problem);
  const std::string& engine() const noexcept { return engine_; }
  std::size_t tokenCount();
  // The counters of every backend with a pool: ("*" for the shared one, else its namespaces
  // joined by ",", stats).
  std::vector<std::pair<std::string, storage::BackendStats>> poolStats();
  // Drops every runtime and closes the pools.
  void close();

 private:
  std::shared_ptr<storage::Backend> backendFor(const std::vector<std::string>& namespaces);
  void reloadTokens();

  ServeOptions options_;
  std::string engine_;  // the backend's engine name, as its info() gives it
  // Opens a backend for one namespace set, when the engine scopes per connection; else empty.
  std::function<std::shared_ptr<storage::Backend>(const std::vector<std::string>&)> openScoped_;
  std::vector<std::string> extraSymmetric_;
  std::filesystem::path tokenFile_;

  std::mutex mu_;
  std::shared_ptr<storage::Backend> base_;                                      // every namespace
  std::map<std::string, std::shared_ptr<storage::Backend>> scoped_;             // PostgreSQL: per namespace set
  std::map<std::string, std::shared_ptr<runtime::Runtime>> runtimes_;          // per token (id + hash)
  std::map<std::string, runtime::TokenConfig, std::less<>> tokens_;           // by SHA-256 hex
  std::optional<std::filesystem::file_time_type> tokenFileTime_;
  std::chrono::steady_clock::time_point tokensCheckedAt_{};
};

// The sorted union of a token's read and write namespaces.
std::vector<std::string> tokenNamespaces(const runtime::TokenConfig& token);

}  // namespace khive::server
