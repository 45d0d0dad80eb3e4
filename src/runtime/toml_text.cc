#include "runtime/toml_text.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>

#include "khive/core/error.h"
#include "khive/core/utf8.h"

namespace khive::runtime {
namespace {

constexpr char32_t kShieldBase = 0xF0000;  // Supplementary Private Use Area-A: U+F0000..U+FFFFF

// The characters toml++ 3.3's is_non_ascii_horizontal_whitespace() does not classify.
bool unsafeForToml(char32_t c) { return (c >= 0xA1 && c <= 0x499) || (c >= 0xFB26 && c <= 0xFEFE); }

// Decodes the well-formed sequence of `len` bytes at s[i].
char32_t decode(std::string_view s, std::size_t i, std::size_t len) {
  auto b = [&](std::size_t k) { return static_cast<char32_t>(static_cast<unsigned char>(s[i + k])); };
  switch (len) {
    case 1: return b(0);
    case 2: return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
    case 3: return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
    default: return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
  }
}

std::size_t lengthOf(unsigned char lead) { return lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4; }

std::size_t lineAt(std::string_view text, std::size_t offset) {
  return 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
}

}  // namespace

std::string shieldTomlText(std::string_view text, std::string_view sourceName) {
  if (auto bad = firstInvalidUtf8(text))
    throw Error(ErrorCode::InvalidInput, "config", "parse",
                fmt::format("{}:{}: the file is not valid UTF-8 (byte {} of the file); TOML files are UTF-8", sourceName,
                            lineAt(text, *bad), *bad + 1));
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t len = lengthOf(static_cast<unsigned char>(text[i]));
    const char32_t c = decode(text, i, len);
    if (c >= kShieldBase && c <= 0xFFFFF)
      throw Error(ErrorCode::InvalidInput, "config", "parse",
                  fmt::format("{}:{}: a private-use character U+{:X} (U+F0000..U+FFFFF are not accepted in khive.toml)",
                              sourceName, lineAt(text, i), static_cast<std::uint32_t>(c)));
    if (unsafeForToml(c)) appendUtf8(out, kShieldBase + c);
    else out.append(text.substr(i, len));
    i += len;
  }
  return out;
}

std::string unshieldTomlText(std::string_view text) {
  // The shield's characters are four-byte sequences starting F3 B0..F3 BF.
  if (text.find('\xF3') == std::string_view::npos) return std::string(text);
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t len = std::min(lengthOf(static_cast<unsigned char>(text[i])), text.size() - i);
    const char32_t c = len == 4 ? decode(text, i, len) : 0;
    if (c >= kShieldBase && unsafeForToml(c - kShieldBase)) appendUtf8(out, c - kShieldBase);
    else out.append(text.substr(i, len));
    i += len;
  }
  return out;
}

}  // namespace khive::runtime
