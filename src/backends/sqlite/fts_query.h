#pragma once
// The one place user text becomes an FTS5 MATCH expression.
//
// FTS5 has its own query language: `multi-agent` parses as the column filter `multi` minus
// `agent` ("no such column: multi"), `"` opens a string, `(`, `*`, `^`, `:`, `+` and the
// upper-case words AND, OR, NOT and NEAR are operators. The builder therefore treats the
// user's text as data only: it splits it at white space and emits every token that is not a
// plain ASCII bareword as an FTS5 string ("..." with `"` doubled), which FTS5 hands to the
// tokenizer instead of the parser. The only operators in the output are the ones the builder
// writes itself (implicit AND, OR). Worked examples (plain mode):
//
//   multi-agent systems   ->  "multi-agent" systems     (a phrase "multi agent", AND systems)
//   O'Reilly NEAR C++     ->  "O'Reilly" "NEAR" "C++"
//   say "hi               ->  say """hi"
//
// Phrase mode quotes the whole text as one string; any-term mode joins the tokens with OR.
// Plain and any-term modes search a repeated token once (ASCII case folded: `a A a` -> `a`).
// More than storage::kMaxSearchTerms tokens (distinct ones outside phrase mode) is
// Error(InvalidInput).

#include <string>
#include <string_view>

#include "khive/storage/text_search.h"

namespace khive::sqlite {

// Valid UTF-8 with NUL, other control characters and invalid byte sequences replaced by a
// space (FTS5 ends a string at NUL, and the tokenizer would otherwise see garbage).
std::string sanitizeQueryText(std::string_view text);

// The MATCH expression for the text, or "" when the text holds no token at all (the caller
// then returns no hits without running a query). Never produces an FTS5 syntax error; throws
// Error(InvalidInput) past storage::kMaxSearchTerms terms.
std::string buildFtsMatch(std::string_view text, storage::TextMode mode);

}  // namespace khive::sqlite
