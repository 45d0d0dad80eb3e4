#pragma once
// The arguments of a tools/call checked against the tool's input schema before the tool runs.

#include <optional>
#include <string>
#include <string_view>

#include "khive/core/json.h"

namespace khive::mcp {

// What is wrong with a call's arguments: a message naming the argument and what it must be,
// and the same as data (argument, problem, allowed or expected).
struct ArgumentProblem {
  std::string message;
  Json data;
};

// Checks `args` (an object) against `schema`, a tool's inputSchema in the subset khive's tools
// use: an object with "properties" and "additionalProperties": false, each property of type
// string, number, integer, boolean, object or array (with "items" of a type), optionally an
// "enum", a "minimum" and "maximum" (numbers) and a "maxItems" (arrays). An argument the
// schema does not name, a value of another JSON type (null included: leave an optional
// argument out instead), outside the enum, outside the range or with too many items is a
// problem. Whether required arguments are present is left to the tool, which answers with a
// tool error that says what to change. Thread-safe (pure).
std::optional<ArgumentProblem> checkArguments(std::string_view tool, const Json& schema, const Json& args);

}  // namespace khive::mcp
