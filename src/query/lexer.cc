#include "query/lexer.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <limits>

#include "khive/core/utf8.h"
#include "khive/query/errors.h"
#include "khive/query/parse.h"

namespace khive::query::detail {

namespace {

bool isIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool isIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool isDigit(char c) { return c >= '0' && c <= '9'; }

class Lexer {
 public:
  Lexer(std::string_view text, LexMode mode) : text_(text), mode_(mode) {}

  std::vector<Token> run() {
    std::vector<Token> out;
    for (;;) {
      skipSpaceAndComments();
      Token t;
      t.pos = i_;
      if (i_ >= text_.size()) {
        out.push_back(t);
        return out;
      }
      if (out.size() >= kMaxQueryTokens) {
        throw QueryError(QueryErrorClass::InvalidInput,
                         fmt::format("the query has more than {} tokens; khive queries are one connected pattern: "
                                     "split it into smaller queries",
                                     kMaxQueryTokens),
                         characterPosition(text_, i_));
      }
      char c = text_[i_];
      if (isIdentStart(c)) {
        lexIdentOrPrefixed(t);
      } else if (isDigit(c)) {
        lexNumber(t);
      } else if (c == '\'' || c == '"') {
        lexString(t);
      } else if (c == '$' && i_ + 1 < text_.size() && isIdentStart(text_[i_ + 1])) {
        ++i_;
        t.kind = mode_ == LexMode::Gql ? TokenKind::Param : TokenKind::Var;
        t.text = readIdent();
      } else if (mode_ == LexMode::Sparql && c == '?' && i_ + 1 < text_.size() && isIdentChar(text_[i_ + 1])) {
        ++i_;
        t.kind = TokenKind::Var;
        t.text = readName();
      } else if (mode_ == LexMode::Sparql && c == ':' ) {
        ++i_;
        t.kind = TokenKind::PrefixedName;
        t.text = ":" + readName();
      } else if (mode_ == LexMode::Sparql && c == '<' && tryIri(t)) {
        // done
      } else {
        lexPunct(t);
      }
      out.push_back(std::move(t));
    }
  }

 private:
  void skipSpaceAndComments() {
    while (i_ < text_.size()) {
      char c = text_[i_];
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++i_;
      } else if (mode_ == LexMode::Sparql && c == '#') {
        while (i_ < text_.size() && text_[i_] != '\n') ++i_;
      } else if (mode_ == LexMode::Gql && text_.substr(i_, 2) == "//") {
        while (i_ < text_.size() && text_[i_] != '\n') ++i_;
      } else if (mode_ == LexMode::Gql && text_.substr(i_, 2) == "/*") {
        auto end = text_.find("*/", i_ + 2);
        if (end == std::string_view::npos) failParse(text_, i_, "unterminated comment");
        i_ = end + 2;
      } else {
        return;
      }
    }
  }

  std::string readIdent() {
    std::size_t start = i_;
    while (i_ < text_.size() && isIdentChar(text_[i_])) ++i_;
    return std::string(text_.substr(start, i_ - start));
  }

  // SPARQL local names may contain '-' inside (not at the end).
  std::string readName() {
    std::size_t start = i_;
    while (i_ < text_.size() &&
           (isIdentChar(text_[i_]) ||
            (text_[i_] == '-' && i_ + 1 < text_.size() && isIdentChar(text_[i_ + 1])))) {
      ++i_;
    }
    return std::string(text_.substr(start, i_ - start));
  }

  void lexIdentOrPrefixed(Token& t) {
    t.kind = TokenKind::Ident;
    t.text = readIdent();
    if (mode_ == LexMode::Sparql && i_ < text_.size() && text_[i_] == ':') {
      ++i_;
      t.kind = TokenKind::PrefixedName;
      t.text += ":" + readName();
    }
  }

