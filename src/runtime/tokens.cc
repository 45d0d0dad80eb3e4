#include "khive/runtime/tokens.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "khive/core/error.h"
#include "khive/core/json.h"
#include "khive/runtime/runtime.h"

namespace khive::runtime {
namespace {

[[noreturn]] void bad(std::string_view op, std::string message) {
  throw Error(ErrorCode::InvalidInput, "tokens", std::string(op), std::move(message));
}

std::string hex(const unsigned char* p, std::size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = digits[p[i] >> 4];
    out[2 * i + 1] = digits[p[i] & 15];
  }
  return out;
}

std::string randomHex(std::size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  if (RAND_bytes(buf.data(), static_cast<int>(buf.size())) != 1)
    throw Error(ErrorCode::Driver, "tokens", "create", "the system random generator failed (OpenSSL RAND_bytes)");
  return hex(buf.data(), buf.size());
}

std::int64_t nowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// An exclusive flock on <file>.lock for the lifetime of the object.
class FileLock {
 public:
  explicit FileLock(const std::filesystem::path& file) {
    std::error_code ec;
    if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
    const std::string lockPath = file.string() + ".lock";
    fd_ = ::open(lockPath.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0 || ::flock(fd_, LOCK_EX) != 0)
      throw Error(ErrorCode::Driver, "tokens", "lock", fmt::format("cannot lock {}", lockPath));
  }
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

TokenConfig fromJson(const Json& j, const std::string& where) {
  try {
    TokenConfig t;
    t.id = j.at("id").get<std::string>();
    t.sha256 = j.at("sha256").get<std::string>();
    t.actor = j.at("actor").get<std::string>();
    t.readNamespaces = j.at("read").get<std::vector<std::string>>();
    t.writeNamespaces = j.at("write").get<std::vector<std::string>>();
    t.readOnly = j.at("read_only").get<bool>();
    if (j.contains("expires_at") && !j["expires_at"].is_null()) t.expiresAt = j["expires_at"].get<std::int64_t>();
    if (j.contains("revoked_at") && !j["revoked_at"].is_null()) t.revokedAt = j["revoked_at"].get<std::int64_t>();
    t.createdAt = j.value("created_at", std::int64_t{0});
    return t;
  } catch (const Json::exception& e) {
    bad("load", fmt::format("{}: a token entry is malformed ({})", where, e.what()));
  }
}

}  // namespace

std::string sha256Hex(std::string_view text) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_Digest(text.data(), text.size(), md, &n, EVP_sha256(), nullptr) != 1)
    throw Error(ErrorCode::Driver, "tokens", "hash", "OpenSSL SHA-256 failed");
  return hex(md, n);
}

std::filesystem::path tokenFilePath(const Config& config) {
  std::filesystem::path base = config.source ? config.source->parent_path() : userDataDir();
  if (!config.server.tokenFile.empty()) {
    std::filesystem::path p(config.server.tokenFile);
    return p.is_absolute() ? p : base / p;
  }
  return base / "tokens.json";
}

Json toJson(const TokenConfig& t) {
  return Json{{"id", t.id},
              {"actor", t.actor},
              {"read", t.readNamespaces},
              {"write", t.writeNamespaces},
              {"read_only", t.readOnly},
              {"expires_at", t.expiresAt ? Json(*t.expiresAt) : Json(nullptr)},
              {"revoked_at", t.revokedAt ? Json(*t.revokedAt) : Json(nullptr)},
              {"created_at", t.createdAt}};
}

std::int64_t parseTokenExpiry(std::string_view text) {
  std::int64_t n = 0;
  std::size_t i = 0;
  while (i < text.size() && i < 15 && text[i] >= '0' && text[i] <= '9') n = n * 10 + (text[i++] - '0');
  const std::string_view unit = text.substr(i);
  const std::int64_t mult = unit == "d" ? 86400 : unit == "h" ? 3600 : unit == "m" ? 60 : unit == "s" ? 1 : unit.empty() ? 0 : -1;
  if (i == 0 || n <= 0 || mult < 0)
    bad("expires", fmt::format("--expires '{}' must be like 90d, 12h, 30m, 3600s or a Unix time in seconds", text));
  return mult == 0 ? n : nowSeconds() + n * mult;
}

std::vector<TokenConfig> TokenFile::load() const {
  std::ifstream in(path_, std::ios::binary);
  if (!in) return {};
  std::stringstream ss;
  ss << in.rdbuf();
  Json doc = Json::parse(ss.str(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("tokens") || !doc["tokens"].is_array())
    bad("load", fmt::format("{} is not a khive token file (a JSON object with a \"tokens\" array)", path_.string()));
  std::vector<TokenConfig> out;
  for (const auto& j : doc["tokens"]) out.push_back(fromJson(j, path_.string()));
  return out;
}

void TokenFile::save(const std::vector<TokenConfig>& tokens) const {
  Json arr = Json::array();
  for (const auto& t : tokens) {
    Json j = toJson(t);
    j["sha256"] = t.sha256;
    arr.push_back(std::move(j));
  }
  const std::string tmp = path_.string() + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw Error(ErrorCode::Driver, "tokens", "save", fmt::format("cannot write {}", tmp));
  const std::string text = Json{{"version", 1}, {"tokens", arr}}.dump(2) + "\n";
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ok = ::close(fd) == 0 && ok;
  std::error_code ec;
  if (ok) std::filesystem::rename(tmp, path_, ec);
  if (!ok || ec) throw Error(ErrorCode::Driver, "tokens", "save", fmt::format("cannot write {}", path_.string()));
}

std::pair<TokenConfig, std::string> TokenFile::create(const NewToken& in) {
  if (in.actor.empty()) bad("create", "a token needs an actor (--actor)");
  if (in.readNamespaces.empty() && in.writeNamespaces.empty())
    bad("create", "a token needs at least one namespace (--read or --write)");
  for (const auto& ns : in.readNamespaces) checkNamespace(ns);
  for (const auto& ns : in.writeNamespaces) checkNamespace(ns);
  FileLock lock(path_);
  auto tokens = load();
  TokenConfig t;
  do t.id = randomHex(4);
  while (std::any_of(tokens.begin(), tokens.end(), [&](const TokenConfig& x) { return x.id == t.id; }));
  const std::string secret = fmt::format("khive_{}_{}", t.id, randomHex(32));
  t.sha256 = sha256Hex(secret);
  t.actor = in.actor;
  t.readNamespaces = in.readNamespaces;
  t.writeNamespaces = in.writeNamespaces;
  t.readOnly = in.readOnly;
  t.expiresAt = in.expiresAt;
  t.createdAt = nowSeconds();
  tokens.push_back(t);
  save(tokens);
  return {t, secret};
}

TokenConfig TokenFile::revoke(std::string_view id) {
  FileLock lock(path_);
  auto tokens = load();
  for (auto& t : tokens)
    if (t.id == id) {
      if (!t.revokedAt) t.revokedAt = nowSeconds();
      save(tokens);
      return t;
    }
  throw Error(ErrorCode::NotFound, "tokens", "revoke", fmt::format("no token with id '{}' in {}", id, path_.string()));
}

}  // namespace khive::runtime
