#pragma once
// Cursor over a token vector with the error helpers both parsers use. Single-threaded.

#include <fmt/format.h>

#include <string>
#include <string_view>
#include <vector>

#include "khive/query/errors.h"
#include "query/lexer.h"

namespace khive::query::detail {

// Message of every rejected write form, in both languages.
inline constexpr std::string_view kReadOnlyMessage =
    "khive queries are read-only: CREATE, MERGE, SET, DELETE, DETACH DELETE, REMOVE (GQL) and INSERT, "
    "DELETE, LOAD, CLEAR, DROP, CREATE, ADD, MOVE, COPY (SPARQL Update) are the verbs that write; change the "
    "graph with the khive create, update, link and delete verbs instead";

class TokenStream {
 public:
  TokenStream(std::string_view text, std::vector<Token> tokens) : text_(text), tokens_(std::move(tokens)) {}

  const Token& peek(std::size_t ahead = 0) const {
    std::size_t i = i_ + ahead;
    return i < tokens_.size() ? tokens_[i] : tokens_.back();
  }
  const Token& next() {
    const Token& t = peek();
    if (i_ < tokens_.size() - 1) ++i_;
    return t;
  }
  bool atEnd() const { return peek().kind == TokenKind::End; }
  bool acceptKeyword(std::string_view kw) {
    if (!keywordIs(peek(), kw)) return false;
    next();
    return true;
  }
  bool acceptPunct(std::string_view p) {
    if (!punctIs(peek(), p)) return false;
    next();
    return true;
  }
  const Token& expectPunct(std::string_view p, std::string_view what = {}) {
    if (!punctIs(peek(), p)) {
      fail(peek(), fmt::format("expected '{}'{} but found {}", p, what, describe(peek())));
    }
    return next();
  }
  void expectKeyword(std::string_view kw) {
    if (!keywordIs(peek(), kw)) fail(peek(), fmt::format("expected {} but found {}", kw, describe(peek())));
    next();
  }

  [[noreturn]] void fail(const Token& at, const std::string& message) const { failParse(text_, at.pos, message); }
  [[noreturn]] void unsupported(const Token& at, const std::string& message) const {
    std::size_t pos = characterPosition(text_, at.pos);
    throw QueryError(QueryErrorClass::Unsupported, fmt::format("{} (at position {})", message, pos), pos);
  }
  [[noreturn]] void invalidInput(const Token& at, const std::string& message) const {
    std::size_t pos = characterPosition(text_, at.pos);
    throw QueryError(QueryErrorClass::InvalidInput, fmt::format("{} (at position {})", message, pos), pos);
  }

  std::string_view text() const { return text_; }

 private:
  std::string_view text_;
  std::vector<Token> tokens_;
  std::size_t i_ = 0;
};

}  // namespace khive::query::detail
