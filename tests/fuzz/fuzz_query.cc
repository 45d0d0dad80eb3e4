// Query front end fuzz target, built twice: fuzz_gql (KHIVE_FUZZ_SPARQL=0) and fuzz_sparql
// (KHIVE_FUZZ_SPARQL=1). The input is query text in that language. It is parsed, bound and
// compiled for both SQL dialects, and what compiles for SQLite runs on a small graph.
//
// Checked: the compiler throws only the query layer's errors (InvalidInput, Unsupported);
// both dialects accept the same queries (parse and bind are shared); SQL the compiler
// produced is valid for the engine (SQLite runs it without an error).

#include <optional>

#include "fuzz_graph_fixture.h"
#include "fuzz_support.h"
#include "khive/query/compiler.h"
#include "khive/query/postgres_dialect.h"
#include "khive/query/sqlite_dialect.h"

#ifndef KHIVE_FUZZ_SPARQL
#error "define KHIVE_FUZZ_SPARQL to 0 (GQL) or 1 (SPARQL)"
#endif

using namespace khive;

namespace {

constexpr query::Language kLanguage = KHIVE_FUZZ_SPARQL ? query::Language::Sparql : query::Language::Gql;

query::CompileOptions options() {
  query::CompileOptions o;
  o.namespaces = {"main", "other"};
  o.rowCap = 50;
  // The parameters the parity files use, so their seeds compile.
  o.parameters = Json{{"x", "LoRA"}, {"n", "qlora"}, {"names", {"LoRA", "Adapter"}}, {"y", 2019}};
  return o;
}

std::optional<query::CompiledQuery> compileFor(const query::SqlDialect& dialect, std::string_view text,
                                               const query::CompileOptions& o) {
  try {
    return query::QueryCompiler(dialect).compile(text, kLanguage, o);
  } catch (const Error& e) {
    if (e.capability() != "query") fuzz::fail(std::string("an error outside the query layer: ") + e.what());
    fuzz::expectCode(e, {ErrorCode::InvalidInput, ErrorCode::Unsupported});
    return std::nullopt;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static runtime::Runtime& rt = fuzz::fixtureRuntime();
  static const query::CompileOptions o = options();
  const std::string_view text = fuzz::asText(data, size);

  auto sqlite = compileFor(query::sqliteDialect(), text, o);
  auto postgres = compileFor(query::postgresDialect(), text, o);
  if (sqlite.has_value() != postgres.has_value()) fuzz::fail("one dialect compiled the query and the other refused it");
  if (!sqlite) return 0;
  if (sqlite->columns != postgres->columns) fuzz::fail("the dialects disagree on the result columns");

  try {
    auto reader = rt.backend().sql().reader();
    auto rows = reader->query(sqlite->sql, sqlite->params);
    query::applyRowCap(*sqlite, rows.rows);
    if (static_cast<std::int64_t>(rows.rows.size()) > sqlite->rowCap) fuzz::fail("more rows than the row cap");
  } catch (const Error& e) {
    // A time or work budget may end a query; anything else means the compiler wrote SQL that
    // SQLite refuses.
    if (e.code() != ErrorCode::Timeout) fuzz::fail(std::string("SQLite refused compiled SQL: ") + e.what() + "\n" + sqlite->sql);
  }
  return 0;
}