  void lexNumber(Token& t) {
    std::size_t start = i_;
    while (i_ < text_.size() && isDigit(text_[i_])) ++i_;
    bool isFloat = false;
    // "1..3" is 1 followed by '..': a '.' makes a float only when a digit follows it.
    if (i_ + 1 < text_.size() && text_[i_] == '.' && isDigit(text_[i_ + 1])) {
      isFloat = true;
      ++i_;
      while (i_ < text_.size() && isDigit(text_[i_])) ++i_;
    }
    if (i_ < text_.size() && (text_[i_] == 'e' || text_[i_] == 'E')) {
      std::size_t save = i_;
      ++i_;
      if (i_ < text_.size() && (text_[i_] == '+' || text_[i_] == '-')) ++i_;
      if (i_ < text_.size() && isDigit(text_[i_])) {
        isFloat = true;
        while (i_ < text_.size() && isDigit(text_[i_])) ++i_;
      } else {
        i_ = save;
      }
    }
    if (i_ < text_.size() && isIdentStart(text_[i_])) failParse(text_, i_, "a number runs into a name");
    t.text = std::string(text_.substr(start, i_ - start));
    if (isFloat) {
      t.kind = TokenKind::Float;
      t.floatValue = std::strtod(t.text.c_str(), nullptr);
    } else {
      t.kind = TokenKind::Integer;
      auto [p, ec] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), t.intValue);
      (void)p;
      if (ec != std::errc()) {
        t.integerOverflow = true;
        t.intValue = std::numeric_limits<std::int64_t>::max();
      }
    }
  }

  void lexString(Token& t) {
    char quote = text_[i_];
    std::size_t start = i_;
    ++i_;
    t.kind = TokenKind::String;
    for (;;) {
      if (i_ >= text_.size()) failParse(text_, start, "unterminated string");
      char c = text_[i_];
      if (c == quote) {
        ++i_;
        return;
      }
      if (c == '\\') {
        if (i_ + 1 >= text_.size()) failParse(text_, start, "unterminated string");
        char e = text_[i_ + 1];
        i_ += 2;
        switch (e) {
          case '\\': t.text += '\\'; break;
          case '\'': t.text += '\''; break;
          case '"': t.text += '"'; break;
          case 'n': t.text += '\n'; break;
          case 't': t.text += '\t'; break;
          case 'r': t.text += '\r'; break;
          case '0': t.text += '\0'; break;
          case 'u': {
            if (i_ + 4 > text_.size()) failParse(text_, i_ - 2, "\\u needs four hex digits");
            std::uint32_t cp = 0;
            for (int k = 0; k < 4; ++k) {
              char h = text_[i_ + k];
              cp <<= 4;
              if (h >= '0' && h <= '9') cp |= h - '0';
              else if (h >= 'a' && h <= 'f') cp |= h - 'a' + 10;
              else if (h >= 'A' && h <= 'F') cp |= h - 'A' + 10;
              else failParse(text_, i_ - 2, "\\u needs four hex digits");
            }
            i_ += 4;
            appendUtf8(t.text, cp);
            break;
          }
          default:
            failParse(text_, i_ - 2, fmt::format("unknown escape '\\{}' in a string", e));
        }
        continue;
      }
      t.text += c;
      ++i_;
    }
  }

  bool tryIri(Token& t) {
    std::size_t j = i_ + 1;
    while (j < text_.size() && text_[j] != '>' && !std::isspace(static_cast<unsigned char>(text_[j])) &&
           text_[j] != '<' && text_[j] != '"' && text_[j] != '{' && text_[j] != '}') {
      ++j;
    }
    if (j >= text_.size() || text_[j] != '>') return false;
    t.kind = TokenKind::Iri;
    t.text = std::string(text_.substr(i_ + 1, j - i_ - 1));
    i_ = j + 1;
    return true;
  }

  void lexPunct(Token& t) {
    static constexpr std::string_view kTwo[] = {"..", "!=", "<>", "<=", ">=", "^^", "&&", "||"};
    t.kind = TokenKind::Punct;
    for (auto two : kTwo) {
      // In GQL "<>" is not-equal, but "<-" starts an edge; both are unambiguous here.
      if (text_.substr(i_, 2) == two) {
        t.text = std::string(two);
        i_ += 2;
        return;
      }
    }
    static constexpr std::string_view kOne = "()[]{}:,.|*+-<>=;?^/~!@&%";
    char c = text_[i_];
    if (kOne.find(c) == std::string_view::npos) {
      failParse(text_, i_, fmt::format("unexpected character '{}'", describeChar()));
    }
    t.text = std::string(1, c);
    ++i_;
  }

  std::string describeChar() const {
    unsigned char c = static_cast<unsigned char>(text_[i_]);
    if (c < 0x20 || c == 0x7F) return fmt::format("\\x{:02x}", c);
    std::size_t n = 1;
    while (i_ + n < text_.size() && (static_cast<unsigned char>(text_[i_ + n]) & 0xC0) == 0x80) ++n;
    return std::string(text_.substr(i_, n));
  }

  std::string_view text_;
  LexMode mode_;
  std::size_t i_ = 0;
};

}  // namespace

std::vector<Token> tokenize(std::string_view text, LexMode mode) { return Lexer(text, mode).run(); }

bool keywordIs(const Token& t, std::string_view keyword) noexcept {
  if (t.kind != TokenKind::Ident || t.text.size() != keyword.size()) return false;
  for (std::size_t i = 0; i < keyword.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(t.text[i])) != std::toupper(static_cast<unsigned char>(keyword[i]))) {
      return false;
    }
  }
  return true;
}

bool punctIs(const Token& t, std::string_view p) noexcept { return t.kind == TokenKind::Punct && t.text == p; }

std::string asciiLower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string describe(const Token& t) {
  switch (t.kind) {
    case TokenKind::End: return "the end of the query";
    case TokenKind::String: return "a string";
    case TokenKind::Var: return "?" + t.text;
    case TokenKind::Param: return "$" + t.text;
    case TokenKind::Iri: return "<" + t.text + ">";
    default: return "'" + t.text + "'";
  }
}

void failParse(std::string_view text, std::size_t offset, const std::string& message) {
  std::size_t pos = characterPosition(text, offset);
  throw QueryError(QueryErrorClass::Parse, fmt::format("parse error at position {}: {}", pos, message), pos);
}

}  // namespace khive::query::detail
