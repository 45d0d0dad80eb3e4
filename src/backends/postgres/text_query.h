#pragma once
// The statement PgTextSearch::searchText runs, built apart from running it so the fuzz target
// (tests/fuzz/fuzz_tsquery.cc) can check it without a server: the user's text travels only as
// parameter $1 (made valid UTF-8 without NUL) and becomes a tsquery inside the statement
// (khive_text_clean, then plainto_tsquery, phraseto_tsquery or the OR of the lexemes), so the
// SQL text is the same whatever the user typed.

#include "backends/postgres/sql_build.h"
#include "khive/storage/text_search.h"

namespace khive::postgres {

// The search statement for `query`. Throws Error(InvalidInput) for no namespace or a top_k
// outside 1..10,000. Pure function: thread-safe.
SqlBuilder textSearchStatement(const storage::TextQuery& query);

}  // namespace khive::postgres
