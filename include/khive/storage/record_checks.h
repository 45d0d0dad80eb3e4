#pragma once
// What every backend refuses before it writes a record, the same way on every engine, so a
// record one backend stores another can store too (an export of one imports into the other):
//   - every text field and every string inside a JSON value (object keys included) is
//     well-formed UTF-8 and holds no NUL character (U+0000): PostgreSQL's text and jsonb
//     cannot hold NUL, so neither backend stores it;
//   - JSON values (properties, metadata, payload) nest at most kMaxJsonDepth levels: below
//     the limits of SQLite's JSON functions and of PostgreSQL's jsonb parser, which would
//     otherwise decide differently.
// A record failing a check is Error(InvalidInput) naming the record type and field. The
// configured, lower limits of khive.toml's [limits] (sizes, max_json_depth) are the runtime's.
// Pure functions: thread-safe.

#include <string_view>

#include "khive/core/json.h"
#include "khive/core/records.h"

namespace khive::storage {

// The deepest JSON value any backend stores ({} is depth 1, {"a": {}} depth 2); the largest
// value [limits] max_json_depth accepts.
inline constexpr int kMaxJsonDepth = 512;

// The nesting depth of `value` (a scalar is 0, {} and [] are 1), counted no further than
// stopAfter + 1: a value deeper than stopAfter returns stopAfter + 1 without walking the rest.
int jsonDepth(const Json& value, int stopAfter = kMaxJsonDepth);

// The nesting depth of the JSON text `text` (its deepest run of open objects and arrays),
// counted without parsing it, no further than stopAfter + 1. For refusing a message or a
// line that nests too deep before a parser builds it: a parsed value is copied and walked
// recursively, so one nested a hundred thousand levels would exhaust the stack.
int jsonTextDepth(std::string_view text, int stopAfter = kMaxJsonDepth + 1);

// Throws Error(InvalidInput, capability, operation) when `value` is not well-formed UTF-8 or
// holds U+0000. `field` names it in the message ("entity name").
void checkText(std::string_view value, std::string_view field, std::string_view capability,
               std::string_view operation);

// Throws Error(InvalidInput, capability, operation) when a string in `value` (a key or a
// value) fails checkText, naming its path ("note properties.a.b"), or when `value` nests
// deeper than maxDepth (at most kMaxJsonDepth).
void checkJson(const Json& value, std::string_view field, int maxDepth, std::string_view capability,
               std::string_view operation);

// Every text field and JSON value of the record, as above (the JSON ceiling kMaxJsonDepth).
void checkRecordText(const Entity& e, std::string_view capability, std::string_view operation);
void checkRecordText(const Note& n, std::string_view capability, std::string_view operation);
void checkRecordText(const Edge& e, std::string_view capability, std::string_view operation);
void checkRecordText(const Event& e, std::string_view capability, std::string_view operation);

}  // namespace khive::storage
