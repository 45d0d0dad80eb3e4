// Small helpers shared by the runtime's units (private to src/runtime). Pure functions:
// thread-safe.
#pragma once

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

#include "khive/core/error.h"

namespace khive::runtime {

// Error(InvalidInput) of the runtime capability for operation `op`.
[[noreturn]] inline void invalid(std::string_view op, std::string message) {
  throw Error(ErrorCode::InvalidInput, "runtime", std::string(op), std::move(message));
}

// True when `s` is empty or only white space.
inline bool blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c) != 0; });
}

// What to tell the user when engine `engine` gives vectors of `gives` dimensions and the store
// holds `stored`-dimensional ones under its name (indexing.cc).
std::string dimensionClash(const std::string& engine, int gives, int stored);

}  // namespace khive::runtime
