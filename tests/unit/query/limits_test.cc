// Size limits of the query front end: an oversized query is refused while it is read, before
// any work that grows with it (binding, compiling, planning).

#include <gtest/gtest.h>

#include <string>

#include "khive/query/compiler.h"
#include "khive/query/errors.h"
#include "khive/query/parse.h"
#include "khive/query/sqlite_dialect.h"

namespace khive::query {
namespace {

// MATCH (n0)-[:extends]->(n1)-...->(n<edges>) RETURN n0.name
std::string gqlChain(std::size_t edges) {
  std::string q = "MATCH (n0)";
  for (std::size_t i = 1; i <= edges; ++i) q += "-[:extends]->(n" + std::to_string(i) + ")";
  return q + " RETURN n0.name";
}

// SELECT ?n0 WHERE { ?n0 :extends ?n1 . ?n1 :extends ?n2 . ... }
std::string sparqlChain(std::size_t edges) {
  std::string q = "SELECT ?n0 WHERE {";
  for (std::size_t i = 0; i < edges; ++i) q += " ?n" + std::to_string(i) + " :extends ?n" + std::to_string(i + 1) + " .";
  return q + " }";
}

QueryError errorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const QueryError& e) {
    return e;
  }
  ADD_FAILURE() << "no QueryError";
  return QueryError(QueryErrorClass::Parse, "none");
}

CompileOptions scope() {
  CompileOptions o;
  o.namespaces = {"main"};
  o.maxQueryBytes = std::size_t{64} << 20;  // the size limit is not what these tests exercise
  return o;
}

TEST(QueryLimits, APathOfUpToTheEdgeLimitCompiles) {
  EXPECT_NO_THROW(QueryCompiler(sqliteDialect()).compile(gqlChain(kMaxPathEdges), Language::Gql, scope()));
  EXPECT_NO_THROW(QueryCompiler(sqliteDialect()).compile(sparqlChain(kMaxPathEdges), Language::Sparql, scope()));
}

TEST(QueryLimits, ALongerPathIsRefusedWhileParsing) {
  // The refusal comes from the parser, at the first edge past the limit.
  auto e = errorOf([&] { parseGql(gqlChain(kMaxPathEdges + 1)); });
  EXPECT_EQ(e.errorClass(), QueryErrorClass::InvalidInput);
  EXPECT_EQ(e.code(), ErrorCode::InvalidInput);
  EXPECT_NE(std::string(e.message()).find("more than 16 edges"), std::string::npos) << e.message();
  e = errorOf([&] { parseSparql(sparqlChain(kMaxPathEdges + 1)); });
  EXPECT_EQ(e.errorClass(), QueryErrorClass::InvalidInput);
  EXPECT_NE(std::string(e.message()).find("more than 16 edges"), std::string::npos) << e.message();
  e = errorOf([&] { parseSparql(sparqlChain(kMaxTriplePatterns + 1)); });
  EXPECT_EQ(e.errorClass(), QueryErrorClass::InvalidInput);
  EXPECT_NE(std::string(e.message()).find("triple patterns"), std::string::npos) << e.message();
  // 10,000 edges: the lexer's token limit or the parser's edge limit, whichever comes first.
  for (const auto& text : {gqlChain(10'000), sparqlChain(10'000)}) {
    e = errorOf([&] { QueryCompiler(sqliteDialect()).compile(text, detectLanguage(text), scope()); });
    EXPECT_EQ(e.errorClass(), QueryErrorClass::InvalidInput);
    EXPECT_NE(std::string(e.message()).find("split it into smaller queries"), std::string::npos) << e.message();
  }
}

TEST(QueryLimits, TooManyTokensAreRefusedByTheLexer) {
  // One IN list of 30,000 values: a single edge-free pattern, refused for its tokens.
  std::string q = "MATCH (a) WHERE a.name IN [";
  for (int i = 0; i < 15'000; ++i) q += (i ? ",'x'" : "'x'");
  q += "] RETURN a.name";
  auto e = errorOf([&] { parseGql(q); });
  EXPECT_EQ(e.errorClass(), QueryErrorClass::InvalidInput);
  EXPECT_NE(std::string(e.message()).find("more than 20000 tokens"), std::string::npos) << e.message();
}

TEST(QueryLimits, AnOversizedTextIsRefusedBeforeItIsRead) {
  CompileOptions o = scope();
  o.maxQueryBytes = 1024;
  const std::string text = "MATCH (a) RETURN a.name /*" + std::string(2000, ' ') + "*/";
  auto e = errorOf([&] { QueryCompiler(sqliteDialect()).compile(text, Language::Gql, o); });
  EXPECT_EQ(e.errorClass(), QueryErrorClass::InvalidInput);
  EXPECT_NE(std::string(e.message()).find("max_query_bytes"), std::string::npos) << e.message();
  o.maxQueryBytes = text.size();
  EXPECT_NO_THROW(QueryCompiler(sqliteDialect()).compile(text, Language::Gql, o));
}

}  // namespace
}  // namespace khive::query
