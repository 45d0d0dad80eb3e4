// The khive binary: the CLI with the MCP server plugged in as its `mcp` command.

#include <iostream>

#include "khive/cli/cli.h"
#include "khive/mcp/server.h"

int main(int argc, char** argv) {
  khive::cli::FrontEnds fe;
  fe.mcp = [](khive::runtime::Runtime& rt) { return khive::mcp::serve(rt, std::cin, std::cout); };
  return khive::cli::run(argc, argv, fe);
}
