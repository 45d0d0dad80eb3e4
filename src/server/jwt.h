#pragma once
// JWT access tokens (docs/serve.md, "JWT access tokens"): a token an OAuth 2.1 authorization
// server issued, signed RS256 or ES256 with a key of the JWKS file of [server.jwt], whose iss,
// aud, exp and nbf hold, is accepted as a bearer token. Its claims name the actor and the
// namespaces it reads and writes (the claim names are configurable), and it becomes the same
// TokenConfig a khive token gives, so the policy layer and row-level security treat both alike.
// Signatures are checked with OpenSSL: bookworm's libjwt (1.10) reads no JWKS and checks no
// claims, so it would add a dependency for the signature call alone.
//
// Immutable after construction: thread-safe.

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "khive/runtime/config.h"

namespace khive::server {

class JwtVerifier {
 public:
  // Reads the JWKS file (RSA keys with n and e, EC P-256 keys with x and y; other keys are
  // skipped). Error(InvalidInput) naming the file and the problem when it has no usable key.
  JwtVerifier(runtime::JwtConfig config, const std::filesystem::path& jwksFile);
  ~JwtVerifier();
  JwtVerifier(const JwtVerifier&) = delete;
  JwtVerifier& operator=(const JwtVerifier&) = delete;

  // Whether `bearer` has the shape of a JWS compact serialization (three base64url parts).
  static bool looksLikeJwt(std::string_view bearer) noexcept;
  // The grants of a valid token; nullopt with `problem` saying why not (never the token).
  std::optional<runtime::TokenConfig> verify(std::string_view token, std::string& problem) const;
  const runtime::JwtConfig& config() const noexcept { return config_; }
  std::size_t keyCount() const noexcept { return keys_.size(); }

 private:
  struct Key;
  runtime::JwtConfig config_;
  std::map<std::string, std::shared_ptr<Key>> keys_;  // by kid ("" when the JWK has none)
};

}  // namespace khive::server
