#pragma once
// Bearer tokens of `khive serve` (docs/serve.md, "Tokens"). A token is
//   khive_<id>_<secret>
// where <id> is 8 hex digits (what `khive token list` and `revoke` name and what the request
// log shows) and <secret> 64 hex digits of 32 random bytes. Only SHA-256(token) is stored: in
// the token file (JSON, mode 0600, beside the config file unless [server] token_file says
// otherwise) or in [[tokens]] of khive.toml. Each token names an actor, read and write
// namespaces, whether it is read-only, and an optional expiry.
//
// TokenFile: thread-compatible; create and revoke take an exclusive lock on <file>.lock so that
// concurrent `khive token` processes do not lose each other's changes.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "khive/core/json.h"
#include "khive/runtime/config.h"

namespace khive::runtime {

// Lower-case hex of SHA-256(text).
std::string sha256Hex(std::string_view text);

// The token file `config` names: [server] token_file (relative to the config file's
// directory), else tokens.json beside the config file, else <user data dir>/tokens.json.
std::filesystem::path tokenFilePath(const Config& config);

struct NewToken {
  std::string actor;
  std::vector<std::string> readNamespaces;
  std::vector<std::string> writeNamespaces;
  bool readOnly = false;
  std::optional<std::int64_t> expiresAt;  // Unix seconds
};

class TokenFile {
 public:
  explicit TokenFile(std::filesystem::path path) : path_(std::move(path)) {}
  const std::filesystem::path& path() const noexcept { return path_; }

  // Every token of the file, revoked ones included; none when the file does not exist.
  // Error(InvalidInput) naming the file when it is not a token file.
  std::vector<TokenConfig> load() const;
  // Adds a token and returns it with its secret (shown once; only its hash is written).
  // Error(InvalidInput) for an empty actor, a bad namespace or no namespace at all.
  std::pair<TokenConfig, std::string> create(const NewToken& token);
  // Marks the token revoked. Error(NotFound) when no token has this id.
  TokenConfig revoke(std::string_view id);

 private:
  void save(const std::vector<TokenConfig>& tokens) const;
  std::filesystem::path path_;
};

Json toJson(const TokenConfig& token);  // without the hash

// The expiry `khive token create --expires` means, in Unix seconds: "90d", "12h", "30m",
// "3600s" from now, or a plain number as an absolute Unix time. Error(InvalidInput) otherwise.
std::int64_t parseTokenExpiry(std::string_view text);

}  // namespace khive::runtime
