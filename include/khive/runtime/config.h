#pragma once
// khive.toml: where the binary finds its database, who the caller is, and which vocabulary
// additions apply. See README "Configuration".
//
//   [[backends]]                 # the first entry is the one used
//   kind = "sqlite"              # "sqlite" (path) or "postgres" (url)
//   path = "/var/lib/khive/khive.db"
//   # group_writes = false       # postgres only: commit each single write on its own
//                                # (default true: concurrent single writes share a commit)
//   # replicas = ["postgresql://khive_app@replica1:5432/khive"]  # postgres only: read replicas
//   # replica_wait_ms = 200      # read-your-writes: how long a read waits for a replica to replay
//   # replica_max_lag_ms = 5000  # a replica lagging more is skipped (docs/deployment.md)
//
//   [actor]
//   id = "alice"                         # recorded on every event
//   namespace = "default"                # write namespace (--namespace overrides)
//   visible_namespaces = ["default"]     # read scope (the write namespace is always added)
//
//   [vocabulary]                 # additions to the default "kg" vocabulary; removals are not allowed
//   entity_kinds = ["paper"]
//   note_kinds = []
//   relations = ["cites"]
//   symmetric_relations = []     # also added to relations
//
//   [[engines]]                  # embedding engines for vector search (retrieval/embedding.h)
//   name = "local"               # unique; vectors are stored under this name
//   kind = "openai"              # "openai" (url, model, api_key_env, timeout_ms, batch_size)
//   url = "http://127.0.0.1:8080"  #   or "fasttext" (path = "/models/cc.en.bin"), or "static"
//                                #   (path = word vectors: khive binary or word2vec/GloVe text)
//   model = "nomic-embed-text"
//   dimensions = 768             # optional: a vector of another dimension is an error
//   default = true               # optional: the engine search and writes use (else the first)
//   embed_on_write = true        # optional: create/update embed the record (default true)
//
//   [search]                     # optional: how search fuses text and vector hits
//   fusion = "rrf"               # "rrf", "relative", "distribution" or "weighted"
//   rrf_k = 60                   # rrf only; > 0
//   text_weight = 1.0            # >= 0 each
//   vector_weight = 1.0
//
//   [limits]                     # optional; defaults in khive/core/limits.h
//   max_name_bytes = 4096        # max_text_bytes, max_tags, max_json_bytes, max_json_depth,
//   time_budget_ms = 30000       # max_query_bytes, max_search_bytes, max_import_line_bytes,
//                                # work_budget
//
//   [[grants]]                   # optional static grant list; none = allow all
//   actor = "alice"              # or "*"
//   verbs = ["create", "link"]   # or ["*"]
//   namespaces = ["default"]     # or ["*"]
//
//   [server]                     # `khive serve` (docs/serve.md); every key optional
//   listen = "127.0.0.1"         # address to bind
//   port = 8787
//   workers = 8                  # request threads (the bounded worker pool)
//   max_connections = 256        # open connections at once; more are refused
//   max_body_bytes = 8388608     # a larger request body is 413
//   request_time_budget_ms = 30000  # read budget of each request's statements
//   slow_client_timeout_s = 30   # an idle or slow connection is closed after this
//   token_file = "tokens.json"   # bearer tokens (khive token); relative to the config file
//   allowed_origins = []         # Origin values /mcp accepts besides loopback ones
//   postgres_admin_url = ""      # PostgreSQL: the schema owner's URL (migrations, scope key)
//   postgres_user = ""           # PostgreSQL: log the backend's URL in as this (application) role
//   tls_cert_file = ""           # PEM certificate (chain): serve HTTPS; relative to the config file
//   tls_key_file = ""            # PEM private key of the certificate
//
//   [server.jwt]                 # JWT access tokens (RS256, ES256) besides khive tokens; optional
//   issuer = "https://auth.example.com"  # the iss every token must carry (required to enable)
//   audience = "https://khive.example.com"  # an aud the token must carry (required)
//   jwks_file = "jwks.json"      # the issuer's public keys (JWKS); relative to the config file
//   resource = ""                # this server's resource id (RFC 9728); default: https://<Host>
//   actor_claim = "sub"          # the claim naming the actor
//   read_claim = "khive_read"    # namespaces the token reads (array, or space-separated string)
//   write_claim = "khive_write"  # namespaces it writes; none: read-only
//   leeway_s = 60                # clock skew allowed on exp and nbf
//
//   [[tokens]]                   # bearer tokens given in the config (the token file holds more)
//   sha256 = "<hex of SHA-256 of the token>"
//   actor = "alice"
//   read = ["team-a"]            # read namespaces
//   write = ["team-a"]           # write namespaces; the first is where creates go
//   read_only = false
//   expires = 1893456000         # optional, Unix seconds
//
// Value types: thread-compatible.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "khive/core/limits.h"
#include "khive/retrieval/embedding.h"
#include "khive/retrieval/fusion.h"

