// The [server] and [[tokens]] tables of khive.toml and the token file of `khive serve`.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "khive/core/error.h"
#include "khive/runtime/config.h"
#include "khive/runtime/tokens.h"

namespace khive::runtime {
namespace {

std::filesystem::path freshDir(const char* name) {
  auto d = std::filesystem::temp_directory_path() / fmt::format("khive-tokens-{}-{}", name, ::getpid());
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

TEST(ServerConfig, ParsesTheServerTableAndTokens) {
  const std::string hash(64, 'a');
  Config c = parseConfig("[server]\nlisten = \"::1\"\nport = 9000\nworkers = 4\nmax_body_bytes = 1024\n"
                         "request_time_budget_ms = 500\nslow_client_timeout_s = 5\ntoken_file = \"t.json\"\n"
                         "allowed_origins = [\"https://app.example\"]\npostgres_user = \"khive_app\"\n"
                         "[[tokens]]\nsha256 = \"" + hash + "\"\nactor = \"ci\"\nread = [\"a\"]\nread_only = true\nexpires = 100\n");
  EXPECT_EQ(c.server.listen, "::1");
  EXPECT_EQ(c.server.port, 9000);
  EXPECT_EQ(c.server.workers, 4);
  EXPECT_EQ(c.server.maxBodyBytes, 1024);
  EXPECT_EQ(c.server.requestTimeBudgetMs, 500);
  EXPECT_EQ(c.server.slowClientTimeoutS, 5);
  EXPECT_EQ(c.server.allowedOrigins, std::vector<std::string>{"https://app.example"});
  EXPECT_EQ(c.server.appUser, "khive_app");
  ASSERT_EQ(c.tokens.size(), 1u);
  EXPECT_EQ(c.tokens[0].actor, "ci");
  EXPECT_TRUE(c.tokens[0].readOnly);
  EXPECT_EQ(c.tokens[0].expiresAt, 100);
  EXPECT_EQ(c.tokens[0].id, "config-aaaaaaaa");
}

TEST(ServerConfig, ParsesTlsAndJwt) {
  Config c = parseConfig("[server]\ntls_cert_file = \"c.pem\"\ntls_key_file = \"k.pem\"\n"
                         "[server.jwt]\nissuer = \"https://auth\"\naudience = \"https://khive\"\njwks_file = \"j.json\"\n"
                         "write_claim = \"w\"\nleeway_s = 5\n");
  EXPECT_EQ(c.server.tlsCertFile, "c.pem");
  EXPECT_EQ(c.server.tlsKeyFile, "k.pem");
  EXPECT_EQ(c.server.jwt.issuer, "https://auth");
  EXPECT_EQ(c.server.jwt.audience, "https://khive");
  EXPECT_EQ(c.server.jwt.jwksFile, "j.json");
  EXPECT_EQ(c.server.jwt.actorClaim, "sub");
  EXPECT_EQ(c.server.jwt.readClaim, "khive_read");
  EXPECT_EQ(c.server.jwt.writeClaim, "w");
  EXPECT_EQ(c.server.jwt.leewayS, 5);
  auto message = [](const std::string& text) -> std::string {
    try {
      parseConfig(text, "t.toml");
    } catch (const Error& e) {
      return e.message();
    }
    return "no error";
  };
  EXPECT_NE(message("[server]\ntls_cert_file = \"c.pem\"\n").find("tls_cert_file and tls_key_file go together"), std::string::npos);
  EXPECT_NE(message("[server.jwt]\nissuer = \"x\"\n").find("[server.jwt] needs issuer, audience and jwks_file"), std::string::npos);
  EXPECT_NE(message("[server.jwt]\nissuer = \"x\"\nscope = 1\n").find("unknown key 'server.jwt.scope'"), std::string::npos);
}

TEST(ServerConfig, BadValuesNameTheKey) {
  auto message = [](const std::string& text) -> std::string {
    try {
      parseConfig(text, "t.toml");
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::InvalidInput);
      return e.message();
    }
    return "no error";
  };
  EXPECT_NE(message("[server]\nport = 70000\n").find("'server.port' must be an integer in 0..65535"), std::string::npos);
  EXPECT_NE(message("[server]\nthreads = 4\n").find("unknown key 'server.threads'"), std::string::npos);
  EXPECT_NE(message("[[tokens]]\nsha256 = \"abc\"\nactor = \"x\"\nread = [\"a\"]\n").find("64 lower-case hex"), std::string::npos);
  EXPECT_NE(message("[[tokens]]\nsha256 = \"" + std::string(64, 'b') + "\"\nactor = \"x\"\n").find("'tokens.read' or 'tokens.write'"),
            std::string::npos);
}

TEST(TokenFile, CreateStoresOnlyTheHashListAndRevoke) {
  const auto dir = freshDir("file");
  TokenFile file(dir / "tokens.json");
  EXPECT_TRUE(file.load().empty());
  auto [t, secret] = file.create({.actor = "alice", .readNamespaces = {"shared"}, .writeNamespaces = {"team-a"}});
  EXPECT_EQ(secret.rfind("khive_" + t.id + "_", 0), 0u);
  EXPECT_EQ(t.sha256, sha256Hex(secret));
  std::ifstream in(file.path());
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text.find(secret.substr(15)), std::string::npos) << "the secret is not stored";
  struct stat st {};
  ASSERT_EQ(::stat(file.path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto second = file.create({.actor = "bob", .writeNamespaces = {"team-b"}, .readOnly = true, .expiresAt = 42});
  auto all = file.load();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].actor, "bob");
  EXPECT_TRUE(all[1].readOnly);
  EXPECT_EQ(all[1].expiresAt, 42);
  EXPECT_FALSE(all[0].revokedAt);
  file.revoke(t.id);
  EXPECT_TRUE(file.load()[0].revokedAt);
  EXPECT_FALSE(file.load()[1].revokedAt);
  try {
    file.revoke("nope");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::NotFound);
  }
  (void)second;
}

