#include "server/jwt.h"

#include <fmt/format.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <fstream>
#include <set>
#include <sstream>

#include "khive/core/error.h"
#include "khive/core/json.h"
#include "khive/runtime/runtime.h"
#include "khive/runtime/tokens.h"

namespace khive::server {

struct JwtVerifier::Key {
  std::string alg;  // "RS256" or "ES256"
  EVP_PKEY* pkey = nullptr;
  ~Key() { EVP_PKEY_free(pkey); }
};

namespace {

// base64url without padding (RFC 7515); nullopt for any other character.
std::optional<std::string> base64url(std::string_view in) {
  std::string out;
  out.reserve(in.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '-')
      v = 62;
    else if (c == '_')
      v = 63;
    else if (c == '=')
      break;
    else
      return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

using BnPtr = std::unique_ptr<BIGNUM, decltype(&BN_free)>;

BnPtr bignum(const std::string& bytes) {
  return BnPtr(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()), nullptr),
               &BN_free);
}

// An EVP_PKEY from a JWK's public parameters; null when OpenSSL refuses them.
EVP_PKEY* fromParams(const char* type, OSSL_PARAM_BLD* bld) {
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  EVP_PKEY* pkey = nullptr;
  if (params && ctx && EVP_PKEY_fromdata_init(ctx) == 1) EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params);
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  return pkey;
}

EVP_PKEY* rsaKey(const std::string& n, const std::string& e) {
  BnPtr bn = bignum(n), be = bignum(e);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  EVP_PKEY* out = nullptr;
  if (bld && bn && be && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn.get()) == 1 &&
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be.get()) == 1)
    out = fromParams("RSA", bld);
  OSSL_PARAM_BLD_free(bld);
  return out;
}

EVP_PKEY* p256Key(const std::string& x, const std::string& y) {
  if (x.size() != 32 || y.size() != 32) return nullptr;
  const std::string point = std::string(1, '\x04') + x + y;  // uncompressed
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  EVP_PKEY* out = nullptr;
  if (bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) == 1 &&
      OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) == 1)
    out = fromParams("EC", bld);
  OSSL_PARAM_BLD_free(bld);
  return out;
}

// An ES256 signature (r || s, 32 bytes each) in the DER form OpenSSL verifies.
std::optional<std::string> ecdsaDer(const std::string& raw) {
  if (raw.size() != 64) return std::nullopt;
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
  std::optional<std::string> out;
  if (sig && r && s && ECDSA_SIG_set0(sig, r, s) == 1) {
    r = s = nullptr;  // owned by sig now
    unsigned char* der = nullptr;
    const int len = i2d_ECDSA_SIG(sig, &der);
    if (len > 0) out = std::string(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
  }
  BN_free(r);
  BN_free(s);
  ECDSA_SIG_free(sig);
  return out;
}

bool verifySha256(EVP_PKEY* key, std::string_view input, const std::string& signature) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx && EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                             reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

// A namespace claim: an array of strings or one space-separated string; absent: none.
std::optional<std::vector<std::string>> namespaceClaim(const Json& claims, const std::string& name,
                                                       std::string& problem) {
  std::vector<std::string> out;
  if (!claims.contains(name)) return out;
  const Json& v = claims[name];
  if (v.is_string()) {
    std::istringstream words(v.get<std::string>());
    for (std::string w; words >> w;) out.push_back(w);
  } else if (v.is_array()) {
    for (const auto& x : v) {
      if (!x.is_string()) {
        problem = fmt::format("the token's claim '{}' must hold namespace names (strings)", name);
        return std::nullopt;
      }
      out.push_back(x.get<std::string>());
    }
  } else {
    problem = fmt::format("the token's claim '{}' must be an array of namespaces or a space-separated string", name);
    return std::nullopt;
  }
  for (const auto& ns : out) {
    try {
      runtime::checkNamespace(ns);
    } catch (const Error& e) {
      problem = fmt::format("the token's claim '{}': {}", name, e.message());
      return std::nullopt;
    }
  }
  return out;
}

}  // namespace

