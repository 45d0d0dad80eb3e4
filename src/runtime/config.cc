#include "khive/runtime/config.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
// toml++ 3.3 asserts on some malformed documents that it then reports as a parse error (a
// table header "[)x]"): a build without NDEBUG aborted where a release build names the line.
// Its internal checks are off in every build, so every build reports the error.
#define TOML_ASSERT(expr) static_assert(true)
#include <toml++/toml.h>

#include "khive/core/error.h"
#include "runtime/toml_text.h"

namespace khive::runtime {
namespace {

[[noreturn]] void fail(std::string_view source, const toml::source_region& where, std::string message) {
  throw Error(ErrorCode::InvalidInput, "config", "parse",
              fmt::format("{}:{}: {}", source, where.begin.line, message));
}

struct Reader {
  std::string_view source;

  void onlyKeys(const toml::table& t, std::string_view table, std::initializer_list<std::string_view> allowed) const {
    for (const auto& [key, node] : t) {
      bool ok = false;
      for (auto a : allowed) ok = ok || key.str() == a;
      if (!ok) {
        std::string names;
        for (auto a : allowed) names += (names.empty() ? "" : ", ") + std::string(a);
        fail(source, node.source(),
             fmt::format("unknown key '{}{}' (allowed: {})", table.empty() ? "" : std::string(table) + ".",
                         unshieldTomlText(key.str()), names));
      }
    }
  }

  std::string str(const toml::table& t, std::string_view table, std::string_view key, bool nonEmpty = true) const {
    const toml::node* n = t.get(key);
    if (!n) return {};
    auto v = n->value<std::string>();
    if (!v) fail(source, n->source(), fmt::format("'{}.{}' must be a string", table, key));
    if (nonEmpty && v->empty()) fail(source, n->source(), fmt::format("'{}.{}' must not be empty", table, key));
    return unshieldTomlText(*v);
  }

  std::vector<std::string> strings(const toml::table& t, std::string_view table, std::string_view key) const {
    std::vector<std::string> out;
    const toml::node* n = t.get(key);
    if (!n) return out;
    const toml::array* a = n->as_array();
    if (!a) fail(source, n->source(), fmt::format("'{}.{}' must be an array of strings", table, key));
    for (const auto& item : *a) {
      auto v = item.value<std::string>();
      if (!v || v->empty())
        fail(source, item.source(), fmt::format("'{}.{}' must hold non-empty strings", table, key));
      out.push_back(unshieldTomlText(*v));
    }
    return out;
  }

  std::int64_t integer(const toml::table& t, std::string_view table, std::string_view key, std::int64_t lo, std::int64_t hi) const {
    const toml::node* n = t.get(key);
    auto v = n ? n->value_exact<std::int64_t>() : std::nullopt;
    if (!v || *v < lo || *v > hi)
      fail(source, n ? n->source() : t.source(), fmt::format("'{}.{}' must be an integer in {}..{}", table, key, lo, hi));
    return *v;
  }

  bool boolean(const toml::table& t, std::string_view table, std::string_view key) const {
    const toml::node* n = t.get(key);
    auto v = n ? n->value_exact<bool>() : std::nullopt;
    if (!v) fail(source, n ? n->source() : t.source(), fmt::format("'{}.{}' must be true or false", table, key));
    return *v;
  }

