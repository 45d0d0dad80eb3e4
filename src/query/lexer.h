#pragma once
// Tokenizer shared by the GQL and SPARQL front ends (stage 1 of parse -> bind -> compile).
// Keywords are not distinguished from identifiers here: the parsers compare them
// case-insensitively, so `match`, `MATCH` and `Match` are the same keyword.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace khive::query::detail {

enum class TokenKind {
  Ident,         // name or keyword
  String,        // decoded text of '...' or "..."
  Integer,
  Float,
  Param,         // GQL $name (text = name)
  Var,           // SPARQL ?name / $name (text = name)
  PrefixedName,  // SPARQL pfx:local or :local (text = whole, prefix/local split by the parser)
  Iri,           // SPARQL <...> (text = inside)
  Punct,         // ( ) [ ] { } : , . .. | * + - < > = != <> <= >= ; ? ^ / ~ !
  End,
};

struct Token {
  TokenKind kind = TokenKind::End;
  std::string text;
  std::int64_t intValue = 0;
  double floatValue = 0;
  std::size_t pos = 0;  // byte offset
  bool integerOverflow = false;
};

enum class LexMode { Gql, Sparql };

// Throws QueryError(Parse) with the character position of a bad character or unterminated string.
std::vector<Token> tokenize(std::string_view text, LexMode mode);

bool keywordIs(const Token& t, std::string_view keyword) noexcept;  // ASCII case-insensitive
bool punctIs(const Token& t, std::string_view p) noexcept;
std::string asciiLower(std::string_view s);
std::string describe(const Token& t);  // for messages: 'MATCH', end of query, ...

[[noreturn]] void failParse(std::string_view text, std::size_t offset, const std::string& message);

}  // namespace khive::query::detail
