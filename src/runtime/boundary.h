// Limits at the runtime's boundary (khive/core/limits.h): the checks validateEntity,
// validateNote, validateEdge and validateEvent run on every field before anything is written.
// Each throws Error(InvalidInput, "runtime", "validate") naming the field, its size and the
// [limits] key that raises the limit. Pure functions: thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "khive/core/json.h"
#include "khive/core/limits.h"

namespace khive::runtime {

// A short text field (name, kind, relation, tag, ...): UTF-8 without NUL, at most
// limits.maxNameBytes.
void checkNameField(std::string_view value, std::string_view field, const Limits& limits);
// A long text field (description, content): UTF-8 without NUL, at most limits.maxTextBytes.
void checkTextField(std::string_view value, std::string_view field, const Limits& limits);
// A list field's length against limits.maxTags.
void checkTagCount(std::size_t count, std::string_view field, const Limits& limits);
// A JSON value (properties, metadata, payload): nesting at most limits.maxJsonDepth, every
// string UTF-8 without NUL, serialised size at most limits.maxJsonBytes.
void checkJsonField(const Json& value, std::string_view field, const Limits& limits);

// Request text (search text, query text): at most maxBytes (checked first, so an oversized
// request is refused without reading it through), then UTF-8 without NUL. `key` is the
// [limits] key that raises maxBytes.
void checkRequestText(std::string_view value, std::string_view field, std::size_t maxBytes, std::string_view key);
// A list argument of a request (kinds, relations, tags, namespaces): at most kMaxListValues
// (khive/runtime/bounds.h) values, each a short text field.
void checkListValues(const std::vector<std::string>& values, std::string_view field, const Limits& limits);

// A piece of input for an error message or an audit event: UTF-8 (invalid bytes and NUL
// written as \xHH) of at most maxBytes: a longer one is cut at a character boundary and ends
// with "...".
std::string excerpt(std::string_view input, std::size_t maxBytes = 200);

}  // namespace khive::runtime