JwtVerifier::JwtVerifier(runtime::JwtConfig config, const std::filesystem::path& jwksFile)
    : config_(std::move(config)) {
  auto fail = [&](const std::string& why) {
    throw Error(ErrorCode::InvalidInput, "serve", "jwt",
                fmt::format("[server.jwt] jwks_file {}: {}", jwksFile.string(), why));
  };
  std::ifstream in(jwksFile, std::ios::binary);
  if (!in) fail("cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  Json jwks = Json::parse(text.str(), nullptr, false);
  if (jwks.is_discarded() || !jwks.is_object() || !jwks.contains("keys") || !jwks["keys"].is_array())
    fail("is not a JWKS (a JSON object with a \"keys\" array)");
  for (const auto& jwk : jwks["keys"]) {
    if (!jwk.is_object()) continue;
    const std::string kty = jwk.value("kty", ""), use = jwk.value("use", "sig"), kid = jwk.value("kid", "");
    if (use != "sig") continue;
    auto member = [&](const char* name) -> std::string {
      auto v = jwk.contains(name) && jwk[name].is_string() ? base64url(jwk[name].get<std::string>()) : std::nullopt;
      if (!v || v->empty()) fail(fmt::format("key '{}' has no valid \"{}\"", kid, name));
      return *v;
    };
    auto key = std::make_shared<Key>();
    if (kty == "RSA") {
      key->alg = "RS256";
      key->pkey = rsaKey(member("n"), member("e"));
    } else if (kty == "EC" && jwk.value("crv", "") == "P-256") {
      key->alg = "ES256";
      key->pkey = p256Key(member("x"), member("y"));
    } else {
      continue;  // another key type or curve: not one this server verifies
    }
    if (!key->pkey) fail(fmt::format("key '{}' is not a valid {} public key", kid, kty));
    if (jwk.contains("alg") && jwk["alg"] != key->alg) continue;
    if (keys_.count(kid)) fail(fmt::format("two keys have kid '{}'", kid));
    keys_.emplace(kid, std::move(key));
  }
  if (keys_.empty()) fail("holds no RSA or EC P-256 signing key");
}

JwtVerifier::~JwtVerifier() = default;

bool JwtVerifier::looksLikeJwt(std::string_view t) noexcept {
  if (t.empty() || t.size() > 16384) return false;
  int dots = 0;
  for (char c : t) {
    if (c == '.')
      ++dots;
    else if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'))
      return false;
  }
  return dots == 2;
}

std::optional<runtime::TokenConfig> JwtVerifier::verify(std::string_view token, std::string& problem) const {
  auto refuse = [&](std::string why) -> std::optional<runtime::TokenConfig> {
    problem = std::move(why);
    return std::nullopt;
  };
  const std::size_t d1 = token.find('.'), d2 = token.rfind('.');
  if (!looksLikeJwt(token)) return refuse("the token is not a JWT");
  auto headerText = base64url(token.substr(0, d1));
  auto payloadText = base64url(token.substr(d1 + 1, d2 - d1 - 1));
  auto signature = base64url(token.substr(d2 + 1));
  if (!headerText || !payloadText || !signature) return refuse("the JWT is not base64url");
  const Json header = Json::parse(*headerText, nullptr, false);
  if (header.is_discarded() || !header.is_object()) return refuse("the JWT header is not a JSON object");
  const std::string alg = header.contains("alg") && header["alg"].is_string() ? header["alg"].get<std::string>() : "";
  if (alg != "RS256" && alg != "ES256")
    return refuse(fmt::format("the JWT algorithm must be RS256 or ES256, not '{}'", alg));
  if (header.contains("crit")) return refuse("the JWT has critical header parameters this server does not know");
  // The key: by kid, or the only key of the algorithm when the header names none.
  const Key* key = nullptr;
  if (header.contains("kid") && header["kid"].is_string()) {
    auto it = keys_.find(header["kid"].get<std::string>());
    if (it != keys_.end()) key = it->second.get();
  } else {
    for (const auto& [kid, k] : keys_)
      if (k->alg == alg) {
        if (key) return refuse("the JWT names no kid and the JWKS has several keys for its algorithm");
        key = k.get();
      }
  }
  if (!key || key->alg != alg) return refuse("the JWT is signed with a key that is not in [server.jwt] jwks_file");
  const std::string_view input = token.substr(0, d2);
  bool valid = false;
  if (alg == "ES256") {
    auto der = ecdsaDer(*signature);
    valid = der && verifySha256(key->pkey, input, *der);
  } else {
    valid = verifySha256(key->pkey, input, *signature);
  }
  if (!valid) return refuse("the JWT signature does not verify");

  const Json claims = Json::parse(*payloadText, nullptr, false);
  if (claims.is_discarded() || !claims.is_object()) return refuse("the JWT claims are not a JSON object");
  const std::int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  if (claims.value("iss", Json()) != config_.issuer) return refuse("the JWT has another issuer (iss)");
  const Json aud = claims.value("aud", Json());
  const bool audOk = aud == config_.audience ||
                     (aud.is_array() && std::find(aud.begin(), aud.end(), Json(config_.audience)) != aud.end());
  if (!audOk) return refuse("the JWT is not for this audience (aud)");
  // NumericDate: seconds, possibly fractional; beyond the year 9999 is not a date.
  auto seconds = [](const Json& v) -> std::optional<std::int64_t> {
    if (!v.is_number()) return std::nullopt;
    const double d = v.get<double>();
    if (!(d >= 0 && d < 253402300800.0)) return std::nullopt;
    return static_cast<std::int64_t>(d);
  };
  const auto exp = seconds(claims.value("exp", Json()));
  if (!exp) return refuse("the JWT has no valid expiry (exp)");
  if (*exp + config_.leewayS <= now) return refuse("the token expired");
  if (claims.contains("nbf")) {
    const auto nbf = seconds(claims["nbf"]);
    if (!nbf) return refuse("the JWT has an invalid nbf");
    if (*nbf - config_.leewayS > now) return refuse("the JWT is not valid yet (nbf)");
  }
  const Json actor = claims.value(config_.actorClaim, Json());
  if (!actor.is_string() || actor.get<std::string>().empty())
    return refuse(fmt::format("the JWT has no actor claim '{}'", config_.actorClaim));

  runtime::TokenConfig t;
  t.actor = actor.get<std::string>();
  auto read = namespaceClaim(claims, config_.readClaim, problem);
  if (!read) return std::nullopt;
  auto write = namespaceClaim(claims, config_.writeClaim, problem);
  if (!write) return std::nullopt;
  if (read->empty() && write->empty())
    return refuse(
        fmt::format("the JWT grants no namespace (claims '{}', '{}')", config_.readClaim, config_.writeClaim));
  t.readNamespaces = std::move(*read);
  t.writeNamespaces = std::move(*write);
  t.readOnly = t.writeNamespaces.empty();
  t.expiresAt = *exp;
  // One runtime serves every token with the same actor and grants: the key of the runtime
  // cache (id + sha256) is the hash of those, not of the token, which is reissued often.
  t.id = "jwt";
  t.sha256 = runtime::sha256Hex(
      fmt::format("{}\n{}\n{}", t.actor, fmt::join(t.readNamespaces, ","), fmt::join(t.writeNamespaces, ",")));
  return t;
}

}  // namespace khive::server
