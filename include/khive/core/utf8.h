#pragma once
// UTF-8 well-formedness (RFC 3629): what every text field and JSON string khive stores must be.
// Overlong forms, surrogate code points (U+D800..U+DFFF) and code points past U+10FFFF are not
// UTF-8. Pure functions: thread-safe.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace khive {

// The offset of the first byte that does not start or continue a well-formed UTF-8 sequence,
// or nullopt when `text` is well-formed UTF-8 throughout.
std::optional<std::size_t> firstInvalidUtf8(std::string_view text) noexcept;

inline bool isValidUtf8(std::string_view text) noexcept { return !firstInvalidUtf8(text); }

// `text` with every byte that is not part of a well-formed sequence written as "\xHH", so a
// message quoting input is always UTF-8 (and JSON-serialisable). Well-formed text is returned
// unchanged.
std::string printableUtf8(std::string_view text);

// Appends the UTF-8 encoding of code point `cp` (at most U+10FFFF) to `out`.
void appendUtf8(std::string& out, char32_t cp);

}  // namespace khive