TEST(TokenFile, RefusesBadInputAndForeignFiles) {
  const auto dir = freshDir("bad");
  TokenFile file(dir / "tokens.json");
  EXPECT_THROW(file.create({.actor = "", .writeNamespaces = {"a"}}), Error);
  EXPECT_THROW(file.create({.actor = "x"}), Error);
  EXPECT_THROW(file.create({.actor = "x", .writeNamespaces = {"bad ns"}}), Error);
  std::ofstream(dir / "other.json") << "[1, 2]";
  EXPECT_THROW(TokenFile(dir / "other.json").load(), Error);
}

TEST(TokenFile, ExpiryIsADurationOrAUnixTime) {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_NEAR(static_cast<double>(parseTokenExpiry("2h")), static_cast<double>(now + 7200), 5);
  EXPECT_NEAR(static_cast<double>(parseTokenExpiry("90d")), static_cast<double>(now + 90 * 86400), 5);
  EXPECT_EQ(parseTokenExpiry("1893456000"), 1893456000);
  for (const char* bad : {"", "d", "0h", "-5m", "3w", "12 h", "1e9"}) EXPECT_THROW(parseTokenExpiry(bad), Error) << bad;
}

TEST(TokenFile, PathIsBesideTheConfigFile) {
  Config c;
  c.source = "/etc/khive/khive.toml";
  EXPECT_EQ(tokenFilePath(c), std::filesystem::path("/etc/khive/tokens.json"));
  c.server.tokenFile = "secrets/t.json";
  EXPECT_EQ(tokenFilePath(c), std::filesystem::path("/etc/khive/secrets/t.json"));
  c.server.tokenFile = "/var/lib/khive/t.json";
  EXPECT_EQ(tokenFilePath(c), std::filesystem::path("/var/lib/khive/t.json"));
}

}  // namespace
}  // namespace khive::runtime
