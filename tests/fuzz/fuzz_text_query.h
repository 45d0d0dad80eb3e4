#pragma once
// The input layout of the two text-query builder targets: the first byte picks the mode
// (plain, phrase, any term) and whether snippets are asked for; the rest is the user's text.

#include <cstddef>
#include <cstdint>

#include "fuzz_support.h"
#include "khive/storage/text_search.h"

namespace khive::fuzz {

inline storage::TextQuery textQueryOf(const std::uint8_t* data, std::size_t size) {
  storage::TextQuery q;
  q.namespaces = {"main", "other"};
  if (size == 0) return q;
  static constexpr storage::TextMode kModes[] = {storage::TextMode::Plain, storage::TextMode::Phrase,
                                                 storage::TextMode::AnyTerm};
  q.mode = kModes[data[0] % 3];
  q.snippets = (data[0] & 0x80) != 0;
  q.text = std::string(asText(data + 1, size - 1));
  return q;
}

}  // namespace khive::fuzz
