#include "khive/runtime/backend_factory.h"

#include <fmt/format.h>

#include <filesystem>

#include "khive/backends/postgres.h"
#include "khive/backends/sqlite.h"
#include "khive/core/error.h"
#include "khive/runtime/runtime.h"

namespace khive::runtime {

std::unique_ptr<storage::Backend> openSqliteFile(const std::string& path, const std::vector<std::string>& extraSym,
                                                 std::int64_t writerCacheMiB) {
  if (path.empty()) throw Error(ErrorCode::InvalidInput, "runtime", "open", "empty SQLite database path");
  if (path != ":memory:") {
    auto parent = std::filesystem::path(path).parent_path();
    std::error_code ec;
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec)
      throw Error(ErrorCode::Driver, "runtime", "open",
                  fmt::format("cannot create directory {} for the database: {}", parent.string(), ec.message()));
  }
  backends::SqliteOptions o;
  o.path = path;
  o.extraSymmetricRelations = extraSym;
  if (writerCacheMiB > 0) o.writerCacheMiB = static_cast<int>(writerCacheMiB);
  return backends::openSqlite(o);
}

namespace {
backends::PostgresOptions pgOptions(const std::string& url, const std::vector<std::string>& namespaces,
                                    const std::vector<std::string>& extraSym) {
  // The namespaces become the connection's grant list: khive names a bad one before the
  // server does (PostgreSQL refuses invalid UTF-8 with a message about encodings). "*" is
  // every namespace (a server's own connections).
  for (const auto& ns : namespaces)
    if (ns != "*") checkNamespace(ns);
  backends::PostgresOptions o;
  o.url = url;
  o.namespaces = namespaces;
  o.poolSize = 4;
  o.checkoutTimeout = std::chrono::milliseconds(5000);
  o.extraSymmetricRelations = extraSym;
  return o;
}

std::unique_ptr<storage::Backend> openPg(const std::string& url, const std::vector<std::string>& namespaces,
                                         const std::vector<std::string>& extraSym, bool groupWrites = true) {
  auto o = pgOptions(url, namespaces, extraSym);
  o.groupWrites = groupWrites;
  return backends::openPostgres(o);
}

// The [[backends]] entry's read replicas and their bounds.
void setReplicas(backends::PostgresOptions& o, const BackendConfig& b) {
  o.replicas = b.replicas;
  o.replicaWait = std::chrono::milliseconds(b.replicaWaitMs);
  o.replicaMaxLag = std::chrono::milliseconds(b.replicaMaxLagMs);
}
}  // namespace

std::unique_ptr<storage::Backend> openBackendUrl(std::string_view url, const std::vector<std::string>& namespaces,
                                                 const std::vector<std::string>& extraSym) {
  if (url == "sqlite::memory:" || url == "sqlite://:memory:") return openSqliteFile(":memory:", extraSym);
  if (url.starts_with("sqlite://")) return openSqliteFile(std::string(url.substr(9)), extraSym);
  if (url.starts_with("sqlite:")) return openSqliteFile(std::string(url.substr(7)), extraSym);
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) return openPg(std::string(url), namespaces, extraSym);
  throw Error(ErrorCode::InvalidInput, "runtime", "open",
              fmt::format("unrecognised backend URL '{}' (use sqlite:///path/file.db, sqlite::memory: or "
                          "postgresql://user@host:port/db)",
                          url));
}

std::unique_ptr<storage::Backend> openConfigured(const BackendConfig& b, const std::vector<std::string>& namespaces,
                                                 const std::vector<std::string>& extraSym) {
  if (b.kind == "postgres") {
    auto o = pgOptions(b.url, namespaces, extraSym);
    o.groupWrites = b.groupWrites;
    setReplicas(o, b);
    return backends::openPostgres(o);
  }
  return openSqliteFile(b.path, extraSym, b.writerCacheMiB);
}

ServedStore openServedStore(const std::optional<std::string>& db, const std::optional<std::string>& backendUrl,
                            const Config& config, const ServedPools& pools, const std::vector<std::string>& extraSym) {
  auto isPg = [](std::string_view url) { return url.starts_with("postgresql://") || url.starts_with("postgres://"); };
  std::optional<BackendConfig> pg;
  ServedStore store;
  if (db) {
    store.shared = openSqliteFile(*db, extraSym);
  } else if (backendUrl) {
    if (isPg(*backendUrl)) pg = BackendConfig{.kind = "postgres", .url = *backendUrl};
    else store.shared = openBackendUrl(*backendUrl, {"*"}, extraSym);
  } else if (!config.backends.empty()) {
    if (config.backends[0].kind == "postgres") pg = config.backends[0];
    else store.shared = openConfigured(config.backends[0], {"*"}, extraSym);
  } else {
    store.shared = openSqliteFile(defaultDatabasePath().string(), extraSym);
  }
  if (pg) {
    store.scoped = [pg = *pg, pools, extraSym, admin = config.server.adminUrl,
                    user = config.server.appUser](const std::vector<std::string>& namespaces) {
      auto o = pgOptions(pg.url, namespaces, extraSym);
      o.groupWrites = pg.groupWrites;
      setReplicas(o, pg);
      o.adminUrl = admin;
      o.user = user;
      o.poolSize = pools.poolSize;
      o.checkoutTimeout = pools.checkoutTimeout;
      return std::shared_ptr<storage::Backend>(backends::openPostgres(o));
    };
    store.shared = store.scoped({"*"});
  }
  return store;
}

}  // namespace khive::runtime
