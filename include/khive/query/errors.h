#pragma once
// The five error classes of docs/query.md, carried on khive::Error so callers that only know the
// core error type still get a code and a message.
//
//   class        ErrorCode      operation   example
//   Parse        InvalidInput   "parse"     `MATCH (a RETURN a` -> "expected ')' at position 10"
//   Validation   InvalidInput   "validate"  unknown relation, bad hop range, namespace in the text
//   Compile      InvalidInput   "compile"   unknown variable or field, type mismatch
//   Unsupported  Unsupported    "unsupported" writes, comma patterns, aliases, aggregates, ...
//   InvalidInput InvalidInput   "input"     LIMIT/SKIP/row cap out of range, missing $parameter
//
// Every message of the Unsupported class says what to write instead.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "khive/core/error.h"

namespace khive::query {

enum class QueryErrorClass { Parse, Validation, Compile, Unsupported, InvalidInput };

// "Parse", "Validation", "Compile", "Unsupported", "InvalidInput" (the names the parity files use).
std::string_view queryErrorClassName(QueryErrorClass c) noexcept;
std::optional<QueryErrorClass> parseQueryErrorClass(std::string_view name) noexcept;

// Immutable after construction; thread-compatible.
class QueryError : public Error {
 public:
  // `position` is a 1-based character (code point) position in the query text, when known.
  QueryError(QueryErrorClass cls, std::string message, std::optional<std::size_t> position = std::nullopt);

  QueryErrorClass errorClass() const noexcept { return class_; }
  std::optional<std::size_t> position() const noexcept { return position_; }

 private:
  QueryErrorClass class_;
  std::optional<std::size_t> position_;
};

// The class of any khive::Error thrown by the query layer (capability "query"), using the
// operation name when the object was sliced to a plain Error. nullopt for other errors.
std::optional<QueryErrorClass> classifyQueryError(const Error& e) noexcept;

// 1-based code-point position of byte `offset` in `text` (for error messages).
std::size_t characterPosition(std::string_view text, std::size_t offset) noexcept;

}  // namespace khive::query
