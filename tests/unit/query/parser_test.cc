// Front ends: AST shapes, parse errors with positions, rejected constructs.

#include <gtest/gtest.h>

#include "khive/query/errors.h"
#include "khive/query/parse.h"

namespace khive::query {
namespace {

QueryError errorOf(std::string_view text, Language lang) {
  try {
    parse(text, lang);
  } catch (const QueryError& e) {
    return e;
  }
  ADD_FAILURE() << "no error for: " << text;
  return QueryError(QueryErrorClass::Parse, "none");
}

TEST(GqlParser, FullQueryShape) {
  Query q = parseGql(
      "MATCH (a:concept {name:'LoRA', year: 2021})-[e:extends|VARIANT_OF*1..3]->(b)<-[:part_of]-(c) "
      "WHERE b.kind = 'paper' AND b.properties.x.y >= -2.5 OR c.name IN ['a', \"b\"] "
      "RETURN DISTINCT a.name, b SKIP 10 LIMIT 20;");
  ASSERT_EQ(q.nodes.size(), 3u);
  ASSERT_EQ(q.edges.size(), 2u);
  EXPECT_EQ(q.nodes[0].var, "a");
  EXPECT_EQ(q.nodes[0].label, "concept");
  ASSERT_EQ(q.nodes[0].properties.size(), 2u);
  EXPECT_EQ(std::get<std::string>(q.nodes[0].properties[0].value.value), "LoRA");
  EXPECT_EQ(std::get<std::int64_t>(q.nodes[0].properties[1].value.value), 2021);
  EXPECT_EQ(q.edges[0].var, "e");
  EXPECT_EQ(q.edges[0].relations, (std::vector<std::string>{"extends", "VARIANT_OF"}));
  EXPECT_TRUE(q.edges[0].variableLength);
  EXPECT_EQ(q.edges[0].minHops, 1);
  EXPECT_EQ(q.edges[0].maxHops, 3);
  EXPECT_EQ(q.edges[0].direction, EdgeDirection::Out);
  EXPECT_EQ(q.edges[1].direction, EdgeDirection::In);
  ASSERT_TRUE(q.where);
  ASSERT_EQ(q.where->anyOf.size(), 2u);
  EXPECT_EQ(q.where->anyOf[0].size(), 2u);
  EXPECT_EQ(q.where->anyOf[0][1].field.path, (std::vector<std::string>{"properties", "x", "y"}));
  EXPECT_DOUBLE_EQ(std::get<double>(q.where->anyOf[0][1].value.value), -2.5);
  EXPECT_EQ(q.where->anyOf[1][0].op, CompareOp::In);
  EXPECT_TRUE(q.distinct);
  EXPECT_EQ(q.returns.size(), 2u);
  EXPECT_EQ(q.skip, 10);
  EXPECT_EQ(q.limit, 20);
}

TEST(GqlParser, EdgeForms) {
  auto dir = [](std::string_view t) { return parseGql(t).edges.at(0).direction; };
  EXPECT_EQ(dir("MATCH (a)-->(b) RETURN a"), EdgeDirection::Out);
  EXPECT_EQ(dir("MATCH (a)<--(b) RETURN a"), EdgeDirection::In);
  EXPECT_EQ(dir("MATCH (a)--(b) RETURN a"), EdgeDirection::Both);
  EXPECT_EQ(dir("MATCH (a)-[]-(b) RETURN a"), EdgeDirection::Both);
  EXPECT_EQ(dir("MATCH (a)<-[r]-(b) RETURN a"), EdgeDirection::In);
  auto e = parseGql("MATCH (a)-[*]->(b) RETURN a").edges.at(0);
  EXPECT_EQ(e.minHops, 1);
  EXPECT_EQ(e.maxHops, 5);
  e = parseGql("MATCH (a)-[*4]->(b) RETURN a").edges.at(0);
  EXPECT_EQ(e.minHops, 4);
  EXPECT_EQ(e.maxHops, 4);
  e = parseGql("MATCH (a)-[*..7]->(b) RETURN a").edges.at(0);
  EXPECT_EQ(e.minHops, 1);
  EXPECT_EQ(e.maxHops, 7);
  e = parseGql("MATCH (a)-[*2..]->(b) RETURN a").edges.at(0);
  EXPECT_TRUE(e.openUpperBound);
}

TEST(GqlParser, KeywordsAreCaseInsensitiveAndStringsUnescape) {
  Query q = parseGql("match (a) where a.name starts with 'it\\'s \\u00e9' return a limit 1");
  EXPECT_EQ(q.where->anyOf[0][0].op, CompareOp::StartsWith);
  EXPECT_EQ(std::get<std::string>(q.where->anyOf[0][0].value.value), "it's \xC3\xA9");
  q = parseGql("MATCH (a) WHERE a.x IS NOT NULL AND a.y IS NULL RETURN a // trailing comment");
  EXPECT_EQ(q.where->anyOf[0][0].op, CompareOp::IsNotNull);
  EXPECT_EQ(q.where->anyOf[0][1].op, CompareOp::IsNull);
}

TEST(GqlParser, ParseErrorsCarryCharacterPositions) {
  QueryError e = errorOf("MATCH (a RETURN a", Language::Gql);
  EXPECT_EQ(e.errorClass(), QueryErrorClass::Parse);
  ASSERT_TRUE(e.position());
  EXPECT_EQ(*e.position(), 10u);  // 'RETURN' starts at character 10
  EXPECT_NE(e.message().find("position 10"), std::string::npos) << e.message();
  EXPECT_NE(e.message().find("')'"), std::string::npos) << e.message();
  // Positions count characters, not bytes: 'é' is one character.
  e = errorOf("MATCH (a {name: 'é'}) RETURN a LIMIT x", Language::Gql);
  EXPECT_EQ(*e.position(), 38u);
  e = errorOf("MATCH (a) WHERE a.name = 'open", Language::Gql);
  EXPECT_EQ(*e.position(), 26u);
  EXPECT_NE(e.message().find("unterminated string"), std::string::npos);
  EXPECT_EQ(errorOf("MATCH (a)<-[r]->(b) RETURN a", Language::Gql).errorClass(), QueryErrorClass::Parse);
  EXPECT_EQ(e.code(), ErrorCode::InvalidInput);
  EXPECT_EQ(classifyQueryError(static_cast<const Error&>(e)), QueryErrorClass::Parse);
}

TEST(GqlParser, WritesAreRejectedNamingTheWriteVerbs) {
  for (auto text : {"CREATE (a)", "MERGE (a) RETURN a", "MATCH (a) SET a.x = 1", "MATCH (a) DELETE a",
                    "MATCH (a) DETACH DELETE a", "MATCH (a) REMOVE a.x", "DROP INDEX i"}) {
    QueryError e = errorOf(text, Language::Gql);
    EXPECT_EQ(e.errorClass(), QueryErrorClass::Unsupported) << text;
    EXPECT_EQ(e.code(), ErrorCode::Unsupported);
    for (auto verb : {"CREATE", "MERGE", "SET", "DELETE", "REMOVE", "INSERT", "LOAD", "CLEAR", "DROP"}) {
      EXPECT_NE(e.message().find(verb), std::string::npos) << verb << " missing from: " << e.message();
    }
  }
}

TEST(GqlParser, NamedPathsAndShortestPaths) {
  Query q = parseGql("MATCH p = (a {name: 'x'})-[:extends*1..3]->(b) RETURN p, length(p), nodes(p), rels(p)");
  ASSERT_TRUE(q.path);
  EXPECT_EQ(q.path->var, "p");
  EXPECT_EQ(q.path->mode, PathMode::All);
  ASSERT_EQ(q.returns.size(), 4u);
  EXPECT_EQ(q.returns[0].pathFunction, PathFunction::None);
  EXPECT_EQ(q.returns[1].pathFunction, PathFunction::Length);
  EXPECT_EQ(q.returns[2].pathFunction, PathFunction::Nodes);
  EXPECT_EQ(q.returns[3].pathFunction, PathFunction::Relationships);
  for (auto& r : q.returns) EXPECT_EQ(r.field.var, "p");

  q = parseGql("MATCH p = shortestPath((a)-[*..6]-(b)) RETURN p");
  ASSERT_TRUE(q.path);
  EXPECT_EQ(q.path->mode, PathMode::Shortest);
  EXPECT_EQ(q.edges.at(0).maxHops, 6);
  q = parseGql("MATCH ALLSHORTESTPATHS((a)-[*..2]->(b)) RETURN b.name");
  ASSERT_TRUE(q.path);
  EXPECT_EQ(q.path->var, "");
  EXPECT_EQ(q.path->mode, PathMode::AllShortest);
  q = parseGql("MATCH (a)-->(b) RETURN a.name");
  EXPECT_FALSE(q.path);

  EXPECT_EQ(errorOf("MATCH p = shortestPath((a)-->(b) RETURN p", Language::Gql).errorClass(), QueryErrorClass::Parse);
  EXPECT_EQ(errorOf("MATCH p = (a)-->(b) RETURN length(p.x)", Language::Gql).errorClass(), QueryErrorClass::Parse);
  EXPECT_EQ(errorOf("MATCH p = (a)-->(b) WHERE length(p) > 1 RETURN p", Language::Gql).errorClass(),
            QueryErrorClass::Unsupported);
}

TEST(GqlParser, UnsupportedConstructsSayWhatToWriteInstead) {
  struct Case {
    const char* text;
    const char* hint;
  } cases[] = {
      {"MATCH (a), (b) RETURN a", "one connected chain"},
      {"MATCH (a) RETURN stdev(a.x)", "use count, sum, avg, min, max or collect"},
      {"MATCH (a) RETURN toLower(a.name)", "functions such as"},
      {"MATCH p = longestPath((a)-->(b)) RETURN p", "shortestPath"},
      {"MATCH (a) WHERE (a.x = 1) RETURN a", "AND binds tighter"},
      {"MATCH (a) WHERE NOT a.x = 1 RETURN a", "use !="},
      {"MATCH (a:x:y) RETURN a", "IN ["},
      {"MATCH (a)-->(b) WHERE a.name = b.name RETURN a", "compare a field with a literal"},
  };
  for (auto& c : cases) {
    QueryError e = errorOf(c.text, Language::Gql);
    EXPECT_EQ(e.errorClass(), QueryErrorClass::Unsupported) << c.text;
    EXPECT_NE(e.message().find(c.hint), std::string::npos) << c.text << " -> " << e.message();
  }
}

TEST(SparqlParser, ChainIsLaidOutFromAnEnd) {
  Query q = parseSparql(
      "PREFIX kg: <http://x/> SELECT ?a ?c WHERE { ?b kg:extends ?a . ?a a :concept ; :name 'LoRA' . "
      "?b :part_of{2,4} ?c . } LIMIT 5 OFFSET 2");
  ASSERT_EQ(q.nodes.size(), 3u);
  // ?b is mentioned first but sits in the middle; the chain starts at the end ?a.
  EXPECT_EQ(q.nodes[0].var, "a");
  EXPECT_EQ(q.nodes[1].var, "b");
  EXPECT_EQ(q.nodes[2].var, "c");
  EXPECT_EQ(q.nodes[0].label, "concept");
  ASSERT_EQ(q.nodes[0].properties.size(), 1u);
  EXPECT_EQ(q.nodes[0].properties[0].key, "name");
  EXPECT_EQ(q.edges[0].direction, EdgeDirection::In);  // ?b extends ?a, walked from ?a
  EXPECT_EQ(q.edges[0].relations, std::vector<std::string>{"extends"});
  EXPECT_EQ(q.edges[1].direction, EdgeDirection::Out);
  EXPECT_TRUE(q.edges[1].variableLength);
  EXPECT_EQ(q.edges[1].minHops, 2);
  EXPECT_EQ(q.edges[1].maxHops, 4);
  EXPECT_EQ(q.limit, 5);
  EXPECT_EQ(q.skip, 2);
  EXPECT_EQ(q.returns.size(), 2u);
  auto plus = parseSparql("SELECT ?b WHERE { ?a :extends+ ?b }").edges.at(0);
  EXPECT_EQ(plus.minHops, 1);
  EXPECT_EQ(plus.maxHops, 5);
}

TEST(SparqlParser, Rejections) {
  struct Case {
    const char* text;
    QueryErrorClass cls;
    const char* hint;
  } cases[] = {
      {"INSERT DATA { <a> <b> <c> }", QueryErrorClass::Unsupported, "read-only"},
      {"SELECT ?a WHERE { ?a :x ?b . FILTER(?b > 1) }", QueryErrorClass::Unsupported, "match values with triples"},
      {"SELECT ?a WHERE { ?a :x ?b . OPTIONAL { ?a :y ?c . OPTIONAL { ?c :y ?d } } }", QueryErrorClass::Unsupported,
       "not nested"},
      {"SELECT ?a WHERE { ?a :extends* ?b }", QueryErrorClass::Unsupported, "use + for 1..5 hops"},
      {"SELECT ?a ?c WHERE { ?a :extends ?b . ?c :name 'x' }", QueryErrorClass::Unsupported, "disconnected"},
      {"SELECT ?a WHERE { ?a :extends ?b . ?a :extends ?c . ?a :extends ?d }", QueryErrorClass::Unsupported, "branches at ?a"},
      {"SELECT ?a WHERE { ?a :r ?b . ?b :r ?a }", QueryErrorClass::Unsupported, "cycle"},
      {"SELECT (CONCAT(?a) AS ?n) WHERE { ?a :r ?b }", QueryErrorClass::Unsupported, "COUNT, SUM, AVG"},
      {"SELECT ?a WHERE { ?a :r ?b ", QueryErrorClass::Parse, "position"},
  };
  for (auto& c : cases) {
    QueryError e = errorOf(c.text, Language::Sparql);
    EXPECT_EQ(e.errorClass(), c.cls) << c.text << " -> " << e.message();
    EXPECT_NE(e.message().find(c.hint), std::string::npos) << c.text << " -> " << e.message();
  }
}

TEST(Parse, DetectsTheLanguage) {
  EXPECT_EQ(detectLanguage("  SELECT ?a WHERE { ?a a :x }"), Language::Sparql);
  EXPECT_EQ(detectLanguage("# c\nprefix : <x> select ?a {}"), Language::Sparql);
  EXPECT_EQ(detectLanguage("MATCH (a) RETURN a"), Language::Gql);
  EXPECT_EQ(detectLanguage("INSERT DATA {}"), Language::Sparql);
}

TEST(Parse, DebugStringRoundTripsTheShape) {
  EXPECT_EQ(debugString(parseGql("MATCH (a:concept {name: 'x'})<-[e:extends*1..3]-(b) WHERE b.year > 1 RETURN a.name LIMIT 2")),
            "gql (a:concept name='x')<-[e:extends*1..3]-(b) WHERE b.year > 1 RETURN a.name LIMIT 2");
}

}  // namespace
}  // namespace khive::query
