// Search helpers both engines share: term limits, the words of a text, bounded snippets.

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <optional>

#include "khive/core/error.h"
#include "khive/storage/text_search.h"

namespace khive::storage {

namespace {

// The code point at text[i] and its length in bytes (an invalid byte is one "character" of
// its own, U+FFFD).
char32_t decode(std::string_view text, std::size_t i, std::size_t& len) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = b(i);
  const auto cont = [&](std::size_t k) { return k < text.size() && (b(k) & 0xC0) == 0x80; };
  if (c < 0x80) {
    len = 1;
    return c;
  }
  if (c >= 0xC2 && c <= 0xDF && cont(i + 1)) {
    len = 2;
    return static_cast<char32_t>(((c & 0x1F) << 6) | (b(i + 1) & 0x3F));
  }
  if (c >= 0xE0 && c <= 0xEF && cont(i + 1) && cont(i + 2)) {
    len = 3;
    return static_cast<char32_t>(((c & 0x0F) << 12) | ((b(i + 1) & 0x3F) << 6) | (b(i + 2) & 0x3F));
  }
  if (c >= 0xF0 && c <= 0xF4 && cont(i + 1) && cont(i + 2) && cont(i + 3)) {
    len = 4;
    return static_cast<char32_t>(((c & 0x07) << 18) | ((b(i + 1) & 0x3F) << 12) | ((b(i + 2) & 0x3F) << 6) |
                                 (b(i + 3) & 0x3F));
  }
  len = 1;
  return 0xFFFD;
}

// Letters and digits: ASCII ones, and every other code point outside the punctuation and
// symbol blocks (Latin-1 punctuation, general punctuation through symbols and arrows, CJK
// punctuation, fullwidth ASCII punctuation), which separate words as spaces do.
bool isWordChar(char32_t cp) {
  if (cp < 0x80) return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
  if (cp <= 0xBF || cp == 0xD7 || cp == 0xF7) return false;
  if (cp >= 0x2000 && cp <= 0x2BFF) return false;
  if (cp >= 0x3000 && cp <= 0x303F) return false;
  if (cp >= 0xFE30 && cp <= 0xFE4F) return false;
  if (cp >= 0xFF00 && cp <= 0xFF0F) return false;
  return cp != 0xFFFD;
}

char foldAscii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool equalsFolded(std::string_view word, std::string_view term) {
  if (word.size() != term.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i)
    if (foldAscii(word[i]) != term[i]) return false;
  return true;
}

bool isTerm(std::string_view word, std::span<const std::string> terms) {
  return std::any_of(terms.begin(), terms.end(), [&](const std::string& t) { return equalsFolded(word, t); });
}

// Walks the words of a text: [begin, end) byte ranges.
class WordCursor {
 public:
  explicit WordCursor(std::string_view text) : text_(text) {}
  // The next word, or false at the end of the text.
  bool next(std::size_t& begin, std::size_t& end) {
    std::size_t len = 0;
    while (pos_ < text_.size() && !isWordChar(decode(text_, pos_, len))) pos_ += len;
    if (pos_ >= text_.size()) return false;
    begin = pos_;
    while (pos_ < text_.size() && isWordChar(decode(text_, pos_, len))) pos_ += len;
    end = pos_;
    return true;
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace

void throwTooManySearchTerms(std::size_t terms, std::string_view capability) {
  throw Error(ErrorCode::InvalidInput, std::string(capability), "search",
              fmt::format("the search text has {} terms, more than the {} a search takes; search for fewer words",
                          terms, kMaxSearchTerms));
}

std::vector<std::string> distinctWords(std::string_view text) {
  std::vector<std::string> out;
  WordCursor words(text);
  std::size_t b = 0, e = 0;
  while (words.next(b, e)) {
    std::string w(text.substr(b, e - b));
    std::transform(w.begin(), w.end(), w.begin(), foldAscii);
    if (std::find(out.begin(), out.end(), w) == out.end()) out.push_back(std::move(w));
  }
  return out;
}

std::size_t countWords(std::string_view text) {
  WordCursor words(text);
  std::size_t n = 0, b = 0, e = 0;
  while (words.next(b, e)) ++n;
  return n;
}

namespace {
// One pass: the words before the first match are remembered in a ring of the last few, so the
// window can start a little before the match; the pass ends with the window's last word.
// nullopt when no word matches and `requireMatch`.
std::optional<std::string> snippetOf(std::string_view text, std::span<const std::string> terms, bool requireMatch) {
  constexpr std::size_t kLead = 4;  // words shown before the first match
  struct Span {
    std::size_t begin, end;
  };
  std::array<Span, kLead> ring{};
  std::size_t seen = 0;  // words read before the match
  std::vector<Span> window;
  WordCursor words(text);
  std::size_t b = 0, e = 0;
  bool matched = false;
  while (words.next(b, e)) {
    if (!matched && isTerm(text.substr(b, e - b), terms)) {
      matched = true;
      const std::size_t lead = std::min(seen, kLead);
      for (std::size_t i = seen - lead; i < seen; ++i) window.push_back(ring[i % kLead]);
    }
    if (matched) {
      window.push_back({b, e});
      if (window.size() >= kSnippetTokens) break;
    } else {
      ring[seen % kLead] = {b, e};
      ++seen;
    }
  }
  if (!matched) {
    if (requireMatch) return std::nullopt;
    // No word matches (a stemmed or diacritic-folded match the engine found): the start.
    WordCursor again(text);
    while (window.size() < kSnippetTokens && again.next(b, e)) window.push_back({b, e});
  }
  if (window.empty()) return std::string();
  std::string out;
  std::size_t b0 = 0, e0 = 0;
  WordCursor first(text);
  if (first.next(b0, e0) && b0 < window.front().begin) out += "…";
  for (std::size_t i = 0; i < window.size(); ++i) {
    const auto [wb, we] = window[i];
    if (i > 0) out.append(text.substr(window[i - 1].end, wb - window[i - 1].end));
    const auto word = text.substr(wb, we - wb);
    if (isTerm(word, terms)) {
      out += "**";
      out.append(word);
      out += "**";
    } else {
      out.append(word);
    }
  }
  WordCursor rest(text.substr(window.back().end));
  if (rest.next(b, e)) out += "…";
  return out;
}
}  // namespace

std::string makeSnippet(std::string_view title, std::string_view body, std::span<const std::string> terms) {
  if (auto s = snippetOf(body, terms, true)) return *s;
  if (auto s = snippetOf(title, terms, true)) return *s;
  return *snippetOf(body.empty() ? title : body, terms, false);
}

}  // namespace khive::storage
