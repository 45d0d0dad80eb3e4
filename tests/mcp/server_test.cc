// mcp::Server::handleLine on malformed messages: every request line gets one JSON-RPC error
// response and the server keeps serving (these lines ended `khive mcp` with an uncaught JSON
// type error; found by tests/fuzz/fuzz_mcp.cc).

#include <gtest/gtest.h>

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

}  // namespace
