// Security: user values only ever travel as bound parameters, match literally, and the
// compiler emits nothing but one read-only SELECT/WITH statement.

#include <gtest/gtest.h>

#include <random>

#include "fixture_graph.h"
#include "khive/backends/sqlite.h"
#include "khive/query/compiler.h"
#include "khive/query/errors.h"
#include "khive/query/parse.h"
#include "khive/query/postgres_dialect.h"
#include "khive/query/sqlite_dialect.h"
#include "query_runner.h"

namespace khive::query {
namespace {

const std::vector<std::string>& hostileValues() {
  static const std::vector<std::string> v = {
      "' OR 1=1 --",
      "%_\\",
      "Robert'); DROP TABLE entities;--",
      "\" OR \"\"=\"",
      "x' UNION SELECT sqlite_version() --",
      "$1 ?1 ?NNN :name",
      std::string("nul\0byte", 8),
  };
  return v;
}

std::string gqlQuote(const std::string& v) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\\' || c == '\'') out += '\\';
    if (c == '\0') {
      out += "\\0";
      continue;
    }
    out += c;
  }
  return out + "'";
}

std::vector<std::string> queriesWith(const std::string& v) {
  std::string q = gqlQuote(v);
  return {
      "MATCH (a {name: " + q + "}) RETURN a.name",
      "MATCH (a {title: " + q + "}) RETURN a.name",
      "MATCH (a) WHERE a.name = " + q + " OR a.kind != " + q + " RETURN a.name",
      "MATCH (a) WHERE a.name LIKE " + q + " RETURN a.name",
      "MATCH (a) WHERE a.name CONTAINS " + q + " AND a.content STARTS WITH " + q + " RETURN a.name",
      "MATCH (a) WHERE a.name IN [" + q + ", 'x'] RETURN a.name",
      "MATCH (a)-[e:extends*1..3]->(b) WHERE b.properties.p.q = " + q + " RETURN e",
      "SELECT ?a WHERE { ?a :name " + q + " . ?a :extends+ ?b }",
  };
}

TEST(Security, HostileValuesNeverReachTheSqlText) {
  for (const SqlDialect* d : {&sqliteDialect(), &postgresDialect()}) {
    QueryCompiler c(*d);
    // The statement for a harmless value: the compiler writes some fragments itself (a
    // reachability walk's recursive CTE is "... UNION SELECT ...").
    const std::vector<std::string> plain = queriesWith("plain");
    auto count = [](const std::string& sql, const std::string& fragment) {
      std::size_t n = 0;
      for (auto at = sql.find(fragment); at != std::string::npos; at = sql.find(fragment, at + 1)) ++n;
      return n;
    };
    for (auto& v : hostileValues()) {
      const std::vector<std::string> texts = queriesWith(v);
      for (std::size_t t = 0; t < texts.size(); ++t) {
        const std::string& text = texts[t];
        CompiledQuery q;
        try {
          q = c.compile(text, CompileOptions{{"main"}});
        } catch (const QueryError& e) {
          // A LIKE pattern ending in a lone backslash is refused; nothing else may fail.
          EXPECT_EQ(e.errorClass(), QueryErrorClass::InvalidInput) << text << ": " << e.what();
          continue;
        }
        // The value (and its distinctive fragments) is absent from the statement...
        const std::string base = c.compile(plain[t], CompileOptions{{"main"}}).sql;
        for (auto fragment : {v, std::string("OR 1=1"), std::string("DROP"), std::string("UNION SELECT"),
                              std::string("sqlite_version"), std::string("nul")}) {
          if (v.find(fragment) == std::string::npos) continue;
          EXPECT_EQ(count(q.sql, fragment), count(base, fragment)) << fragment << " in " << q.sql;
        }
        EXPECT_EQ(q.sql.find('\0'), std::string::npos);
        // ...and present, whole, among the parameters (CONTAINS/LIKE wrap it in a pattern).
        bool bound = false;
        for (auto& p : q.params) {
          auto s = std::get_if<std::string>(&p);
          if (s && (s->find(v) != std::string::npos || s->find(d->escapeLike(v)) != std::string::npos)) bound = true;
        }
        EXPECT_TRUE(bound) << text;
      }
    }
  }
}

TEST(Security, OnlyOneReadOnlyStatementIsEmitted) {
  std::vector<std::string> texts = {
      "MATCH (a) RETURN a",
      "MATCH (a {name: 'x'})-[*1..10]-(b)<-[:extends]-(c) WHERE c.properties.y IN [1, 'z'] RETURN DISTINCT a, b, c SKIP 3 "
      "LIMIT 9",
      "SELECT ?a ?b WHERE { ?a a :concept . ?a :extends{1,4} ?b } LIMIT 3",
  };
  for (const SqlDialect* d : {&sqliteDialect(), &postgresDialect()}) {
    for (auto& t : texts) {
      std::string sql = QueryCompiler(*d).compile(t, CompileOptions{{"main"}}).sql;
      EXPECT_TRUE(sql.rfind("SELECT ", 0) == 0 || sql.rfind("WITH RECURSIVE ", 0) == 0) << sql;
      EXPECT_EQ(sql.find(';'), std::string::npos) << sql;
      for (auto verb : {"INSERT", "UPDATE", "DELETE", "DROP", "CREATE", "ALTER", "PRAGMA", "ATTACH"}) {
        EXPECT_EQ(sql.find(verb), std::string::npos) << verb << " in " << sql;
      }
    }
  }
}

