#pragma once
// The khive command line: parses arguments (CLI11), opens the runtime and calls one verb.
// Holds no business logic (docs/architecture.md).

#include <functional>
#include <optional>
#include <string>

#include "khive/runtime/runtime.h"

namespace khive::cli {

// What `khive serve` was given: the loaded config and the command line's overrides.
struct ServeArgs {
  runtime::Config config;
  std::optional<std::string> db, backendUrl, listen;
  std::optional<int> port;
};

struct FrontEnds {
  // Runs the MCP server over stdin/stdout; returns the exit code. Injected by the binary's
  // main so that the CLI layer does not depend on the MCP layer.
  std::function<int(runtime::Runtime&)> mcp;
  // Runs the HTTP service (`khive serve`) until SIGTERM/SIGINT; returns the exit code.
  std::function<int(const ServeArgs&)> serve;
};

// The command line generated from the command table (khive/commands/command_table.h), as the
// parser sees it: one entry per subcommand, {"command", "path", "description", "options": [{
// "names", "argument" (the table argument it sets, "" for --timeout-ms), "key_value",
// "positional", "flag", "list", "description"}]}. For tests and documentation.
Json describeCommandLine();

// Returns the process exit code: 0 success, 1 failure of the operation, 2 bad usage.
// Errors are one line on stderr.
int run(int argc, char** argv, const FrontEnds& frontEnds);

}  // namespace khive::cli
