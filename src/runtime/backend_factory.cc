#include "khive/runtime/backend_factory.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <optional>

#include "khive/backends/postgres.h"
#include "khive/backends/sqlite.h"
#include "khive/core/error.h"
#include "khive/runtime/runtime.h"

namespace khive::runtime {

std::unique_ptr<storage::Backend> openSqliteFile(const std::string& path, const std::vector<std::string>& extraSym,
                                                 int readers, std::int64_t writerCacheMiB) {
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
  o.readers = readers;
  o.extraSymmetricRelations = extraSym;
  if (writerCacheMiB > 0) o.writerCacheMiB = static_cast<int>(writerCacheMiB);
  return backends::openSqlite(o);
}

namespace {
bool isPostgresUrl(std::string_view url) {
  return url.starts_with("postgresql://") || url.starts_with("postgres://");
}

// The file of a sqlite: URL (":memory:" for an in-memory one), or nullopt for another scheme.
std::optional<std::string> sqliteUrlPath(std::string_view url) {
  if (url == "sqlite::memory:" || url == "sqlite://:memory:") return ":memory:";
  if (url.starts_with("sqlite://")) return std::string(url.substr(9));
  if (url.starts_with("sqlite:")) return std::string(url.substr(7));
  return std::nullopt;
}

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

// A PostgreSQL [[backends]] entry's options: its URL, write grouping, read replicas and their
// bounds.
backends::PostgresOptions configuredPgOptions(const BackendConfig& b, const std::vector<std::string>& namespaces,
                                              const std::vector<std::string>& extraSym) {
  auto o = pgOptions(b.url, namespaces, extraSym);
  o.groupWrites = b.groupWrites;
  o.replicas = b.replicas;
  o.replicaWait = std::chrono::milliseconds(b.replicaWaitMs);
  o.replicaMaxLag = std::chrono::milliseconds(b.replicaMaxLagMs);
  return o;
}
}  // namespace

std::unique_ptr<storage::Backend> openBackendUrl(std::string_view url, const std::vector<std::string>& namespaces,
                                                 const std::vector<std::string>& extraSym) {
  if (auto path = sqliteUrlPath(url)) return openSqliteFile(*path, extraSym);
  if (isPostgresUrl(url)) return openPg(std::string(url), namespaces, extraSym);
  throw Error(ErrorCode::InvalidInput, "runtime", "open",
              fmt::format("unrecognised backend URL '{}' (use sqlite:///path/file.db, sqlite::memory: or "
                          "postgresql://user@host:port/db)",
                          url));
}

std::unique_ptr<storage::Backend> openConfigured(const BackendConfig& b, const std::vector<std::string>& namespaces,
                                                 const std::vector<std::string>& extraSym) {
  if (b.kind == "postgres") return backends::openPostgres(configuredPgOptions(b, namespaces, extraSym));
  return openSqliteFile(b.path, extraSym, backends::SqliteOptions{}.readers, b.writerCacheMiB);
}

ServedStore openServedStore(const std::optional<std::string>& db, const std::optional<std::string>& backendUrl,
                            const Config& config, const ServedPools& pools, const std::vector<std::string>& extraSym) {
  std::optional<BackendConfig> pg;
  ServedStore store;
  // SQLite: a reader connection for every worker, so no request waits for one.
  const int readers = std::max(backends::SqliteOptions{}.readers, pools.poolSize);
  if (db) {
    store.shared = openSqliteFile(*db, extraSym, readers);
  } else if (backendUrl) {
    if (isPostgresUrl(*backendUrl)) pg = BackendConfig{.kind = "postgres", .url = *backendUrl};
    else if (auto path = sqliteUrlPath(*backendUrl)) store.shared = openSqliteFile(*path, extraSym, readers);
    else store.shared = openBackendUrl(*backendUrl, {"*"}, extraSym);
  } else if (!config.backends.empty()) {
    if (config.backends[0].kind == "postgres") pg = config.backends[0];
    else store.shared = openSqliteFile(config.backends[0].path, extraSym, readers, config.backends[0].writerCacheMiB);
  } else {
    store.shared = openSqliteFile(defaultDatabasePath().string(), extraSym, readers);
  }
  if (pg) {
    store.scoped = [pg = *pg, pools, extraSym, admin = config.server.adminUrl,
                    user = config.server.appUser](const std::vector<std::string>& namespaces) {
      auto o = configuredPgOptions(pg, namespaces, extraSym);
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
