#pragma once
// The text of khive.toml made safe for toml++ 3.3 before it parses it, and the strings it
// parsed restored afterwards.
//
// toml++ 3.3 asks "is this horizontal whitespace?" of characters it meets between tokens, and
// in a multi-line basic string after a line-ending backslash. Its answer for U+00A1..U+0499
// and U+FB26..U+FEFE (none of which is whitespace) runs into __builtin_unreachable():
// undefined behaviour, found by the fuzz_config target. Which characters it asks about
// depends on its tokenizer (a literal string closed by four or five quotes, a line-ending
// backslash, ...), so instead of predicting that, shieldTomlText() replaces every such
// character, wherever it is, by a character toml++ classifies the same way without that
// path: U+F0000 plus its code point (Supplementary Private Use Area-A, refused in the input).
// unshieldTomlText() maps the strings and messages toml++ gives back.
//
// Pure functions: thread-safe.

#include <string>
#include <string_view>

namespace khive::runtime {

// Throws Error(InvalidInput, "config", "parse") naming `sourceName` and the line when `text`
// is not well-formed UTF-8, or holds a character of U+F0000..U+FFFFF (the shield's range).
// Otherwise returns `text` with the characters above replaced.
std::string shieldTomlText(std::string_view text, std::string_view sourceName);

// The inverse of shieldTomlText on a string toml++ returned (a value, a key, a message).
std::string unshieldTomlText(std::string_view text);

}  // namespace khive::runtime
