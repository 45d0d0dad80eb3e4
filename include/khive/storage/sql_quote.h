#pragma once
// Quoting of SQL text for the few places that cannot bind a parameter (DDL, FTS5 query strings).
// A pure function: thread-safe.

#include <string>
#include <string_view>

namespace khive::storage {

// `text` between two `quote` characters, each `quote` inside doubled: SQL's quoting of string
// literals ('O''Reilly') and identifiers ("my ""table"""), which FTS5 strings share.
std::string quoteSql(std::string_view text, char quote);

}  // namespace khive::storage
