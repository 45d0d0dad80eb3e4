// Limits at the runtime's boundary (khive/core/limits.h): the checks validateEntity,
// validateNote, validateEdge and validateEvent run on every field before anything is written.
// Each throws Error(InvalidInput, "runtime", "validate") naming the field, its size and the
// [limits] key that raises the limit. Pure functions: thread-safe.
#pragma once

#include <cstddef>
#include <string_view>

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

}  // namespace khive::runtime
