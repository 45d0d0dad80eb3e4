// The khive binary: the CLI with the MCP server plugged in as its `mcp` command and the HTTP
// service as its `serve` command.

#include <iostream>

#include "khive/cli/cli.h"
#include "khive/mcp/server.h"
#include "khive/server/server.h"

int main(int argc, char** argv) {
  khive::cli::FrontEnds fe;
  fe.mcp = [](khive::runtime::Runtime& rt) { return khive::mcp::serve(rt, std::cin, std::cout); };
  fe.serve = [](const khive::cli::ServeArgs& a) {
    return khive::server::serve({.config = a.config, .db = a.db, .backendUrl = a.backendUrl, .listen = a.listen, .port = a.port});
  };
  return khive::cli::run(argc, argv, fe);
}
