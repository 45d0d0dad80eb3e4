#pragma once
// Front ends: hand-written recursive-descent parsers for the GQL and SPARQL subsets.
// They check syntax and reject the constructs khive does not run (writes, comma patterns,
// aliases, aggregates, OPTIONAL, FILTER, ...); names are resolved later by the binder.
//
// Stateless free functions: thread-safe.

#include <string_view>

#include "khive/query/ast.h"

namespace khive::query {

// Throw QueryError (Parse with a position, Unsupported, or InvalidInput for limits).
Query parseGql(std::string_view text);
Query parseSparql(std::string_view text);
Query parse(std::string_view text, Language language);

// SPARQL when the first keyword is SELECT, PREFIX, ASK, CONSTRUCT, DESCRIBE or a SPARQL
// update verb (INSERT DATA, LOAD, CLEAR, ...); GQL otherwise.
Language detectLanguage(std::string_view text) noexcept;

}  // namespace khive::query