  const toml::table& table(const toml::node& n, std::string_view name) const {
    const toml::table* t = n.as_table();
    if (!t) fail(source, n.source(), fmt::format("'{}' must be a table", name));
    return *t;
  }
};

// TOML allows non-ASCII text only in strings and comments: a non-ASCII character elsewhere is
// refused here with a message that says what to do (quote the key). Strings are skipped with
// their escapes; a string left open at the end of its line is toml++'s error to report. The
// scan is for the message: what keeps toml++ 3.3 from the characters it misclassifies is
// shieldTomlText() (runtime/toml_text.h), over the whole file.
void requireAsciiOutsideStrings(std::string_view text, std::string_view sourceName) {
  std::size_t line = 1;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
    } else if (c == '#') {
      while (i + 1 < text.size() && text[i + 1] != '\n') ++i;
    } else if (c == '"' || c == '\'') {
      const std::string_view close = text.substr(i, 3) == std::string(3, c) ? text.substr(i, 3) : text.substr(i, 1);
      for (i += close.size(); i < text.size(); ++i) {
        if (text[i] == '\n' && close.size() == 1) break;
        if (text[i] == '\n') ++line;
        if (c == '"' && text[i] == '\\' && i + 1 < text.size()) {
          if (text[++i] == '\n') ++line;
        } else if (text.substr(i, close.size()) == close) {
          i += close.size() - 1;
          break;
        }
      }
      if (i < text.size() && text[i] == '\n') ++line;
    } else if (static_cast<unsigned char>(c) >= 0x80) {
      throw Error(ErrorCode::InvalidInput, "config", "parse",
                  fmt::format("{}:{}: a non-ASCII character outside a string or comment (TOML keys are ASCII; "
                              "quote the key: \"...\" = ...)", sourceName, line));
    }
  }
}

}  // namespace