TEST(Security, HostileValuesMatchLiterallyOnSqlite) {
  backends::SqliteOptions so;
  so.path = ":memory:";
  auto backend = backends::openSqlite(so);
  int n = 1000;
  for (auto& v : hostileValues()) {
    if (v.find('\0') != std::string::npos) continue;  // names are text without NUL on every engine
    Entity e;
    e.id = testing::fixtureId(n++);
    e.ns = "main";
    e.kind = "concept";
    e.name = v;
    e.properties = {{"p", {{"q", v}}}};
    backend->entities().upsertEntity(e);
  }
  Entity plain;
  plain.id = testing::fixtureId(n++);
  plain.ns = "main";
  plain.kind = "concept";
  plain.name = "plain";
  backend->entities().upsertEntity(plain);

  QueryCompiler c(sqliteDialect());
  auto names = [&](const std::string& text) {
    auto run = testing::runCompiled(*backend, c.compile(text, CompileOptions{{"main"}}));
    std::vector<std::string> out;
    for (auto& r : run.rows) out.push_back(storage::asText(r.at(0)));
    std::sort(out.begin(), out.end());
    return out;
  };
  for (auto& v : hostileValues()) {
    if (v.find('\0') != std::string::npos) {
      EXPECT_TRUE(names("MATCH (a {name: " + gqlQuote(v) + "}) RETURN a.name").empty());
      continue;
    }
    EXPECT_EQ(names("MATCH (a {name: " + gqlQuote(v) + "}) RETURN a.name"), std::vector<std::string>{v});
    EXPECT_EQ(names("MATCH (a) WHERE a.properties.p.q = " + gqlQuote(v) + " RETURN a.name"), std::vector<std::string>{v});
    EXPECT_EQ(names("MATCH (a) WHERE a.name CONTAINS " + gqlQuote(v) + " RETURN a.name"), std::vector<std::string>{v});
    EXPECT_EQ(names("SELECT ?a WHERE { ?a :name " + gqlQuote(v) + " }").size(), 1u);
  }
  // '%_\' taken literally: only the entity whose name holds those three characters.
  EXPECT_EQ(names("MATCH (a) WHERE a.name STARTS WITH '%_' RETURN a.name"), std::vector<std::string>{"%_\\"});
  // The table is still there and whole.
  EXPECT_EQ(names("MATCH (a:concept) RETURN a.name").size(), hostileValues().size());
}

TEST(Security, RowAndDepthCapsHold) {
  backends::SqliteOptions so;
  so.path = ":memory:";
  auto backend = backends::openSqlite(so);
  // A 15-node chain c0 -> ... -> c14 and a clique of 6 nodes: walks stop at 10 hops and the
  // row cap cuts the result with the sentinel.
  for (int i = 0; i < 21; ++i) {
    Entity e;
    e.id = testing::fixtureId(2000 + i);
    e.ns = "main";
    e.kind = "concept";
    e.name = "c" + std::to_string(i);
    backend->entities().upsertEntity(e);
  }
  for (int i = 0; i < 14; ++i) {
    Edge l;
    l.id = testing::fixtureId(3000 + i);
    l.ns = "main";
    l.sourceId = testing::fixtureId(2000 + i);
    l.targetId = testing::fixtureId(2001 + i);
    l.relation = "precedes";
    backend->graph().upsertEdge(l);
  }
  int id = 3100;
  for (int i = 15; i < 21; ++i) {
    for (int j = 15; j < 21; ++j) {
      if (i == j) continue;
      Edge l;
      l.id = testing::fixtureId(id++);
      l.ns = "main";
      l.sourceId = testing::fixtureId(2000 + i);
      l.targetId = testing::fixtureId(2000 + j);
      l.relation = "depends_on";
      backend->graph().upsertEdge(l);
    }
  }
  QueryCompiler c(sqliteDialect());
  CompileOptions o{{"main"}};
  auto run = testing::runCompiled(*backend, c.compile("MATCH (a {name: 'c0'})-[*1..10]->(b) RETURN b.name", o));
  EXPECT_EQ(run.rows.size(), 10u);  // c1..c10, never c11
  EXPECT_FALSE(run.truncated);
  o.rowCap = 4;
  run = testing::runCompiled(*backend, c.compile("MATCH (a {name: 'c0'})-[*1..10]->(b) RETURN b.name", o));
  EXPECT_EQ(run.rows.size(), 4u);
  EXPECT_TRUE(run.truncated);
  // Simple paths in a 6-clique: every other node is reached; the cycle guard ends each walk.
  o.rowCap = 500;
  run = testing::runCompiled(*backend, c.compile("MATCH (a {name: 'c15'})-[:depends_on*1..10]->(b) RETURN b.name", o));
  EXPECT_EQ(run.rows.size(), 5u);
}

TEST(Security, ParsersNeverCrashOnNoise) {
  std::mt19937 rng(42);
  const std::vector<std::string> pieces = {"MATCH", "(", ")", "[", "]", "-", "->", "<-", "*", "..", "1", "{", "}",
                                           ":", "a", "'x", "'", "\"", "\\", "WHERE", "RETURN", "SELECT", "?a", "$p",
                                           ".", ",", "=", "IN", "LIMIT", "+", "%", "\xC3", "\x00", "#", "/*", "OR"};
  for (int i = 0; i < 3000; ++i) {
    std::string text;
    int n = static_cast<int>(rng() % 14);
    for (int k = 0; k < n; ++k) text += pieces[rng() % pieces.size()] + (rng() % 2 ? " " : "");
    for (Language lang : {Language::Gql, Language::Sparql}) {
      try {
        QueryCompiler(sqliteDialect()).compile(text, lang, CompileOptions{{"main"}});
      } catch (const QueryError&) {
      }
    }
  }
}

}  // namespace
}  // namespace khive::query