namespace khive::runtime {

struct BackendConfig {
  std::string kind;  // "sqlite" or "postgres"
  std::string path;  // sqlite: file path or ":memory:"
  std::string url;   // postgres: libpq connection string or URI
  std::int64_t writerCacheMiB = 0;  // sqlite: backends::SqliteOptions::writerCacheMiB; 0 = its default
  bool groupWrites = true;  // postgres: backends::PostgresOptions::groupWrites
  // postgres: backends::PostgresOptions::replicas, replicaWait, replicaMaxLag
  std::vector<std::string> replicas;
  std::int64_t replicaWaitMs = 200;
  std::int64_t replicaMaxLagMs = 5000;
};

struct ActorConfig {
  std::string id = "local";
  std::string ns = "default";
  std::vector<std::string> visibleNamespaces;  // empty: just `ns`
};

struct VocabularyConfig {
  std::vector<std::string> entityKinds;
  std::vector<std::string> noteKinds;
  std::vector<std::string> relations;
  std::vector<std::string> symmetricRelations;
};

struct Grant {
  std::string actor = "*";
  std::vector<std::string> verbs{"*"};
  std::vector<std::string> namespaces{"*"};
};

// [server.jwt]: JWT access tokens an OAuth authorization server issues (docs/serve.md).
struct JwtConfig {
  std::string issuer;  // empty: JWTs are not accepted
  std::string audience;
  std::string jwksFile;
  std::string resource;
  std::string actorClaim = "sub";
  std::string readClaim = "khive_read";
  std::string writeClaim = "khive_write";
  std::int64_t leewayS = 60;
};

struct ServerConfig {
  std::string listen = "127.0.0.1";
  int port = 8787;
  int workers = 8;
  int maxConnections = 256;
  std::int64_t maxBodyBytes = 8 << 20;
  std::int64_t requestTimeBudgetMs = 30000;
  int slowClientTimeoutS = 30;
  std::string tokenFile;  // empty: tokens.json beside the config file (or in userDataDir())
  std::vector<std::string> allowedOrigins;
  std::string adminUrl;  // server key postgres_admin_url: the schema owner, which signs scopes
  std::string appUser;   // server key postgres_user: the application role the pools log in as
  std::string tlsCertFile;  // non-empty (with tlsKeyFile): HTTPS
  std::string tlsKeyFile;
  JwtConfig jwt;
};

// A bearer token of `khive serve`: only the SHA-256 of the secret is kept.
struct TokenConfig {
  std::string id;      // short public id (list, revoke, logs)
  std::string sha256;  // lower-case hex of SHA-256(token)
  std::string actor;
  std::vector<std::string> readNamespaces;
  std::vector<std::string> writeNamespaces;
  bool readOnly = false;
  std::optional<std::int64_t> expiresAt;  // Unix seconds
  std::optional<std::int64_t> revokedAt;  // Unix seconds
  std::int64_t createdAt = 0;
};

struct Config {
  std::optional<std::filesystem::path> source;  // the file it came from; nullopt = defaults
  std::vector<BackendConfig> backends;
  ActorConfig actor;
  VocabularyConfig vocabulary;
  std::vector<Grant> grants;
  std::vector<retrieval::EngineSpec> engines;
  retrieval::FusionOptions fusion;  // [search]
  Limits limits;
  ServerConfig server;
  std::vector<TokenConfig> tokens;
};

// Parses khive.toml text. Throws Error(InvalidInput) for a TOML syntax error, an unknown key
// or a bad value, naming the key and `sourceName:line`.
Config parseConfig(std::string_view text, std::string_view sourceName = "khive.toml");
// Reads and parses a file; Error(NotFound) when it cannot be read.
Config loadConfigFile(const std::filesystem::path& path);

// The config file to use: `explicitPath` (must exist), else $KHIVE_CONFIG (must exist), else
// ./khive.toml, else <user config dir>/khive/khive.toml; nullopt when none of the optional
// places holds one. Throws Error(NotFound) for a named file that does not exist.
std::optional<std::filesystem::path> findConfigFile(const std::optional<std::string>& explicitPath);

// $XDG_CONFIG_HOME/khive or ~/.config/khive.
std::filesystem::path userConfigDir();
// $XDG_DATA_HOME/khive or ~/.local/share/khive.
std::filesystem::path userDataDir();
// The embedded default database: <user data dir>/khive.db.
std::filesystem::path defaultDatabasePath();

}  // namespace khive::runtime
