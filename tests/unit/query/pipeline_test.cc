// Pipelined queries (OPTIONAL MATCH, MATCH clauses, WITH; SPARQL OPTIONAL, FILTER NOT EXISTS,
// MINUS): the parsed clauses, the bound steps, and the one statement they compile to. Their
// answers are the parity suite's (tests/parity/gql_optional.test, gql_with.test,
// sparql_optional.test).

#include <gtest/gtest.h>

#include <regex>

#include "khive/query/compiler.h"
#include "khive/query/errors.h"
#include "khive/query/parse.h"
#include "khive/query/postgres_dialect.h"
#include "khive/query/sqlite_dialect.h"

namespace khive::query {
namespace {

CompileOptions scope(std::vector<std::string> namespaces = {"main"}) {
  CompileOptions o;
  o.namespaces = std::move(namespaces);
  return o;
}

TEST(PipelineParser, OneMatchStaysASingleChain) {
  Query q = parseGql("MATCH (a)-[:extends]->(b) WHERE b.name = 'x' RETURN a.name");
  EXPECT_TRUE(q.stages.empty());
  EXPECT_EQ(q.nodes.size(), 2u);
  EXPECT_TRUE(q.where.has_value());
}

TEST(PipelineParser, GqlClausesBecomeStages) {
  Query q = parseGql(
      "MATCH (a:concept) OPTIONAL MATCH (a)-[e:extends]->(b) WHERE e.weight > 0.5 "
      "WITH a, count(b) AS n ORDER BY n DESC LIMIT 3 WHERE n > 0 MATCH (a)<-[:implements]-(l) RETURN l.name, n");
  ASSERT_EQ(q.stages.size(), 2u);
  ASSERT_EQ(q.stages[0].matches.size(), 2u);
  EXPECT_EQ(q.stages[0].matches[0].kind, ClauseKind::Match);
  EXPECT_EQ(q.stages[0].matches[1].kind, ClauseKind::Optional);
  EXPECT_TRUE(q.stages[0].matches[1].where.has_value());
  ASSERT_TRUE(q.stages[0].with.has_value());
  const WithClause& w = *q.stages[0].with;
  EXPECT_EQ(w.items.size(), 2u);
  EXPECT_EQ(w.items[1].alias, "n");
  EXPECT_EQ(w.orderBy.size(), 1u);
  EXPECT_EQ(w.limit, 3);
  EXPECT_TRUE(w.where.has_value());
  ASSERT_EQ(q.stages[1].matches.size(), 1u);
  EXPECT_FALSE(q.stages[1].with.has_value());
  EXPECT_EQ(q.returns.size(), 2u);
  EXPECT_TRUE(q.nodes.empty());
}

TEST(PipelineParser, SparqlGroupsBecomeClausesInWrittenOrder) {
  Query q = parseSparql(
      "SELECT ?n WHERE { ?a :name ?n . OPTIONAL { ?a :extends ?b } MINUS { ?a :variant_of ?c } "
      "FILTER NOT EXISTS { ?a :supersedes ?d } }");
  ASSERT_EQ(q.stages.size(), 1u);
  auto& m = q.stages[0].matches;
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[0].kind, ClauseKind::Match);
  EXPECT_EQ(m[1].kind, ClauseKind::Optional);
  EXPECT_EQ(m[2].kind, ClauseKind::Minus);
  EXPECT_EQ(m[3].kind, ClauseKind::NotExists);
  EXPECT_EQ(m[1].nodes.size(), 2u);
}

TEST(PipelineBinder, OptionalSlotsAreNullableAndSharedNodesSeedTheClause) {
  BoundQuery b = bind(parseGql("MATCH (a:concept) OPTIONAL MATCH (a)-[e]->(b) WITH a, b.name AS n RETURN a.name, n"), scope());
  ASSERT_EQ(b.steps.size(), 3u);
  const BoundStep& optional = b.steps[1];
  EXPECT_EQ(optional.kind, ClauseKind::Optional);
  ASSERT_EQ(optional.slots.size(), 3u);  // a, b, e
  EXPECT_FALSE(optional.slots[0].nullable);
  EXPECT_TRUE(optional.slots[1].nullable);
  EXPECT_EQ(optional.slots[2].kind, SlotKind::Edge);
  EXPECT_EQ(optional.query.nodes[0].slot, 0);
  EXPECT_TRUE(optional.query.nodes[0].seeded);
  // The bound variable keeps the substrates of its first clause.
  const BoundStep& with = b.steps[2];
  EXPECT_TRUE(with.query.intermediate);
  ASSERT_EQ(with.slots.size(), 2u);
  EXPECT_EQ(with.slots[1].name, "n");
  EXPECT_EQ(with.slots[1].kind, SlotKind::Value);
  EXPECT_TRUE(b.projection);
  EXPECT_EQ(b.columns.size(), 2u);
}

TEST(PipelineBinder, MinusOnAnOptionalVariableDoesNotSeedIt) {
  BoundQuery b = bind(parseSparql("SELECT ?n WHERE { ?a :name ?n . OPTIONAL { ?a :introduced_by ?p } MINUS { ?p :introduced_by ?x } }"),
                      scope());
  ASSERT_EQ(b.steps.size(), 3u);
  EXPECT_EQ(b.steps[2].kind, ClauseKind::Minus);
  int seen = 0;
  for (auto& n : b.steps[2].query.nodes) {
    if (n.var != "p") continue;
    EXPECT_FALSE(n.seeded);
    ++seen;
  }
  EXPECT_EQ(seen, 1);
}

TEST(PipelineBinder, ErrorsNameWhatToWrite) {
  struct Case {
    const char* text;
    QueryErrorClass cls;
    const char* hint;
  } cases[] = {
      {"OPTIONAL MATCH (a) RETURN a", QueryErrorClass::Unsupported, "starts with a required pattern"},
      {"MATCH (a) MATCH (b) RETURN a", QueryErrorClass::Unsupported, "shares no variable"},
      {"MATCH (a)-[e]->(b) MATCH (b)-[e]->(c) RETURN c", QueryErrorClass::Unsupported, "already bound"},
      {"MATCH (a)-->(c) OPTIONAL MATCH (a)-->(b) WHERE c.name = 'x' RETURN b", QueryErrorClass::Compile,
       "WITH ... WHERE"},
      {"MATCH (a) WITH a.name RETURN a", QueryErrorClass::Compile, "AS name"},
      {"MATCH (a) WITH a.name AS n RETURN n.x", QueryErrorClass::Compile, "a value"},
  };
  for (auto& c : cases) {
    try {
      bind(parseGql(c.text), scope());
      ADD_FAILURE() << "accepted: " << c.text;
    } catch (const QueryError& e) {
      EXPECT_EQ(e.errorClass(), c.cls) << c.text << ": " << e.what();
      EXPECT_NE(std::string(e.what()).find(c.hint), std::string::npos) << c.text << ": " << e.what();
    }
  }
}

const char* kPipelines[] = {
    "MATCH (x {name: 'v'})-[*1..2]->(y) OPTIONAL MATCH (y)-[e:extends]-(z:entity) WHERE z.name = 'w' "
    "WITH x, z, count(e) AS n WHERE n >= 0 MATCH (z)<-[:implements]-(l) RETURN x, z.name, l, n ORDER BY n DESC LIMIT 5",
    "SELECT ?a ?c WHERE { ?a :name 'v' . OPTIONAL { ?a :extends ?b . ?b :name ?c } MINUS { ?a :variant_of+ ?d } "
    "FILTER NOT EXISTS { ?a :supersedes ?e } }",
};

TEST(PipelineCompiler, OneStatementWithTheScopeOnEveryAlias) {
  for (const SqlDialect* d : {&sqliteDialect(), &postgresDialect()}) {
    for (auto text : kPipelines) {
      CompiledQuery q = QueryCompiler(*d).compile(text, scope({"a", "b"}));
      EXPECT_EQ(q.sql.rfind("WITH RECURSIVE ", 0), 0u) << q.sql;
      EXPECT_EQ(q.sql.find(';'), std::string::npos);
      std::regex alias(R"((entities|notes|edges|events) AS (\w+))");
      int aliases = 0;
      for (std::sregex_iterator it(q.sql.begin(), q.sql.end(), alias), end; it != end; ++it) {
        ++aliases;
        std::string name = (*it)[2];
        std::string ns = d == &sqliteDialect() ? "?1, ?2" : "$1::text, $2::text";
        EXPECT_NE(q.sql.find(name + ".namespace IN (" + ns + ")"), std::string::npos) << name << " unscoped in " << q.sql;
      }
      EXPECT_GE(aliases, 8);
    }
  }
}

TEST(PipelineCompiler, ValuesOfEveryClauseAreBoundParameters) {
  const std::string hostile = "x') OR 1=1 --";
  for (const SqlDialect* d : {&sqliteDialect(), &postgresDialect()}) {
    CompileOptions o = scope();
    o.parameters = Json{{"v", hostile}};
    CompiledQuery q = QueryCompiler(*d).compile(
        "MATCH (a {name: $v}) OPTIONAL MATCH (a)-->(b) WHERE b.name = $v WITH a, b.name AS n WHERE n <> $v RETURN n", o);
    EXPECT_EQ(q.sql.find("OR 1=1"), std::string::npos) << q.sql;
    int bound = 0;
    for (auto& p : q.params) {
      if (auto s = std::get_if<std::string>(&p); s && *s == hostile) ++bound;
    }
    EXPECT_EQ(bound, 1);  // one parameter, reused by every clause
  }
}

}  // namespace
}  // namespace khive::query
