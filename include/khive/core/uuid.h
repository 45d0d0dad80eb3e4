#pragma once
// 128-bit identifiers. New records get time-ordered version 7 UUIDs (RFC 9562) for B-tree
// locality on every engine; any valid UUID is accepted on input.

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "khive/core/clock.h"

namespace khive {

// Value type; thread-compatible.
class Uuid {
 public:
  using Bytes = std::array<std::uint8_t, 16>;

  constexpr Uuid() = default;  // the nil UUID
  explicit constexpr Uuid(const Bytes& b) : bytes_(b) {}

  // A fresh version 7 UUID from the given clock (system clock by default). Thread-safe;
  // UUIDs made by one process are strictly increasing even within one millisecond.
  static Uuid v7();
  static Uuid v7(const Clock& clock);

  // Parses the canonical 8-4-4-4-12 form, with or without hyphens, any case, optionally in
  // braces. Throws Error(InvalidInput) naming the bad text.
  static Uuid parse(std::string_view text);
  static std::optional<Uuid> tryParse(std::string_view text) noexcept;

  // Canonical lower-case hyphenated form. Its lexical order is the byte order.
  std::string str() const;
  // Writes the same 36 characters to `out` (no terminator).
  void format(char* out) const noexcept;
  const Bytes& bytes() const noexcept { return bytes_; }
  bool isNil() const noexcept;
  int version() const noexcept { return bytes_[6] >> 4; }

  friend constexpr auto operator<=>(const Uuid&, const Uuid&) = default;

 private:
  Bytes bytes_{};
};

}  // namespace khive

template <>
struct std::hash<khive::Uuid> {
  std::size_t operator()(const khive::Uuid& u) const noexcept {
    std::uint64_t a = 0, b = 0;
    for (int i = 0; i < 8; ++i) a = (a << 8) | u.bytes()[i];
    for (int i = 8; i < 16; ++i) b = (b << 8) | u.bytes()[i];
    return std::hash<std::uint64_t>{}(a ^ (b * 0x9E3779B97F4A7C15ull));
  }
};
