#include "server/tenants.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "khive/core/error.h"
#include "khive/runtime/backend_factory.h"
#include "khive/runtime/tokens.h"
#include "khive/runtime/vocabulary.h"

namespace khive::server {
namespace {

std::int64_t nowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The token file is looked at again at most this often, so a revoke takes effect within it.
constexpr auto kTokenRecheck = std::chrono::milliseconds(500);

}  // namespace

std::vector<std::string> tokenNamespaces(const runtime::TokenConfig& t) {
  std::set<std::string> all(t.readNamespaces.begin(), t.readNamespaces.end());
  all.insert(t.writeNamespaces.begin(), t.writeNamespaces.end());
  return {all.begin(), all.end()};
}

Tenants::Tenants(const ServeOptions& options) : options_(options) {
  runtime::Vocabulary vocab(options_.config.vocabulary);
  extraSymmetric_ = vocab.extraSymmetricRelations();
  tokenFile_ = runtime::tokenFilePath(options_.config);
  const auto& cfg = options_.config;
  runtime::ServedPools pools;
  pools.poolSize = std::max(1, cfg.server.workers);
  pools.checkoutTimeout = std::chrono::milliseconds(std::min<std::int64_t>(cfg.server.requestTimeBudgetMs, 10000));
  auto store = runtime::openServedStore(options_.db, options_.backendUrl, cfg, pools, extraSymmetric_);
  base_ = std::move(store.shared);
  openScoped_ = std::move(store.scoped);
  engine_ = base_->info().engine;
  base_->setReadBudget({std::chrono::milliseconds(cfg.server.requestTimeBudgetMs), cfg.limits.workBudget});
  reloadTokens();
}

Tenants::~Tenants() { close(); }

void Tenants::close() {
  std::lock_guard lock(mu_);
  runtimes_.clear();
  scoped_.clear();
  base_.reset();
}

std::shared_ptr<storage::Backend> Tenants::backendFor(const std::vector<std::string>& namespaces) {
  if (!openScoped_) return base_;
  const std::string key = fmt::format("{}", fmt::join(namespaces, "\n"));
  if (auto it = scoped_.find(key); it != scoped_.end()) return it->second;
  std::shared_ptr<storage::Backend> b = openScoped_(namespaces);
  scoped_.emplace(key, b);
  return b;
}

void Tenants::reloadTokens() {
  // Called with mu_ held (or from the constructor).
  std::error_code ec;
  auto mtime = std::filesystem::last_write_time(tokenFile_, ec);
  std::optional<std::filesystem::file_time_type> seen = ec ? std::nullopt : std::optional(mtime);
  tokensCheckedAt_ = std::chrono::steady_clock::now();
  if (!tokens_.empty() && seen == tokenFileTime_) return;
  std::map<std::string, runtime::TokenConfig, std::less<>> next;
  for (const auto& t : options_.config.tokens) next[t.sha256] = t;
  for (const auto& t : runtime::TokenFile(tokenFile_).load()) next[t.sha256] = t;
  tokens_ = std::move(next);
  tokenFileTime_ = seen;
}

std::vector<std::pair<std::string, storage::BackendStats>> Tenants::poolStats() {
  std::vector<std::pair<std::string, std::shared_ptr<storage::Backend>>> backends;
  {
    std::lock_guard lock(mu_);
    if (base_) backends.emplace_back("*", base_);
    for (const auto& [key, b] : scoped_) {
      std::string label = key;
      std::replace(label.begin(), label.end(), '\n', ',');
      backends.emplace_back(std::move(label), b);
    }
  }
  std::vector<std::pair<std::string, storage::BackendStats>> out;
  for (auto& [label, b] : backends) {
    auto s = b->stats();
    if (s.poolSize > 0 || !s.writeGroupSizes.empty()) out.emplace_back(std::move(label), std::move(s));
  }
  return out;
}

std::size_t Tenants::tokenCount() {
  std::lock_guard lock(mu_);
  return tokens_.size();
}

std::optional<runtime::TokenConfig> Tenants::authenticate(std::string_view bearer, std::string& problem) {
  // A connection sends the same token request after request: its worker thread keeps the
  // hash of the last one it saw.
  thread_local std::string lastBearer, lastHash;
  if (bearer != lastBearer) {
    lastHash = runtime::sha256Hex(bearer);
    lastBearer = std::string(bearer);
  }
  const std::string& hash = lastHash;
  std::lock_guard lock(mu_);
  if (std::chrono::steady_clock::now() - tokensCheckedAt_ > kTokenRecheck) {
    try {
      reloadTokens();
    } catch (const Error&) {
      // A token file being rewritten by hand stays at its last good content.
    }
  }
  auto it = tokens_.find(hash);
  if (it == tokens_.end()) {
    problem = "the token is not known";
    return std::nullopt;
  }
  const auto& t = it->second;
  if (t.revokedAt) {
    problem = "the token was revoked";
    return std::nullopt;
  }
  if (t.expiresAt && *t.expiresAt <= nowSeconds()) {
    problem = "the token expired";
    return std::nullopt;
  }
  return t;
}

std::shared_ptr<runtime::Runtime> Tenants::runtimeFor(const runtime::TokenConfig& t, const std::optional<std::string>& sessionId) {
  const std::string key = t.id + ":" + t.sha256;
  std::lock_guard lock(mu_);
  if (!base_) throw Error(ErrorCode::Pool, "serve", "runtime", "the server is shutting down");
  if (!sessionId)
    if (auto it = runtimes_.find(key); it != runtimes_.end()) return it->second;
  runtime::Config c = options_.config;
  const auto namespaces = tokenNamespaces(t);
  c.actor.id = t.actor;
  c.actor.ns = !t.writeNamespaces.empty() ? t.writeNamespaces.front() : t.readNamespaces.front();
  c.actor.visibleNamespaces = namespaces;
  // The token's grants replace [[grants]]: every verb in its write namespaces, none when it is
  // read-only.
  runtime::Grant g;
  g.actor = t.actor;
  g.verbs = t.readOnly ? std::vector<std::string>{} : std::vector<std::string>{"*"};
  g.namespaces = t.readOnly ? std::vector<std::string>{} : t.writeNamespaces;
  c.grants = {g};
  c.limits.timeBudget = std::chrono::milliseconds(options_.config.server.requestTimeBudgetMs);
  auto rt = std::make_shared<runtime::Runtime>(backendFor(namespaces), runtime::RuntimeOptions{.config = c, .sessionId = sessionId, .hosted = true});
  if (!sessionId) runtimes_.emplace(key, rt);
  return rt;
}

bool Tenants::ready(std::string& problem) {
  std::shared_ptr<storage::Backend> b;
  {
    std::lock_guard lock(mu_);
    b = base_;
  }
  if (!b) {
    problem = "shutting down";
    return false;
  }
  try {
    b->sql().reader()->queryScalar("SELECT 1");
    return true;
  } catch (const Error& e) {
    problem = e.message();
    return false;
  }
}

}  // namespace khive::server