Config parseConfig(std::string_view text, std::string_view sourceName) {
  const std::string shielded = shieldTomlText(text, sourceName);
  requireAsciiOutsideStrings(text, sourceName);
  toml::table root;
  try {
    root = toml::parse(shielded, sourceName);
  } catch (const toml::parse_error& e) {
    throw Error(ErrorCode::InvalidInput, "config", "parse",
                fmt::format("{}:{}: {}", sourceName, e.source().begin.line, unshieldTomlText(e.description())));
  }
  Reader r{sourceName};
  Config config;
  r.onlyKeys(root, "", {"backends", "actor", "vocabulary", "grants", "engines", "search", "limits", "server", "tokens"});

  if (const toml::node* n = root.get("backends")) {
    const toml::array* arr = n->as_array();
    if (!arr) fail(sourceName, n->source(), "'backends' must be an array of tables ([[backends]])");
    for (const auto& item : *arr) {
      const toml::table& t = r.table(item, "backends");
      r.onlyKeys(t, "backends",
                 {"kind", "path", "url", "group_writes", "replicas", "replica_wait_ms", "replica_max_lag_ms",
                  "writer_cache_mib"});
      BackendConfig b;
      b.kind = r.str(t, "backends", "kind");
      if (b.kind == "sqlite") {
        b.path = r.str(t, "backends", "path");
        if (b.path.empty()) fail(sourceName, t.source(), "'backends.path' is required for kind = \"sqlite\"");
        if (t.get("url")) fail(sourceName, t.get("url")->source(), "'backends.url' is for kind = \"postgres\"");
        if (t.get("writer_cache_mib")) b.writerCacheMiB = r.integer(t, "backends", "writer_cache_mib", 1, 1 << 20);
        for (std::string_view key : {"group_writes", "replicas", "replica_wait_ms", "replica_max_lag_ms"}) {
          if (t.get(key))
            fail(sourceName, t.get(key)->source(), fmt::format("'backends.{}' is for kind = \"postgres\"", key));
        }
      } else if (b.kind == "postgres") {
        b.url = r.str(t, "backends", "url");
        if (b.url.empty()) fail(sourceName, t.source(), "'backends.url' is required for kind = \"postgres\"");
        if (t.get("path")) fail(sourceName, t.get("path")->source(), "'backends.path' is for kind = \"sqlite\"");
        if (t.get("writer_cache_mib"))
          fail(sourceName, t.get("writer_cache_mib")->source(), "'backends.writer_cache_mib' is for kind = \"sqlite\"");
        if (t.get("group_writes")) b.groupWrites = r.boolean(t, "backends", "group_writes");
        b.replicas = r.strings(t, "backends", "replicas");
        if (t.get("replica_wait_ms")) b.replicaWaitMs = r.integer(t, "backends", "replica_wait_ms", 0, 60000);
        if (t.get("replica_max_lag_ms"))
          b.replicaMaxLagMs = r.integer(t, "backends", "replica_max_lag_ms", 0, 86400000);
      } else if (b.kind.empty()) {
        fail(sourceName, t.source(), "'backends.kind' is required (\"sqlite\" or \"postgres\")");
      } else {
        fail(sourceName, t.get("kind")->source(),
             fmt::format("'backends.kind' must be \"sqlite\" or \"postgres\", not \"{}\"", b.kind));
      }
      config.backends.push_back(std::move(b));
    }
  }

  if (const toml::node* n = root.get("actor")) {
    const toml::table& t = r.table(*n, "actor");
    r.onlyKeys(t, "actor", {"id", "namespace", "visible_namespaces"});
    if (t.get("id")) config.actor.id = r.str(t, "actor", "id");
    if (t.get("namespace")) config.actor.ns = r.str(t, "actor", "namespace");
    config.actor.visibleNamespaces = r.strings(t, "actor", "visible_namespaces");
  }

  if (const toml::node* n = root.get("vocabulary")) {
    const toml::table& t = r.table(*n, "vocabulary");
    r.onlyKeys(t, "vocabulary", {"entity_kinds", "note_kinds", "relations", "symmetric_relations"});
    config.vocabulary.entityKinds = r.strings(t, "vocabulary", "entity_kinds");
    config.vocabulary.noteKinds = r.strings(t, "vocabulary", "note_kinds");
    config.vocabulary.relations = r.strings(t, "vocabulary", "relations");
    config.vocabulary.symmetricRelations = r.strings(t, "vocabulary", "symmetric_relations");
  }

  if (const toml::node* n = root.get("grants")) {
    const toml::array* arr = n->as_array();
    if (!arr) fail(sourceName, n->source(), "'grants' must be an array of tables ([[grants]])");
    for (const auto& item : *arr) {
      const toml::table& t = r.table(item, "grants");
      r.onlyKeys(t, "grants", {"actor", "verbs", "namespaces"});
      Grant g;
      if (t.get("actor")) g.actor = r.str(t, "grants", "actor");
      if (t.get("verbs")) g.verbs = r.strings(t, "grants", "verbs");
      if (t.get("namespaces")) g.namespaces = r.strings(t, "grants", "namespaces");
      config.grants.push_back(std::move(g));
    }
  }

  if (const toml::node* n = root.get("search")) {
    const toml::table& t = r.table(*n, "search");
    r.onlyKeys(t, "search", {"fusion", "rrf_k", "text_weight", "vector_weight"});
    auto& f = config.fusion;
    if (t.get("fusion")) {
      const auto name = r.str(t, "search", "fusion");
      auto s = retrieval::fusionStrategyNamed(name);
      if (!s || retrieval::singleSignal(*s))
        fail(sourceName, t.get("fusion")->source(),
             fmt::format("'search.fusion' must be \"rrf\", \"relative\", \"distribution\" or \"weighted\", not \"{}\"",
                         name));
      f.strategy = *s;
    }
    auto number = [&](std::string_view key, double& out, bool positive) {
      const toml::node* v = t.get(key);
      if (!v) return;
      auto d = v->value<double>();
      if (!d || !std::isfinite(*d) || (positive ? *d <= 0 : *d < 0))
        fail(sourceName, v->source(), fmt::format("'search.{}' must be a number {} 0", key, positive ? ">" : ">="));
      out = *d;
    };
    number("rrf_k", f.rrfK, true);
    number("text_weight", f.textWeight, false);
    number("vector_weight", f.vectorWeight, false);
  }

  if (const toml::node* n = root.get("limits")) {
    const toml::table& t = r.table(*n, "limits");
    r.onlyKeys(t, "limits",
               {"max_name_bytes", "max_text_bytes", "max_tags", "max_json_bytes", "max_json_depth", "max_query_bytes",
                "max_search_bytes", "max_import_line_bytes", "time_budget_ms", "work_budget"});
    Limits& l = config.limits;
    auto size = [&](std::string_view key, std::size_t& field, std::int64_t hi) {
      if (t.get(key)) field = static_cast<std::size_t>(r.integer(t, "limits", key, 1, hi));
    };
    constexpr std::int64_t kGiB = std::int64_t{1} << 30;
    size("max_name_bytes", l.maxNameBytes, 1 << 20);
    size("max_text_bytes", l.maxTextBytes, kGiB);
    size("max_tags", l.maxTags, 1 << 20);
    size("max_json_bytes", l.maxJsonBytes, kGiB);
    size("max_query_bytes", l.maxQueryBytes, 16 << 20);
    size("max_search_bytes", l.maxSearchBytes, 1 << 20);
    size("max_import_line_bytes", l.maxImportLineBytes, kGiB);
    // Both engines parse deeper JSON than this (SQLite's JSON1 stops at 1000 levels), so a
    // value khive accepted is one either backend stores and exports.
    if (t.get("max_json_depth")) l.maxJsonDepth = static_cast<int>(r.integer(t, "limits", "max_json_depth", 1, 512));
    if (t.get("time_budget_ms")) l.timeBudget = std::chrono::milliseconds(r.integer(t, "limits", "time_budget_ms", 1, 86'400'000));
    if (t.get("work_budget")) l.workBudget = r.integer(t, "limits", "work_budget", 1, std::int64_t{1} << 50);
  }

  if (const toml::node* n = root.get("engines")) {
    const toml::array* arr = n->as_array();
    if (!arr) fail(sourceName, n->source(), "'engines' must be an array of tables ([[engines]])");
    bool haveDefault = false;
    for (const auto& item : *arr) {
      const toml::table& t = r.table(item, "engines");
      r.onlyKeys(t, "engines",
                 {"name", "kind", "url", "model", "path", "dimensions", "timeout_ms", "batch_size", "api_key_env", "default",
                  "embed_on_write"});
      retrieval::EngineSpec e;
      e.name = r.str(t, "engines", "name");
      if (e.name.empty()) fail(sourceName, t.source(), "'engines.name' is required");
      for (const auto& other : config.engines)
        if (other.name == e.name)
          fail(sourceName, t.get("name")->source(), fmt::format("'engines.name' \"{}\" is used twice", e.name));
      e.kind = r.str(t, "engines", "kind");
      // Keys that belong to the other kind are errors, not silently ignored.
      auto forbid = [&](std::initializer_list<std::string_view> keys, std::string_view kind) {
        for (auto k : keys)
          if (const toml::node* x = t.get(k))
            fail(sourceName, x->source(), fmt::format("'engines.{}' is for kind = \"{}\"", k, kind));
      };
      if (e.kind == "openai") {
        e.url = r.str(t, "engines", "url");
        if (e.url.empty()) fail(sourceName, t.source(), "'engines.url' is required for kind = \"openai\"");
        if (!e.url.starts_with("http://") && !e.url.starts_with("https://"))
          fail(sourceName, t.get("url")->source(), fmt::format("'engines.url' must start with http:// or https://, not \"{}\"", e.url));
        e.model = r.str(t, "engines", "model");
        if (e.model.empty()) fail(sourceName, t.source(), "'engines.model' is required for kind = \"openai\"");
        e.apiKeyEnv = r.str(t, "engines", "api_key_env");
        if (t.get("timeout_ms")) e.timeoutMs = r.integer(t, "engines", "timeout_ms", 1, 3'600'000);
        if (t.get("batch_size")) e.batchSize = r.integer(t, "engines", "batch_size", 1, 4096);
        forbid({"path"}, "fasttext");
      } else if (e.kind == "fasttext" || e.kind == "static") {
        e.path = r.str(t, "engines", "path");
        if (e.path.empty())
          fail(sourceName, t.source(), fmt::format("'engines.path' is required for kind = \"{}\"", e.kind));
        forbid({"url", "model", "api_key_env", "timeout_ms", "batch_size"}, "openai");
      } else if (e.kind.empty()) {
        fail(sourceName, t.source(), "'engines.kind' is required (\"openai\", \"fasttext\" or \"static\")");
      } else {
        fail(sourceName, t.get("kind")->source(),
             fmt::format("'engines.kind' must be \"openai\", \"fasttext\" or \"static\", not \"{}\"", e.kind));
      }
      if (t.get("dimensions")) e.dimensions = r.integer(t, "engines", "dimensions", 1, 65536);
      if (t.get("default")) e.isDefault = r.boolean(t, "engines", "default");
      if (t.get("embed_on_write")) e.embedOnWrite = r.boolean(t, "engines", "embed_on_write");
      if (e.isDefault && haveDefault) fail(sourceName, t.get("default")->source(), "only one engine may have 'default = true'");
      haveDefault = haveDefault || e.isDefault;
      config.engines.push_back(std::move(e));
    }
  }
  if (const toml::node* n = root.get("server")) {
    const toml::table& t = r.table(*n, "server");
    r.onlyKeys(t, "server",
               {"listen", "port", "workers", "max_connections", "max_body_bytes", "request_time_budget_ms",
                "slow_client_timeout_s", "token_file", "allowed_origins", "postgres_admin_url", "postgres_user",
                "tls_cert_file", "tls_key_file", "jwt"});
    ServerConfig& s = config.server;
    if (t.get("listen")) s.listen = r.str(t, "server", "listen");
    if (t.get("port")) s.port = static_cast<int>(r.integer(t, "server", "port", 0, 65535));
    if (t.get("workers")) s.workers = static_cast<int>(r.integer(t, "server", "workers", 1, 1024));
    if (t.get("max_connections")) s.maxConnections = static_cast<int>(r.integer(t, "server", "max_connections", 1, 1 << 20));
    if (t.get("max_body_bytes")) s.maxBodyBytes = r.integer(t, "server", "max_body_bytes", 1, std::int64_t{1} << 32);
    if (t.get("request_time_budget_ms"))
      s.requestTimeBudgetMs = r.integer(t, "server", "request_time_budget_ms", 1, 86'400'000);
    if (t.get("slow_client_timeout_s")) s.slowClientTimeoutS = static_cast<int>(r.integer(t, "server", "slow_client_timeout_s", 1, 86'400));
    s.tokenFile = r.str(t, "server", "token_file");
    s.allowedOrigins = r.strings(t, "server", "allowed_origins");
    s.adminUrl = r.str(t, "server", "postgres_admin_url");
    s.appUser = r.str(t, "server", "postgres_user");
    s.tlsCertFile = r.str(t, "server", "tls_cert_file");
    s.tlsKeyFile = r.str(t, "server", "tls_key_file");
    if (s.tlsCertFile.empty() != s.tlsKeyFile.empty())
      fail(sourceName, t.source(),
           "[server] tls_cert_file and tls_key_file go together: give both for HTTPS, or neither");
    if (const toml::node* jn = t.get("jwt")) {
      const toml::table& j = r.table(*jn, "server.jwt");
      r.onlyKeys(
          j, "server.jwt",
          {"issuer", "audience", "jwks_file", "resource", "actor_claim", "read_claim", "write_claim", "leeway_s"});
      JwtConfig& c = s.jwt;
      c.issuer = r.str(j, "server.jwt", "issuer");
      c.audience = r.str(j, "server.jwt", "audience");
      c.jwksFile = r.str(j, "server.jwt", "jwks_file");
      c.resource = r.str(j, "server.jwt", "resource");
      if (j.get("actor_claim")) c.actorClaim = r.str(j, "server.jwt", "actor_claim");
      if (j.get("read_claim")) c.readClaim = r.str(j, "server.jwt", "read_claim");
      if (j.get("write_claim")) c.writeClaim = r.str(j, "server.jwt", "write_claim");
      if (j.get("leeway_s")) c.leewayS = r.integer(j, "server.jwt", "leeway_s", 0, 3600);
      if (c.issuer.empty() || c.audience.empty() || c.jwksFile.empty())
        fail(sourceName, j.source(), "[server.jwt] needs issuer, audience and jwks_file");
    }
  }

  if (const toml::node* n = root.get("tokens")) {
    const toml::array* arr = n->as_array();
    if (!arr) fail(sourceName, n->source(), "'tokens' must be an array of tables ([[tokens]])");
    for (const auto& item : *arr) {
      const toml::table& t = r.table(item, "tokens");
      r.onlyKeys(t, "tokens", {"id", "sha256", "actor", "read", "write", "read_only", "expires"});
      TokenConfig k;
      k.sha256 = r.str(t, "tokens", "sha256");
      bool hex = k.sha256.size() == 64 && k.sha256.find_first_not_of("0123456789abcdef") == std::string::npos;
      if (!hex) fail(sourceName, t.source(), "'tokens.sha256' must be 64 lower-case hex digits (`khive token hash` prints it)");
      k.id = t.get("id") ? r.str(t, "tokens", "id") : "config-" + k.sha256.substr(0, 8);
      k.actor = r.str(t, "tokens", "actor");
      if (k.actor.empty()) fail(sourceName, t.source(), "'tokens.actor' is required");
      k.readNamespaces = r.strings(t, "tokens", "read");
      k.writeNamespaces = r.strings(t, "tokens", "write");
      if (k.readNamespaces.empty() && k.writeNamespaces.empty())
        fail(sourceName, t.source(), "a token needs 'tokens.read' or 'tokens.write' namespaces");
      if (t.get("read_only")) k.readOnly = r.boolean(t, "tokens", "read_only");
      if (t.get("expires")) k.expiresAt = r.integer(t, "tokens", "expires", 0, std::int64_t{1} << 40);
      config.tokens.push_back(std::move(k));
    }
  }
  return config;
}

Config loadConfigFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::NotFound, "config", "load", fmt::format("cannot read config file {}", path.string()));
  // A config file is small: one larger than this (or endless, as /dev/zero) is refused
  // without being held.
  constexpr std::streamsize kMaxConfigBytes = 1 << 20;
  std::string text(static_cast<std::size_t>(kMaxConfigBytes) + 1, '\0');
  in.read(text.data(), kMaxConfigBytes + 1);
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > static_cast<std::size_t>(kMaxConfigBytes))
    throw Error(ErrorCode::InvalidInput, "config", "load",
                fmt::format("config file {} is larger than {} bytes", path.string(), kMaxConfigBytes));
  Config c = parseConfig(text, path.string());
  c.source = path;
  return c;
}

