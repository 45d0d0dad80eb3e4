// Compiler: golden SQL for both dialects, and the structural rules every statement follows.

#include <gtest/gtest.h>

#include <regex>

#include "khive/query/compiler.h"
#include "khive/query/errors.h"
#include "khive/query/postgres_dialect.h"
#include "khive/query/sqlite_dialect.h"

namespace khive::query {
namespace {

CompileOptions mainScope() {
  CompileOptions o;
  o.namespaces = {"main"};
  return o;
}

CompiledQuery compileWith(const SqlDialect& d, std::string_view text, const CompileOptions& o = mainScope()) {
  return QueryCompiler(d).compile(text, o);
}

std::string sqlFor(const SqlDialect& d, std::string_view text) { return compileWith(d, text).sql; }

// Golden statements: reviewed by hand once, executed by the parity suite on both engines.
// A change here is a change of the SQL every backend runs: review the diff.
TEST(CompilerGolden, SqliteFixedJoin) {
  EXPECT_EQ(sqlFor(sqliteDialect(), "MATCH (a:entity {name: 'LoRA'})-[:extends]->(b:entity) RETURN b.name"),
      R"(SELECT n1.name AS "b_name" FROM entities AS n0 JOIN edges AS e0 ON e0.source_id = n0.id AND )"
      R"(e0.relation IN (?3) AND CASE WHEN n0.id IS NULL THEN 0 ELSE (e0.deleted_at IS NULL AND )"
      R"(e0.endpoint_deleted = 0 AND e0.namespace IN (?1)) END JOIN entities AS n1 ON n1.id = )"
      R"(e0.target_id AND CASE WHEN e0.target_id IS NULL THEN 0 ELSE (n1.deleted_at IS NULL AND )"
      R"(n1.namespace IN (?1)) END WHERE n0.deleted_at IS NULL AND n0.namespace IN (?1) AND n0.name = ?2 )"
      R"(COLLATE NOCASE LIMIT ?4)");
}

TEST(CompilerGolden, SqliteVariableLength) {
  EXPECT_EQ(sqlFor(sqliteDialect(), "MATCH (a:entity {name: 'LoRA'})-[:extends*1..3]->(b:entity) RETURN b.name"),
      R"(WITH RECURSIVE w0r(start_id, node_id, depth) AS (SELECT s.id, s.id, 0 FROM (SELECT w0se.id FROM )"
      R"(entities AS w0se WHERE w0se.deleted_at IS NULL AND w0se.namespace IN (?1) AND w0se.name = ?2 )"
      R"(COLLATE NOCASE) AS s UNION SELECT w.start_id, j.value, w.depth + 1 FROM w0r AS w, )"
      R"(json_each(CASE WHEN w.depth < ?3 THEN (SELECT json_group_array(h.target_id) FROM edges AS h )"
      R"(WHERE h.source_id = w.node_id AND h.relation IN (?4) AND h.deleted_at IS NULL AND )"
      R"(h.endpoint_deleted = 0 AND h.namespace IN (?1) AND h.target_id <> w.start_id AND h.target_id <> )"
      R"(w.node_id AND (EXISTS (SELECT 1 FROM entities AS x WHERE x.id = h.target_id AND x.deleted_at IS )"
      R"(NULL AND x.namespace IN (?1)) OR EXISTS (SELECT 1 FROM notes AS x WHERE x.id = h.target_id AND )"
      R"(x.deleted_at IS NULL AND x.namespace IN (?1)))) ELSE '[]' END) AS j), w0(start_id, node_id, )"
      R"(depth) AS (SELECT w.start_id, j.value, w.depth + (j.value <> w.node_id) FROM w0r AS w CROSS )"
      R"(JOIN json_each(CASE WHEN w.depth = ?3 THEN (SELECT json_group_array(o) FROM (SELECT w.node_id )"
      R"(AS o UNION ALL SELECT h.target_id AS o FROM edges AS h WHERE h.source_id = w.node_id AND )"
      R"(h.relation IN (?4) AND h.deleted_at IS NULL AND h.endpoint_deleted = 0 AND h.namespace IN (?1) )"
      R"(AND h.target_id <> w.start_id AND h.target_id <> w.node_id AND (EXISTS (SELECT 1 FROM entities )"
      R"(AS x WHERE x.id = h.target_id AND x.deleted_at IS NULL AND x.namespace IN (?1)) OR EXISTS )"
      R"((SELECT 1 FROM notes AS x WHERE x.id = h.target_id AND x.deleted_at IS NULL AND x.namespace IN )"
      R"((?1))))) ELSE json_array(w.node_id) END) AS j) SELECT DISTINCT n1.name AS "b_name" FROM w0 AS )"
      R"(w0x LEFT JOIN entities AS n0 ON n0.id = w0x.start_id AND n0.deleted_at IS NULL AND n0.namespace )"
      R"(IN (?1) AND n0.name = ?2 COLLATE NOCASE JOIN entities AS n1 ON n1.id = w0x.node_id AND CASE )"
      R"(WHEN w0x.node_id IS NULL THEN 0 ELSE (n1.deleted_at IS NULL AND n1.namespace IN (?1)) END WHERE )"
      R"(w0x.depth >= ?5 LIMIT ?6)");
}

TEST(CompilerGolden, SqliteJsonAndPaging) {
  EXPECT_EQ(sqlFor(sqliteDialect(), "MATCH (n:note) WHERE n.properties.rank > 2 AND n.content CONTAINS 'x%' RETURN n.properties.rank SKIP 1 LIMIT 2"),
      R"(SELECT (n0.properties -> ?2) AS "n_properties_rank" FROM notes AS n0 WHERE n0.deleted_at IS )"
      R"(NULL AND n0.namespace IN (?1) AND (CASE WHEN json_type(n0.properties, ?2) IN ('integer', )"
      R"('real') THEN json_extract(n0.properties, ?2) END > ?3 AND n0.content LIKE ?4 ESCAPE '\') ORDER )"
      R"(BY n0.id LIMIT ?3 OFFSET ?5)");
}

TEST(CompilerGolden, PostgresFixedJoin) {
  EXPECT_EQ(sqlFor(postgresDialect(), "MATCH (a:entity {name: 'LoRA'})-[:extends]->(b:entity) RETURN b.name"),
      R"(SELECT n1.name AS "b_name" FROM entities AS n0 JOIN edges AS e0 ON e0.source_id = n0.id AND )"
      R"(e0.relation IN ($3::text) AND e0.deleted_at IS NULL AND e0.endpoint_deleted = 0 AND )"
      R"(e0.namespace IN ($1::text) JOIN entities AS n1 ON n1.id = e0.target_id AND n1.deleted_at IS )"
      R"(NULL AND n1.namespace IN ($1::text) WHERE n0.deleted_at IS NULL AND n0.namespace IN ($1::text) )"
      R"(AND n0.name_folded = lower($2::text COLLATE "C") LIMIT $4::bigint)");
}

TEST(CompilerGolden, PostgresVariableLength) {
  EXPECT_EQ(sqlFor(postgresDialect(), "MATCH (a:entity {name: 'LoRA'})-[:extends*1..3]->(b:entity) RETURN b.name"),
      R"(WITH RECURSIVE w0r(start_id, node_id, depth) AS (SELECT s.id, s.id, 0 FROM (SELECT w0se.id FROM )"
      R"(entities AS w0se WHERE w0se.deleted_at IS NULL AND w0se.namespace IN ($1::text) AND )"
      R"(w0se.name_folded = lower($2::text COLLATE "C")) AS s UNION SELECT w.start_id, h.target_id, )"
      R"(w.depth + 1 FROM w0r AS w JOIN edges AS h ON h.source_id = w.node_id AND h.relation IN )"
      R"(($4::text) AND h.deleted_at IS NULL AND h.endpoint_deleted = 0 AND h.namespace IN ($1::text) )"
      R"(WHERE w.depth < $3::bigint AND h.target_id <> w.start_id AND h.target_id <> w.node_id AND )"
      R"((EXISTS (SELECT 1 FROM entities AS x WHERE x.id = h.target_id AND x.deleted_at IS NULL AND )"
      R"(x.namespace IN ($1::text)) OR EXISTS (SELECT 1 FROM notes AS x WHERE x.id = h.target_id AND )"
      R"(x.deleted_at IS NULL AND x.namespace IN ($1::text)))), w0(start_id, node_id, depth) AS (SELECT )"
      R"(w.start_id, j.node, w.depth + CASE WHEN j.node = w.node_id THEN 0 ELSE 1 END FROM w0r AS w )"
      R"(CROSS JOIN LATERAL (SELECT w.node_id AS node UNION ALL SELECT h.target_id FROM edges AS h WHERE )"
      R"(w.depth = $3::bigint AND h.source_id = w.node_id AND h.relation IN ($4::text) AND h.deleted_at )"
      R"(IS NULL AND h.endpoint_deleted = 0 AND h.namespace IN ($1::text) AND h.target_id <> w.start_id )"
      R"(AND h.target_id <> w.node_id AND (EXISTS (SELECT 1 FROM entities AS x WHERE x.id = h.target_id )"
      R"(AND x.deleted_at IS NULL AND x.namespace IN ($1::text)) OR EXISTS (SELECT 1 FROM notes AS x )"
      R"(WHERE x.id = h.target_id AND x.deleted_at IS NULL AND x.namespace IN ($1::text)))) AS j) SELECT )"
      R"(DISTINCT n1.name AS "b_name" FROM w0 AS w0x LEFT JOIN entities AS n0 ON n0.id = w0x.start_id )"
      R"(AND n0.deleted_at IS NULL AND n0.namespace IN ($1::text) AND n0.name_folded = lower($2::text )"
      R"(COLLATE "C") JOIN entities AS n1 ON n1.id = w0x.node_id AND n1.deleted_at IS NULL AND )"
      R"(n1.namespace IN ($1::text) WHERE w0x.depth >= $5::bigint LIMIT $6::bigint)");
}

TEST(CompilerGolden, PostgresJsonAndPaging) {
  EXPECT_EQ(sqlFor(postgresDialect(), "MATCH (n:note) WHERE n.properties.rank > 2 AND n.content CONTAINS 'x%' RETURN n.properties.rank SKIP 1 LIMIT 2"),
      R"(SELECT ((n0.properties #> $2::text[])::text) AS "n_properties_rank" FROM notes AS n0 WHERE )"
      R"(n0.deleted_at IS NULL AND n0.namespace IN ($1::text) AND (CASE WHEN jsonb_typeof(n0.properties )"
      R"(#> $2::text[]) = 'number' THEN (n0.properties #> $2::text[])::numeric END > $3::bigint AND )"
      R"((n0.content) COLLATE "C" ILIKE $4::text ESCAPE '\') ORDER BY n0.id LIMIT $3::bigint OFFSET )"
      R"($5::bigint)");
}

TEST(Compiler, ParametersAreTypedAndReused) {
  CompiledQuery q = compileWith(sqliteDialect(), "MATCH (a:entity {name: 'LoRA'})-[:extends]->(b:entity) RETURN b.name");
  ASSERT_EQ(q.params.size(), 4u);
  EXPECT_EQ(std::get<std::string>(q.params[0]), "main");
  EXPECT_EQ(std::get<std::string>(q.params[1]), "LoRA");
  EXPECT_EQ(std::get<std::string>(q.params[2]), "extends");
  EXPECT_EQ(std::get<std::int64_t>(q.params[3]), 501);  // the row cap + the sentinel row
  EXPECT_EQ(q.paramTypes, (std::vector<ParamType>{ParamType::Text, ParamType::Text, ParamType::Text, ParamType::Integer}));
  EXPECT_EQ(q.columns, (std::vector<OutputColumn>{{"b_name", ValueType::Text}}));
  EXPECT_TRUE(q.sentinel);
  EXPECT_EQ(q.rowCap, 500);
  EXPECT_FALSE(q.ordered);
}

TEST(Compiler, NamespaceScopeAppliesToEveryAlias) {
  CompileOptions o;
  o.namespaces = {"a", "b"};
  CompiledQuery q = compileWith(sqliteDialect(), "MATCH (x)-[e]-(y)-[*1..2]->(z:entity) RETURN x, e, z", o);
  // Every table alias of the statement carries the scope.
  std::regex alias(R"((entities|notes|edges|events) AS (\w+))");
  int aliases = 0;
  for (std::sregex_iterator it(q.sql.begin(), q.sql.end(), alias), end; it != end; ++it) {
    ++aliases;
    std::string name = (*it)[2];
    EXPECT_NE(q.sql.find(name + ".namespace IN (?1, ?2)"), std::string::npos) << name << " unscoped in " << q.sql;
  }
  EXPECT_GE(aliases, 10);
}

TEST(Compiler, WalkAtTheDriverStreamsAndIdOnlyNodesAreExistenceTests) {
  // The walk seeded by the driver is the outermost row source (not stored, then joined).
  std::string ids = sqlFor(sqliteDialect(), "MATCH (a {name: 'x'})-[*1..3]->(b) RETURN DISTINCT b.id");
  EXPECT_NE(ids.find(") SELECT DISTINCT w0x.node_id AS \"b_id\" FROM w0 AS w0x LEFT JOIN entities AS n0e"), std::string::npos)
      << ids;
  // So is the walk's last hop, read from the recursive part in the same pass.
  EXPECT_NE(ids.find("FROM w0r AS w CROSS JOIN json_each("), std::string::npos) << ids;
  // b is read for its id alone: no join of entities and notes, and no second existence test,
  // as the walk tested each node it reached.
  EXPECT_EQ(ids.find("AS n1e"), std::string::npos) << ids;
  EXPECT_NE(ids.find("(EXISTS (SELECT 1 FROM entities AS x WHERE x.id = h.target_id AND x.deleted_at IS NULL AND "
                     "x.namespace IN (?1)) OR EXISTS (SELECT 1 FROM notes AS x WHERE x.id = h.target_id"),
            std::string::npos)
      << ids;
  EXPECT_EQ(ids.find("x.id = w0x.node_id"), std::string::npos) << ids;
  // An id-only node that no walk reached is still tested.
  std::string fixed = sqlFor(sqliteDialect(), "MATCH (a {name: 'x'})-[:extends]->(b) RETURN b.id");
  EXPECT_NE(fixed.find("EXISTS (SELECT 1 FROM entities AS x WHERE x.id = e0.target_id"), std::string::npos) << fixed;
  // Any other field of b, a label or an inline property of b brings the join back.
  for (const char* text : {"MATCH (a {name: 'x'})-[*1..3]->(b) RETURN DISTINCT b.name",
                           "MATCH (a {name: 'x'})-[*1..3]->(b:concept) RETURN DISTINCT b.id",
                           "MATCH (a {name: 'x'})-[*1..3]->(b {name: 'y'}) RETURN DISTINCT b.id",
                           "MATCH (a {name: 'x'})-[*1..3]->(b) WHERE b.kind = 'concept' RETURN DISTINCT b.id"}) {
    EXPECT_NE(sqlFor(sqliteDialect(), text).find("JOIN entities AS n1"), std::string::npos) << text;
  }
  // A walk away from the driver is still joined to it.
  std::string inner = sqlFor(sqliteDialect(), "MATCH (a:concept {name: 'x'})-->(b)-[*1..2]->(c) RETURN c.id");
  EXPECT_NE(inner.find("JOIN w1 AS w1x ON w1x.start_id = "), std::string::npos) << inner;
}

TEST(Compiler, DialectDifferences) {
  const char* text = "MATCH (a {name: 'x'})-[:extends*1..2]->(b) WHERE b.properties.y = true RETURN b.id LIMIT 3";
  std::string lite = sqlFor(sqliteDialect(), text);
  std::string pg = sqlFor(postgresDialect(), text);
  // SQLite gathers a walk row's edges with a correlated subquery (no join, no Bloom filter);
  // PostgreSQL joins.
  EXPECT_NE(lite.find("FROM w0r AS w, json_each(CASE WHEN w.depth < ?"), std::string::npos);
  EXPECT_NE(lite.find("json_group_array(h.target_id)"), std::string::npos);  // bare ids: no edge variable
  EXPECT_EQ(lite.find("JOIN edges AS h"), std::string::npos);
  // With an edge variable the array holds [node, edge] pairs.
  std::string withEdge = sqlFor(sqliteDialect(), "MATCH (a {name: 'x'})-[r:extends*1..2]->(b) RETURN r.id");
  EXPECT_NE(withEdge.find("json_group_array(json_array(h.target_id, h.id))"), std::string::npos);
  // Symmetric relations backwards: one index probe per branch, not an OR.
  std::string sym = sqlFor(sqliteDialect(), "MATCH (a {name: 'x'})-[*1..2]->(b) RETURN b.id");
  EXPECT_NE(sym.find(" UNION ALL SELECT h.source_id AS o FROM edges AS h WHERE h.target_id = w.node_id AND h.relation IN"),
            std::string::npos);
  EXPECT_NE(pg.find("FROM w0r AS w JOIN edges AS h ON"), std::string::npos);
  // The last hop: a LATERAL subquery on PostgreSQL, the gathered array on SQLite.
  EXPECT_NE(pg.find("FROM w0r AS w CROSS JOIN LATERAL (SELECT w.node_id AS node UNION ALL SELECT h.target_id FROM "
                    "edges AS h WHERE w.depth = $"),
            std::string::npos)
      << pg;
  EXPECT_NE(lite.find("(SELECT json_group_array(o) FROM (SELECT w.node_id AS o UNION ALL SELECT h.target_id AS o"),
            std::string::npos)
      << lite;
  EXPECT_NE(lite.find("?1"), std::string::npos);
  EXPECT_EQ(lite.find('$'), std::string::npos);
  EXPECT_NE(pg.find("$1::text"), std::string::npos);
  EXPECT_NE(pg.find("::text[]"), std::string::npos);  // JSON path
  EXPECT_NE(pg.find("::boolean"), std::string::npos);
  // Visited lists, where a walk keeps one (a lower bound above one hop).
  const char* paths = "MATCH (a {name: 'x'})-[:extends*2..3]->(b) RETURN b.id";
  EXPECT_NE(sqlFor(postgresDialect(), paths).find("<> ALL(w.path)"), std::string::npos);
  EXPECT_NE(sqlFor(sqliteDialect(), paths).find("instr(w.path"), std::string::npos);
  EXPECT_NE(pg.find("(COALESCE(n1e.id, n1n.id))::text AS \"b_id\""), std::string::npos);
  // Paging a DISTINCT result: ordered from outside, code-point order, NULLs first.
  EXPECT_NE(pg.find(") AS r ORDER BY r.\"b_id\" COLLATE \"C\" NULLS FIRST"), std::string::npos);
  EXPECT_NE(lite.find(") AS r ORDER BY r.\"b_id\" COLLATE BINARY NULLS FIRST"), std::string::npos);
  EXPECT_EQ(compileWith(postgresDialect(), text).params.size(), compileWith(sqliteDialect(), text).params.size());
}

TEST(Compiler, JsonPathParameterPerDialect) {
  CompiledQuery lite = compileWith(sqliteDialect(), "MATCH (a) WHERE a.properties.meta.lab = 'x' RETURN a.name");
  CompiledQuery pg = compileWith(postgresDialect(), "MATCH (a) WHERE a.properties.meta.lab = 'x' RETURN a.name");
  auto has = [](const CompiledQuery& q, const std::string& v) {
    for (auto& p : q.params) {
      if (auto s = std::get_if<std::string>(&p); s && *s == v) return true;
    }
    return false;
  };
  EXPECT_TRUE(has(lite, "$.\"meta\".\"lab\""));
  EXPECT_TRUE(has(pg, "{\"meta\",\"lab\"}"));
}

TEST(Compiler, EmptyInListIsFalse) {
  EXPECT_NE(sqlFor(sqliteDialect(), "MATCH (a:entity) WHERE a.name IN [] RETURN a.name").find("AND (0)"), std::string::npos);
  EXPECT_NE(sqlFor(postgresDialect(), "MATCH (a:entity) WHERE a.name IN [] RETURN a.name").find("AND (FALSE)"),
            std::string::npos);
}

TEST(Compiler, RowCapAndSentinel) {
  CompileOptions o = mainScope();
  o.rowCap = 10;
  CompiledQuery q = compileWith(sqliteDialect(), "MATCH (a) RETURN a.name LIMIT 5", o);
  EXPECT_FALSE(q.sentinel);
  EXPECT_EQ(q.rowCap, 5);
  EXPECT_TRUE(q.ordered);
  q = compileWith(sqliteDialect(), "MATCH (a) RETURN a.name LIMIT 50", o);
  EXPECT_TRUE(q.sentinel);
  EXPECT_EQ(q.rowCap, 10);
  EXPECT_EQ(std::get<std::int64_t>(q.params.back()), 11);
  std::vector<storage::SqlRow> rows(11, storage::SqlRow{std::string("x")});
  EXPECT_TRUE(applyRowCap(q, rows));
  EXPECT_EQ(rows.size(), 10u);
  EXPECT_FALSE(applyRowCap(q, rows));
}

TEST(Compiler, WalksFromOneHopWithoutEdgeVariableTrackReachabilityOnly) {
  for (const SqlDialect* d : {&sqliteDialect(), &postgresDialect()}) {
    // End nodes from one hop on: no visited list, one row per (start, node, depth).
    std::string reach = sqlFor(*d, "MATCH (a {name: 'x'})-[*1..4]-(b) RETURN b.name");
    EXPECT_NE(reach.find("w0r(start_id, node_id, depth) AS (SELECT s.id, s.id, 0 FROM"), std::string::npos) << reach;
    EXPECT_NE(reach.find(") AS s UNION SELECT w.start_id"), std::string::npos) << reach;
    EXPECT_EQ(reach.find("path"), std::string::npos) << reach;
    EXPECT_NE(reach.find(" <> w.start_id AND "), std::string::npos) << reach;
    // A lower bound above one hop, or the edge variable, needs the simple paths themselves.
    for (const char* text : {"MATCH (a {name: 'x'})-[*2..4]-(b) RETURN b.name",
                             "MATCH (a {name: 'x'})-[r*1..4]-(b) RETURN r.id"}) {
      std::string paths = sqlFor(*d, text);
      EXPECT_NE(paths.find("w0r(start_id, node_id, depth, path"), std::string::npos) << paths;
      EXPECT_NE(paths.find(") AS s UNION ALL SELECT w.start_id"), std::string::npos) << paths;
    }
  }
}

TEST(Compiler, DepthCapIsAParameterNeverAboveTen) {
  // *1..10: the recursion stops at depth 9, whose rows take the tenth hop.
  CompiledQuery q = compileWith(sqliteDialect(), "MATCH (a {name: 'x'})-[*1..10]->(b) RETURN b.name");
  EXPECT_NE(q.sql.find("CASE WHEN w.depth < ?"), std::string::npos);
  EXPECT_NE(q.sql.find("CASE WHEN w.depth = ?"), std::string::npos);
  bool sawNine = false;
  for (auto& p : q.params) {
    if (auto i = std::get_if<std::int64_t>(&p); i && *i == 9) sawNine = true;
  }
  EXPECT_TRUE(sawNine);
  EXPECT_THROW(compileWith(sqliteDialect(), "MATCH (a)-[*1..11]->(b) RETURN b"), QueryError);
}

TEST(Compiler, IsThreadSafeAndDeterministic) {
  QueryCompiler c(postgresDialect());
  std::string first = c.compile("MATCH (a)-[:extends*1..3]->(b) RETURN DISTINCT b SKIP 2", mainScope()).sql;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(c.compile("MATCH (a)-[:extends*1..3]->(b) RETURN DISTINCT b SKIP 2", mainScope()).sql, first);
}

// A shortest path: a reachability walk from the start, one back from a filtered end, and the
// path walk stepping only outwards from the start and towards an end; shortestPath keeps one
// row per pair. Without a label or property on the end there is no walk back.
TEST(CompilerPaths, ShortestPathWalksFromBothEndsInOneStatement) {
  for (const SqlDialect* d : {&sqliteDialect(), &postgresDialect()}) {
    SCOPED_TRACE(std::string(d->name()));
    std::string sql =
        sqlFor(*d, "MATCH p = shortestPath((a {name: 'dog'})-[*..6]-(b {name: 'cat'})) RETURN p, length(p)");
    for (auto cte : {"w0r(", "b0r(", "p0d AS", "p0e AS", "p0r(", "p0 AS"})
      EXPECT_NE(sql.find(cte), std::string::npos) << cte << "\n" << sql;
    EXPECT_NE(sql.find("row_number() OVER (PARTITION BY w.start_id, w.node_id ORDER BY w.path, w.epath)"),
              std::string::npos);
    EXPECT_EQ(sql.find("'dog'"), std::string::npos) << "values are parameters";
    EXPECT_EQ(sql.find("'cat'"), std::string::npos) << "values are parameters";
    std::string all = sqlFor(*d, "MATCH p = allShortestPaths((a {name: 'dog'})-[*..6]-(b)) RETURN p");
    EXPECT_EQ(all.find("b0r("), std::string::npos) << all;
    EXPECT_EQ(all.find("row_number()"), std::string::npos) << all;
    std::string plain = sqlFor(*d, "MATCH p = (a {name: 'dog'})-[*1..3]->(b) RETURN p");
    EXPECT_EQ(plain.find("w0r("), std::string::npos) << "a plain named path enumerates simple paths: " << plain;
    EXPECT_NE(plain.find("p0r("), std::string::npos) << plain;
  }
}

TEST(CompilerPaths, FixedLengthPathIsBuiltFromTheChainIds) {
  CompiledQuery q =
      compileWith(postgresDialect(), "MATCH p = (a {name: 'x'})<-[:extends]-(b)-[]->(c) RETURN p, nodes(p), length(p)");
  EXPECT_NE(q.sql.find("jsonb_build_object('nodes', jsonb_build_array("), std::string::npos) << q.sql;
  ASSERT_EQ(q.columns.size(), 3u);
  EXPECT_EQ(q.columns[0], (OutputColumn{"p", ValueType::Json}));
  EXPECT_EQ(q.columns[1], (OutputColumn{"nodes_p", ValueType::Json}));
  EXPECT_EQ(q.columns[2], (OutputColumn{"length_p", ValueType::Integer}));
}

}  // namespace
}  // namespace khive::query
