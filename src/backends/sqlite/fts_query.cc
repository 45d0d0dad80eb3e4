#include "backends/sqlite/fts_query.h"

#include <algorithm>
#include <vector>

#include "khive/storage/sql_quote.h"

namespace khive::sqlite {

namespace {

// Length of the UTF-8 sequence starting at s[i] if it is well formed (no overlongs, no
// surrogates, <= U+10FFFF), else 0.
std::size_t utf8Length(std::string_view s, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  auto cont = [&](std::size_t k) { return k < s.size() && (byte(k) & 0xC0) == 0x80; };
  unsigned char c = byte(i);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(i + 1) || !cont(i + 2)) return 0;
    unsigned char c1 = byte(i + 1);
    if (c == 0xE0 && c1 < 0xA0) return 0;  // overlong
    if (c == 0xED && c1 >= 0xA0) return 0;  // UTF-16 surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    unsigned char c1 = byte(i + 1);
    if (c == 0xF0 && c1 < 0x90) return 0;  // overlong
    if (c == 0xF4 && c1 >= 0x90) return 0;  // > U+10FFFF
    return 4;
  }
  return 0;
}

bool isBarewordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// A token FTS5 would read as a plain term: ASCII letters, digits and '_' only, and not one of
// its keywords (matched case-insensitively, to stay safe should a later SQLite widen them).
bool isPlainBareword(std::string_view token) {
  if (token.empty()) return false;
  for (char c : token)
    if (!isBarewordChar(c)) return false;
  std::string upper;
  for (char c : token) upper += static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
  return upper != "AND" && upper != "OR" && upper != "NOT" && upper != "NEAR";
}

std::string ftsString(std::string_view token) { return storage::quoteSql(token, '"'); }

std::string term(std::string_view token) { return isPlainBareword(token) ? std::string(token) : ftsString(token); }

}  // namespace

std::string sanitizeQueryText(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    std::size_t n = utf8Length(text, i);
    if (n == 0) {
      out += ' ';
      ++i;
      continue;
    }
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (n == 1 && (c < 0x20 || c == 0x7F)) {
      out += ' ';
    } else {
      out.append(text.substr(i, n));
    }
    i += n;
  }
  return out;
}

std::string buildFtsMatch(std::string_view text, storage::TextMode mode) {
  const std::string clean = sanitizeQueryText(text);
  std::vector<std::string_view> tokens;
  std::string_view rest = clean;
  while (!rest.empty()) {
    auto start = rest.find_first_not_of(' ');
    if (start == std::string_view::npos) break;
    rest.remove_prefix(start);
    auto end = rest.find(' ');
    tokens.push_back(rest.substr(0, end));
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
  }
  if (tokens.empty()) return {};
  // A term repeated is searched once (FTS5 would match and score it once per repetition).
  // FTS5 folds ASCII case, so `Graph` and `graph` are one term.
  if (mode != storage::TextMode::Phrase) {
    std::vector<std::string> seen;
    std::vector<std::string_view> distinct;
    for (auto t : tokens) {
      std::string key(t);
      for (auto& c : key) c = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
      if (std::find(seen.begin(), seen.end(), key) != seen.end()) continue;
      seen.push_back(std::move(key));
      distinct.push_back(t);
      if (distinct.size() > storage::kMaxSearchTerms) storage::throwTooManySearchTerms(distinct.size(), "text");
    }
    tokens = std::move(distinct);
  } else if (tokens.size() > storage::kMaxSearchTerms) {
    storage::throwTooManySearchTerms(tokens.size(), "text");
  }

  std::string out;
  switch (mode) {
    case storage::TextMode::Phrase: {
      std::string joined;
      for (auto t : tokens) {
        if (!joined.empty()) joined += ' ';
        joined.append(t);
      }
      return ftsString(joined);
    }
    case storage::TextMode::Plain:
    case storage::TextMode::AnyTerm:
      for (auto t : tokens) {
        if (!out.empty()) out += mode == storage::TextMode::Plain ? " " : " OR ";
        out += term(t);
      }
      return out;
  }
  return out;
}

}  // namespace khive::sqlite