namespace {
std::filesystem::path home() {
  const char* h = std::getenv("HOME");
  return h && *h ? std::filesystem::path(h) : std::filesystem::current_path();
}
}  // namespace

std::filesystem::path userConfigDir() {
  const char* x = std::getenv("XDG_CONFIG_HOME");
  return (x && *x ? std::filesystem::path(x) : home() / ".config") / "khive";
}

std::filesystem::path userDataDir() {
  const char* x = std::getenv("XDG_DATA_HOME");
  return (x && *x ? std::filesystem::path(x) : home() / ".local" / "share") / "khive";
}

std::filesystem::path defaultDatabasePath() { return userDataDir() / "khive.db"; }

std::optional<std::filesystem::path> findConfigFile(const std::optional<std::string>& explicitPath) {
  auto mustExist = [](const std::filesystem::path& p, std::string_view from) {
    if (!std::filesystem::is_regular_file(p))
      throw Error(ErrorCode::NotFound, "config", "find", fmt::format("config file {} (from {}) does not exist", p.string(), from));
    return p;
  };
  if (explicitPath) return mustExist(*explicitPath, "--config");
  if (const char* env = std::getenv("KHIVE_CONFIG"); env && *env) return mustExist(env, "KHIVE_CONFIG");
  if (std::filesystem::is_regular_file("khive.toml")) return std::filesystem::path("khive.toml");
  auto user = userConfigDir() / "khive.toml";
  if (std::filesystem::is_regular_file(user)) return user;
  return std::nullopt;
}

}  // namespace khive::runtime
