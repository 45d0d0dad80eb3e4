// mcp::Server::handleLine on malformed messages: every request line gets one JSON-RPC error
// response and the server keeps serving (these lines ended `khive mcp` with an uncaught JSON
// type error; found by tests/fuzz/fuzz_mcp.cc).

#include <gtest/gtest.h>

#include <sstream>

#include "khive/mcp/server.h"
#include "khive/runtime/backend_factory.h"

using namespace khive;

namespace {

Json reply(mcp::Server& server, std::string_view line) {
  auto r = server.handleLine(line);
  EXPECT_TRUE(r.has_value()) << line;
  return r ? Json::parse(*r) : Json();
}

TEST(McpServer, MembersOfTheWrongTypeAreErrorsNotExits) {
  runtime::Runtime rt(runtime::openBackendUrl("sqlite::memory:", {"*"}), runtime::RuntimeOptions{});
  mcp::Server server(rt);

  Json r = reply(server, R"({"jsonrpc":5,"id":1,"method":"ping"})");
  EXPECT_EQ(r["error"]["code"], -32600) << r.dump();

  r = reply(server, R"({"jsonrpc":"2.0","id":2,"method":"initialize","params":{"protocolVersion":5}})");
  EXPECT_EQ(r["id"], 2);
  EXPECT_EQ(r["error"]["code"], -32602) << r.dump();
  EXPECT_EQ(r["error"]["message"], "protocolVersion must be a string");

  // The server still answers.
  r = reply(server, R"({"jsonrpc":"2.0","id":3,"method":"initialize","params":{"protocolVersion":"2025-06-18"}})");
  EXPECT_EQ(r["result"]["protocolVersion"], "2025-06-18") << r.dump();
  r = reply(server, R"({"jsonrpc":"2.0","id":4,"method":"ping"})");
  EXPECT_TRUE(r.contains("result")) << r.dump();
}

// A message longer than [limits] max_import_line_bytes is answered with an error and skipped to
// its newline, never held whole; the messages after it are served.
TEST(McpServer, AnOversizedLineIsRefusedAndTheNextOneServed) {
  runtime::Config config;
  config.limits.maxImportLineBytes = 1000;
  runtime::Runtime rt(runtime::openBackendUrl("sqlite::memory:", {"*"}), runtime::RuntimeOptions{config, std::nullopt, std::nullopt});
  std::istringstream in(R"({"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":")" + std::string(5000, 'x') + "\"}}\n" +
                        R"({"jsonrpc":"2.0","id":2,"method":"ping"})" + "\n" + std::string(1001, ' ') + "\n" +
                        R"({"jsonrpc":"2.0","id":3,"method":"ping"})");
  std::ostringstream out;
  EXPECT_EQ(mcp::serve(rt, in, out), 0);
  std::istringstream replies(out.str());
  std::vector<Json> r;
  for (std::string l; std::getline(replies, l);) r.push_back(Json::parse(l));
  ASSERT_EQ(r.size(), 4u) << out.str();
  EXPECT_EQ(r[0]["error"]["code"], -32600);
  EXPECT_NE(r[0]["error"]["message"].get<std::string>().find("longer than 1000 bytes"), std::string::npos) << r[0].dump();
  EXPECT_EQ(r[1]["id"], 2);
  EXPECT_TRUE(r[1].contains("result"));
  EXPECT_EQ(r[2]["error"]["code"], -32600);
  EXPECT_EQ(r[3]["id"], 3);  // the last line has no newline
}

}  // namespace
