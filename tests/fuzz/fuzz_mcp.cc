// MCP message handler fuzz target (mcp::Server::handleLine) over an in-memory SQLite runtime.
// The input is a session: lines of JSON-RPC, each handed to the server in turn after an
// initialize handshake, so tool calls reach the runtime.
//
// Checked: every request line gets exactly one response that is one line of JSON-RPC 2.0
// (an error for a malformed message, never an exception), notifications get none, and
// responses carry the id of their request.

#include <memory>

#include "fuzz_support.h"
#include "khive/mcp/server.h"
#include "khive/runtime/backend_factory.h"

using namespace khive;

namespace {

void checkResponse(std::string_view line, const std::optional<std::string>& reply) {
  const Json request = Json::parse(line, nullptr, false);
  const bool isRequest = request.is_object() && request.contains("id") && request.contains("method");
  if (!reply) {
    if (isRequest && (request["id"].is_string() || request["id"].is_number_integer()) && request["method"].is_string() &&
        request.value("jsonrpc", Json()) == "2.0") {
      fuzz::fail("a request got no response");
    }
    return;
  }
  if (reply->find('\n') != std::string::npos) fuzz::fail("a response spans lines");
  const Json r = Json::parse(*reply, nullptr, false);
  if (r.is_discarded() || !r.is_object()) fuzz::fail("a response is not a JSON object: " + *reply);
  if (r.value("jsonrpc", Json()) != "2.0") fuzz::fail("a response without jsonrpc 2.0: " + *reply);
  if (r.contains("result") == r.contains("error")) fuzz::fail("a response needs exactly one of result and error: " + *reply);
  if (!r.contains("id")) fuzz::fail("a response without an id: " + *reply);
  // handleLine answers a JSON type error no check caught instead of exiting; here it is a
  // finding, since the message should say which member is wrong.
  if (reply->find("[json.exception") != std::string::npos) fuzz::fail("an unchecked JSON type error: " + *reply);
  if (r.contains("result") && (!isRequest || r["id"] != request["id"])) fuzz::fail("a result for the wrong id: " + *reply);
}

// A fresh in-memory database with two linked entities of fixed ids, which the seed sessions
// name.
std::unique_ptr<runtime::Runtime> freshRuntime() {
  auto rt = std::make_unique<runtime::Runtime>(runtime::openBackendUrl("sqlite::memory:", {"*"}), runtime::RuntimeOptions{});
  const Uuid a = Uuid::parse("0190a000-0000-7000-8000-0000000000a1");
  const Uuid b = Uuid::parse("0190a000-0000-7000-8000-0000000000b1");
  rt->createEntity({.id = a, .kind = "concept", .name = "A"});
  rt->createEntity({.id = b, .kind = "concept", .name = "B"});
  rt->link({.source = a, .target = b, .relation = "extends"});
  return rt;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Opening a database costs more than most sessions, so one serves many inputs; it is
  // replaced now and then so what sessions wrote does not pile up.
  static std::unique_ptr<runtime::Runtime> rt;
  static int uses = 0;
  if (!rt || ++uses % 256 == 0) rt = freshRuntime();
  mcp::Server server(*rt, [](const Json&) {});
  server.handleLine(R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18"}})");
  server.handleLine(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  std::string_view rest = fuzz::asText(data, size);
  while (!rest.empty()) {
    const std::size_t eol = rest.find('\n');
    const std::string_view line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 1);
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;  // as serve() does
    checkResponse(line, server.handleLine(line));
  }
  return 0;
}
