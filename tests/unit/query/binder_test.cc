// Binder/validator: relations, hop bounds, namespaces, fields, literal types, limits.

#include <gtest/gtest.h>

#include "khive/query/compiler.h"
#include "khive/query/errors.h"
#include "khive/query/parse.h"

namespace khive::query {
namespace {

CompileOptions mainScope() {
  CompileOptions o;
  o.namespaces = {"main"};
  return o;
}

BoundQuery bindGql(std::string_view text, const CompileOptions& o = mainScope()) { return bind(parseGql(text), o); }

QueryErrorClass classOf(std::string_view text, const CompileOptions& o = mainScope()) {
  try {
    bind(parse(text, detectLanguage(text)), o);
  } catch (const QueryError& e) {
    EXPECT_FALSE(e.message().empty());
    return e.errorClass();
  }
  ADD_FAILURE() << "bound without error: " << text;
  return QueryErrorClass::Parse;
}

TEST(Binder, RelationsAreCaseFoldedAndSplitBySymmetry) {
  BoundQuery b = bindGql("MATCH (a)-[:EXTENDS|Competes_With|extends]->(b) RETURN a");
  ASSERT_EQ(b.edges.size(), 1u);
  EXPECT_FALSE(b.edges[0].anyRelation);
  EXPECT_EQ(b.edges[0].relations, std::vector<std::string>{"extends"});
  EXPECT_EQ(b.edges[0].symmetric, std::vector<std::string>{"competes_with"});
  b = bindGql("MATCH (a)-->(b) RETURN a");
  EXPECT_TRUE(b.edges[0].anyRelation);
  EXPECT_EQ(b.edges[0].symmetric, (std::vector<std::string>{"competes_with", "composed_with"}));
}

TEST(Binder, VocabularyAdditionsAreKnown) {
  CompileOptions o = mainScope();
  EXPECT_EQ(classOf("MATCH (a)-[:cites]->(b) RETURN a", o), QueryErrorClass::Validation);
  o.extraRelations = {"cites"};
  o.extraSymmetricRelations = {"similar_to"};
  BoundQuery b = bindGql("MATCH (a)-[:CITES|similar_to]->(b) RETURN a", o);
  EXPECT_EQ(b.edges[0].relations, std::vector<std::string>{"cites"});
  EXPECT_EQ(b.edges[0].symmetric, std::vector<std::string>{"similar_to"});
}

TEST(Binder, HopBounds) {
  EXPECT_EQ(bindGql("MATCH (a)-[*1..10]->(b) RETURN b").edges[0].maxHops, 10);
  EXPECT_EQ(classOf("MATCH (a)-[*1..11]->(b) RETURN b"), QueryErrorClass::Validation);
  EXPECT_EQ(classOf("MATCH (a)-[*3..2]->(b) RETURN b"), QueryErrorClass::Validation);
  EXPECT_EQ(classOf("MATCH (a)-[*0..2]->(b) RETURN b"), QueryErrorClass::Unsupported);
  EXPECT_EQ(classOf("MATCH (a)-[*2..]->(b) RETURN b"), QueryErrorClass::Validation);
  EXPECT_EQ(classOf("SELECT ?b WHERE { ?a :extends{1,12} ?b }"), QueryErrorClass::Validation);
}

TEST(Binder, NamespacesComeOnlyFromOptions) {
  EXPECT_EQ(classOf("MATCH (a {namespace: 'x'}) RETURN a"), QueryErrorClass::Validation);
  EXPECT_EQ(classOf("MATCH (a) WHERE a.namespace IN ['x'] RETURN a"), QueryErrorClass::Validation);
  // Returning the namespace is fine.
  EXPECT_EQ(bindGql("MATCH (a) RETURN a.namespace").columns.at(0).name, "a_namespace");
  CompileOptions none;
  EXPECT_EQ(classOf("MATCH (a) RETURN a", none), QueryErrorClass::InvalidInput);
  CompileOptions empty = mainScope();
  empty.namespaces.push_back("");
  EXPECT_EQ(classOf("MATCH (a) RETURN a", empty), QueryErrorClass::InvalidInput);
}

TEST(Binder, FieldsAndVariables) {
  EXPECT_EQ(classOf("MATCH (a) RETURN b"), QueryErrorClass::Compile);
  EXPECT_EQ(classOf("MATCH (a) WHERE a.nope = 1 RETURN a"), QueryErrorClass::Compile);
  EXPECT_EQ(classOf("MATCH (a:note) WHERE a.entity_type = 'x' RETURN a"), QueryErrorClass::Compile);
  EXPECT_EQ(classOf("MATCH (a:event) WHERE a.name = 'x' RETURN a"), QueryErrorClass::Compile);
  EXPECT_EQ(classOf("MATCH (a)-[e]->(b) WHERE e.kind = 'x' RETURN a"), QueryErrorClass::Compile);
  EXPECT_EQ(classOf("MATCH (a)-[a]->(b) RETURN a"), QueryErrorClass::Unsupported);
  // Inline keys: name and entity_type are columns, the rest JSON properties.
  BoundQuery b = bindGql("MATCH (a {name: 'x', entity_type: 'y', year: 1}) RETURN a");
  ASSERT_EQ(b.nodes[0].local.size(), 3u);
  EXPECT_EQ(b.nodes[0].local[0].field.field, "name");
  EXPECT_TRUE(b.nodes[0].local[0].field.jsonPath.empty());
  EXPECT_EQ(b.nodes[0].local[1].field.field, "entity_type");
  EXPECT_EQ(b.nodes[0].local[2].field.field, "properties");
  EXPECT_EQ(b.nodes[0].local[2].field.jsonPath, std::vector<std::string>{"year"});
}

TEST(Binder, LabelsPickSubstrateOrKind) {
  BoundQuery b = bindGql("MATCH (a:Entity)-->(n:note)-->(c:concept) RETURN a");
  EXPECT_TRUE(b.nodes[0].entities);
  EXPECT_FALSE(b.nodes[0].notes);
  EXPECT_FALSE(b.nodes[1].entities);
  EXPECT_TRUE(b.nodes[1].notes);
  EXPECT_TRUE(b.nodes[2].entities && b.nodes[2].notes);
  EXPECT_EQ(b.nodes[2].kind, "concept");
  b = bindGql("MATCH (e:event) RETURN e");
  EXPECT_TRUE(b.nodes[0].events);
  EXPECT_FALSE(b.nodes[0].entities || b.nodes[0].notes);
}

TEST(Binder, LiteralTypesMustFitTheField) {
  EXPECT_EQ(classOf("MATCH (a) WHERE a.name = 1 RETURN a"), QueryErrorClass::Compile);
  EXPECT_EQ(classOf("MATCH (a) WHERE a.created_at = 'x' RETURN a"), QueryErrorClass::Compile);
  EXPECT_EQ(classOf("MATCH (a) WHERE a.properties.x > true RETURN a"), QueryErrorClass::Compile);
  EXPECT_EQ(classOf("MATCH (a) WHERE a.properties.x CONTAINS 1 RETURN a"), QueryErrorClass::Compile);
  EXPECT_EQ(classOf("MATCH (a) WHERE a.properties.x = null RETURN a"), QueryErrorClass::Compile);
  EXPECT_EQ(classOf("MATCH (a) WHERE a.tags = 'x' RETURN a"), QueryErrorClass::Compile);
  EXPECT_NO_THROW(bindGql("MATCH (a) WHERE a.properties.x IN [1, 'a', true] RETURN a"));
}

TEST(Binder, ParametersResolveFromOptions) {
  CompileOptions o = mainScope();
  o.parameters = {{"n", "LoRA"}, {"ys", {2020, 2021.5}}, {"obj", {{"a", 1}}}};
  BoundQuery b = bindGql("MATCH (a {name: $n}) WHERE a.properties.year IN $ys RETURN a", o);
  EXPECT_EQ(std::get<std::string>(b.nodes[0].local[0].values.at(0)), "LoRA");
  ASSERT_EQ(b.where[0][0].values.size(), 2u);
  EXPECT_EQ(std::get<std::int64_t>(b.where[0][0].values[0]), 2020);
  EXPECT_DOUBLE_EQ(std::get<double>(b.where[0][0].values[1]), 2021.5);
  EXPECT_EQ(classOf("MATCH (a {name: $missing}) RETURN a", o), QueryErrorClass::InvalidInput);
  EXPECT_EQ(classOf("MATCH (a {name: $obj}) RETURN a", o), QueryErrorClass::InvalidInput);
}

TEST(Binder, LimitsAndCaps) {
  EXPECT_EQ(classOf("MATCH (a) RETURN a LIMIT 0"), QueryErrorClass::InvalidInput);
  EXPECT_EQ(classOf("MATCH (a) RETURN a SKIP 1000001"), QueryErrorClass::InvalidInput);
  CompileOptions o = mainScope();
  o.rowCap = kMaxRowCap + 1;
  EXPECT_EQ(classOf("MATCH (a) RETURN a", o), QueryErrorClass::InvalidInput);
  o.rowCap = 0;
  EXPECT_EQ(classOf("MATCH (a) RETURN a", o), QueryErrorClass::InvalidInput);
}

TEST(Binder, ReturnExpandsAndNamesColumns) {
  BoundQuery b = bindGql("MATCH (a)-[e]->(v) RETURN a, a.name, a.properties.x.y, e, v.kind");
  std::vector<std::string> names;
  for (auto& c : b.columns) names.push_back(c.name);
  EXPECT_EQ(names, (std::vector<std::string>{"a_id", "a_substrate", "a_kind", "a_name", "a_properties_x_y", "e_id",
                                             "e_relation", "e_source_id", "e_target_id", "e_weight", "v_kind"}));
  EXPECT_FALSE(b.distinct);
  EXPECT_TRUE(bindGql("MATCH (a)-[*1..2]->(b) RETURN b").distinct);
}

TEST(Binder, VariableLengthEdgesAreNotFilterable) {
  EXPECT_EQ(classOf("MATCH (a)-[e*1..2]->(b) WHERE e.weight > 0.5 RETURN b"), QueryErrorClass::Unsupported);
  EXPECT_NO_THROW(bindGql("MATCH (a)-[e*1..2]->(b) RETURN e"));
}

}  // namespace
}  // namespace khive::query
