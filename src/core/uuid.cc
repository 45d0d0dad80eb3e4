#include "khive/core/uuid.h"

#include <mutex>
#include <random>

#include "khive/core/error.h"

namespace khive {
namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// State shared by every v7 generation in the process: the last (millisecond, counter) pair
// handed out, so ids stay monotonic when many are made in one millisecond (RFC 9562 §6.2,
// method 1: a 12-bit counter in rand_a, re-seeded each new millisecond).
struct V7State {
  std::mutex mu;
  std::mt19937_64 rng{std::random_device{}()};
  std::uint64_t lastMs = 0;
  std::uint16_t counter = 0;
};

V7State& v7State() {
  static V7State state;
  return state;
}

}  // namespace

Uuid Uuid::v7() { return v7(SystemClock::instance()); }

Uuid Uuid::v7(const Clock& clock) {
  auto& st = v7State();
  std::uint64_t ms = static_cast<std::uint64_t>(clock.nowMicros() / 1000);
  std::uint64_t randBits;
  std::uint16_t counter;
  {
    std::lock_guard lock(st.mu);
    if (ms <= st.lastMs) {
      ms = st.lastMs;
      if (++st.counter > 0x0FFF) {  // counter overflow: borrow the next millisecond
        ++ms;
        st.lastMs = ms;
        st.counter = static_cast<std::uint16_t>(st.rng() & 0x01FF);
      }
    } else {
      st.lastMs = ms;
      st.counter = static_cast<std::uint16_t>(st.rng() & 0x01FF);  // leave room to count up
    }
    counter = st.counter;
    randBits = st.rng();
  }
  Bytes b{};
  for (int i = 0; i < 6; ++i) b[i] = static_cast<std::uint8_t>(ms >> (40 - 8 * i));
  b[6] = static_cast<std::uint8_t>(0x70 | ((counter >> 8) & 0x0F));
  b[7] = static_cast<std::uint8_t>(counter & 0xFF);
  for (int i = 8; i < 16; ++i) b[i] = static_cast<std::uint8_t>(randBits >> (8 * (i - 8)));
  b[8] = static_cast<std::uint8_t>(0x80 | (b[8] & 0x3F));  // RFC 4122 variant
  return Uuid(b);
}

std::optional<Uuid> Uuid::tryParse(std::string_view text) noexcept {
  if (text.size() >= 2 && text.front() == '{' && text.back() == '}') text = text.substr(1, text.size() - 2);
  Bytes b{};
  if (text.size() == 36) {
    if (text[8] != '-' || text[13] != '-' || text[18] != '-' || text[23] != '-') return std::nullopt;
  } else if (text.size() != 32) {
    return std::nullopt;
  }
  int nibble = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text.size() == 36 && (i == 8 || i == 13 || i == 18 || i == 23)) continue;
    int v = hexValue(text[i]);
    if (v < 0) return std::nullopt;
    b[nibble / 2] = static_cast<std::uint8_t>(b[nibble / 2] | (nibble % 2 == 0 ? v << 4 : v));
    ++nibble;
  }
  return Uuid(b);
}

Uuid Uuid::parse(std::string_view text) {
  if (auto u = tryParse(text)) return *u;
  std::string shown(text.substr(0, 64));
  throw Error(ErrorCode::InvalidInput, "core", "parse_uuid",
              "'" + shown + "' is not a UUID (expected 8-4-4-4-12 hexadecimal digits)");
}

std::string Uuid::str() const {
  std::string out(36, '\0');
  format(out.data());
  return out;
}

void Uuid::format(char* out) const noexcept {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) *out++ = '-';
    *out++ = kHex[bytes_[i] >> 4];
    *out++ = kHex[bytes_[i] & 0x0F];
  }
}

bool Uuid::isNil() const noexcept {
  for (auto x : bytes_)
    if (x != 0) return false;
  return true;
}

}  // namespace khive
