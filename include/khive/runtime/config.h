#pragma once
// khive.toml: where the binary finds its database, who the caller is, and which vocabulary
// additions apply. See README "Configuration".
//
//   [[backends]]                 # the first entry is the one used
//   kind = "sqlite"              # "sqlite" (path) or "postgres" (url)
//   path = "/var/lib/khive/khive.db"
//   # group_writes = false       # postgres only: commit each single write on its own
//                                # (default true: concurrent single writes share a commit)
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
//   url = "http://127.0.0.1:8080"  #   or "fasttext" (path = "/models/cc.en.bin")
//   model = "nomic-embed-text"
//   dimensions = 768             # optional: a vector of another dimension is an error
//   default = true               # optional: the engine search and writes use (else the first)
//   embed_on_write = true        # optional: create/update embed the record (default true)
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
// Value types: thread-compatible.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "khive/core/limits.h"
#include "khive/retrieval/embedding.h"

namespace khive::runtime {

struct BackendConfig {
  std::string kind;  // "sqlite" or "postgres"
  std::string path;  // sqlite: file path or ":memory:"
  std::string url;   // postgres: libpq connection string or URI
  bool groupWrites = true;  // postgres: backends::PostgresOptions::groupWrites
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

struct Config {
  std::optional<std::filesystem::path> source;  // the file it came from; nullopt = defaults
  std::vector<BackendConfig> backends;
  ActorConfig actor;
  VocabularyConfig vocabulary;
  std::vector<Grant> grants;
  std::vector<retrieval::EngineSpec> engines;
  Limits limits;
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
