#pragma once
// Front ends: hand-written recursive-descent parsers for the GQL and SPARQL subsets.
// They check syntax and reject the constructs khive does not run (writes, comma patterns,
// named paths, FILTER other than NOT EXISTS, ...); names are resolved later by the binder.
//
// Stateless free functions: thread-safe.

#include <cstddef>
#include <string_view>

#include "khive/query/ast.h"

namespace khive::query {

// Size limits checked while the text is read, so an oversized query is refused before any
// work grows with it (QueryError InvalidInput naming the limit): tokens in the text, edges in
// the one connected path, triple patterns in a SPARQL WHERE block. The byte size of the text
// is CompileOptions::maxQueryBytes.
inline constexpr std::size_t kMaxQueryTokens = 20'000;
inline constexpr std::size_t kMaxPathEdges = 16;
inline constexpr std::size_t kMaxTriplePatterns = 128;

// Throw QueryError (Parse with a position, Unsupported, or InvalidInput for limits).
Query parseGql(std::string_view text);
Query parseSparql(std::string_view text);
Query parse(std::string_view text, Language language);

// SPARQL when the first keyword is SELECT, PREFIX, ASK, CONSTRUCT, DESCRIBE or a SPARQL
// update verb (INSERT DATA, LOAD, CLEAR, ...); GQL otherwise.
Language detectLanguage(std::string_view text) noexcept;

}  // namespace khive::query
