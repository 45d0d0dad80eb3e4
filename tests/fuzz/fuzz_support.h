#pragma once
// Shared by the libFuzzer targets of this folder (scripts/fuzz.sh builds and runs them).
//
// A target feeds its input to one of khive's boundaries and checks what a caller may rely on:
// a khive::Error with an expected code is an answer; anything else (another exception, a
// broken invariant, a sanitizer report) stops the run with a crash artefact. Each target
// is single-threaded, as libFuzzer calls it.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <string_view>

#include "khive/core/error.h"

namespace khive::fuzz {

inline std::string_view asText(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Reports a broken invariant and aborts, so libFuzzer keeps the input as a crash artefact.
[[noreturn]] inline void fail(std::string_view what) {
  std::fprintf(stderr, "khive fuzz: invariant broken: %.*s\n", static_cast<int>(what.size()), what.data());
  std::abort();
}

// An Error whose code is not among `allowed` is a finding (e.g. Driver: the engine refused
// SQL that khive built).
inline void expectCode(const Error& e, std::initializer_list<ErrorCode> allowed) {
  for (ErrorCode c : allowed) {
    if (e.code() == c) return;
  }
  fail(std::string("unexpected error: ") + e.what());
}

// True when `s` is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
inline bool validUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3 : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    const auto c1 = n > 1 ? static_cast<unsigned char>(s[i + 1]) : 0;
    if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0) || (c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 >= 0x90)) return false;
    i += n;
  }
  return true;
}

}  // namespace khive::fuzz
