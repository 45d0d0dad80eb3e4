// Row-level security on its own: an actor whose sessions are granted namespace A only tries to
// read, count, search (text and, where the server has pgvector, vector), traverse into,
// update and delete namespace B's rows, through the capabilities and through raw SQL without
// any `WHERE namespace`. It sees nothing and changes nothing; an owner granted every namespace
// then checks that B is exactly as it was.
//
// The policies trust only a signed scope token (src/backends/postgres/scope_token.h): the
// last tests attack that directly, with raw SQL that tries to grant itself namespace B (SET
// and set_config of the GUC under any spelling, DO blocks, a token rewritten or replayed from
// another session, SET ROLE, RESET ALL, DISCARD ALL, reading the key), through the SqlAccess
// capability and through a bare libpq session of the application role.

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <unistd.h>

#include <cstdlib>
#include <variant>

#include <atomic>
#include <fmt/format.h>

#include "khive/core/error.h"
#include "khive/retrieval/hybrid_search.h"
#include "khive/storage/backend.h"
#include "support/test_backends.h"

namespace khive::testing {
namespace {

using storage::asInt;

class PgRls : public ::testing::TestWithParam<BackendCase> {
 protected:
  void SetUp() override {
    KHIVE_SKIP_UNAVAILABLE_BACKEND(GetParam());
    static std::atomic<int> counter{0};
    schema_ = fmt::format("rls_{}_{}_{}", GetParam().name, ::getpid(), counter.fetch_add(1));
    owner = GetParam().openScoped(schema_, {"*"});
    seed();
    actor = GetParam().openScoped(schema_, {"A"});
  }

  Entity entity(const std::string& ns, const std::string& name) {
    Entity e;
    e.id = Uuid::v7();
    e.ns = ns;
    e.kind = "concept";
    e.name = name;
    e.description = "secret falcon plans of " + ns;
    e = owner->entities().upsertEntity(e);
    owner->text().upsertDocument(retrieval::textDocumentOf(e));
    if (GetParam().hasVectors) {
      storage::VectorRecord r;
      r.subjectId = e.id;
      r.ns = ns;
      r.kind = e.kind;
      r.model = "m";
      r.values = {1.0f, 0.5f, 0.25f};
      owner->vectors().insertVector(r);
    }
    storage::SparseRecord s;
    s.subjectId = e.id;
    s.ns = ns;
    s.kind = e.kind;
    s.model = "sp";
    s.vector = {{7}, {1.0f}};
    owner->sparse().insertSparse(s);
    return e;
  }
  Edge link(const std::string& ns, const Uuid& a, const Uuid& b) {
    Edge e;
    e.id = Uuid::v7();
    e.ns = ns;
    e.sourceId = a;
    e.targetId = b;
    e.relation = "uses";
    return owner->graph().upsertEdge(e);
  }

  void seed() {
    a1 = entity("A", "alpha");
    b1 = entity("B", "bravo");
    b2 = entity("B", "bravo two");
    Note n;
    n.id = Uuid::v7();
    n.ns = "B";
    n.kind = "observation";
    n.content = "falcon note in B";
    bNote = owner->notes().upsertNote(n);
    bEdge = link("B", b1.id, b2.id);
    crossEdge = link("B", a1.id, b1.id);  // an edge of B that starts at A's entity
    Event ev;
    ev.id = Uuid::v7();
    ev.ns = "B";
    ev.verb = "create";
    ev.actor = "someone";
    ev.kind = "concept";
    ev.targetId = b1.id;
    bEvent = owner->events().appendEvent(ev);
  }

  // Rows of every table per namespace, seen by the owner.
  std::string fingerprint() {
    std::string out;
    auto r = owner->sql().reader();
    for (std::string_view t : {"entities", "notes", "edges", "events", "text_documents", "sparse_entries"}) {
      auto rows = r->query(fmt::format("SELECT namespace, count(*), md5(string_agg(t::text, ',' ORDER BY t::text)) "
                                       "FROM {} t GROUP BY namespace ORDER BY namespace",
                                       t));
      for (const auto& row : rows.rows) {
        out += fmt::format("{} {} {} {}\n", t, std::get<std::string>(row[0]), asInt(row[1]),
                           std::get<std::string>(row[2]));
      }
    }
    if (GetParam().hasVectors) {
      out += fmt::format("vectors {}\n", asInt(r->queryScalar("SELECT count(*) FROM vectors WHERE namespace = 'B'")));
    }
    return out;
  }

  std::string schema_;
  std::unique_ptr<storage::Backend> owner, actor;
  Entity a1, b1, b2;
  Note bNote;
  Edge bEdge, crossEdge;
  Event bEvent;
};

TEST_P(PgRls, CapabilitiesSeeNothingOfAnotherNamespace) {
  const auto before = fingerprint();
  // Read by id.
  EXPECT_FALSE(actor->entities().getEntity(b1.id));
  EXPECT_FALSE(actor->entities().getEntityIncludingDeleted(b1.id));
  EXPECT_FALSE(actor->notes().getNote(bNote.id));
  EXPECT_FALSE(actor->graph().getEdge(bEdge.id));
  EXPECT_FALSE(actor->events().getEvent(bEvent.id));
  EXPECT_FALSE(actor->text().getDocument(b1.id));
  EXPECT_TRUE(actor->entities().getEntity(a1.id)) << "the granted namespace stays readable";
  // Count and query, naming B outright.
  EXPECT_EQ(actor->entities().countEntities({.namespaces = {"B"}}), 0);
  EXPECT_EQ(actor->entities().countEntities({.namespaces = {"A", "B"}}), 1);
  EXPECT_TRUE(actor->entities().queryEntities({.namespaces = {"B"}}).items.empty());
  EXPECT_EQ(actor->notes().countNotes({.namespaces = {"B"}}), 0);
  EXPECT_EQ(actor->graph().countEdges({.namespaces = {"B"}}), 0);
  EXPECT_EQ(actor->events().countEvents({.namespaces = {"B"}}), 0);
  std::vector<std::string> nsB{"B"};
  EXPECT_EQ(actor->text().countDocuments(nsB), 0);
  EXPECT_EQ(actor->sparse().countSparse("sp", nsB), 0);
  // Text search.
  storage::TextQuery tq;
  tq.text = "falcon";
  tq.namespaces = {"A", "B"};
  auto hits = actor->text().searchText(tq);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].subjectId, a1.id);
  // Sparse search.
  storage::SparseSearchRequest sq;
  sq.model = "sp";
  sq.query = {{7}, {1.0f}};
  sq.namespaces = {"A", "B"};
  auto sparseHits = actor->sparse().searchSparse(sq);
  ASSERT_EQ(sparseHits.size(), 1u);
  EXPECT_EQ(sparseHits[0].subjectId, a1.id);
  // Vector search (pgvector).
  if (GetParam().hasVectors) {
    storage::VectorSearchRequest vq;
    vq.model = "m";
    vq.query = {1.0f, 0.5f, 0.25f};
    vq.namespaces = {"A", "B"};
    auto vh = actor->vectors().searchVectors(vq);
    ASSERT_EQ(vh.size(), 1u);
    EXPECT_EQ(vh[0].subjectId, a1.id);
    EXPECT_EQ(actor->vectors().countVectors("m", nsB), 0);
  }
  // Traverse into B: from A's entity along B's edge, and from B's own entities.
  storage::TraverseRequest tr;
  tr.roots = {a1.id, b1.id};
  tr.namespaces = {"A", "B"};
  tr.maxDepth = 3;
  tr.direction = storage::Direction::Both;
  for (const auto& tree : actor->graph().traverse(tr)) {
    for (const auto& node : tree.nodes) {
      EXPECT_EQ(node.id, tree.rootId) << "no edge of B is walked";
      EXPECT_NE(node.id, b2.id);
    }
  }
  EXPECT_TRUE(actor->graph().neighbors(a1.id, {.namespaces = {"A", "B"}, .direction = storage::Direction::Both}).empty());
  EXPECT_TRUE(actor->graph().neighbors(b1.id, {.namespaces = {"A", "B"}, .direction = storage::Direction::Both}).empty());
  EXPECT_FALSE(actor->graph().shortestPath(a1.id, b2.id, {.namespaces = {"A", "B"}}));
  // Update and delete.
  EXPECT_FALSE(actor->entities().deleteEntity(b1.id, storage::DeleteMode::Soft));
  EXPECT_FALSE(actor->entities().deleteEntity(b1.id, storage::DeleteMode::Hard));
  EXPECT_FALSE(actor->notes().deleteNote(bNote.id, storage::DeleteMode::Hard));
  EXPECT_FALSE(actor->graph().deleteEdge(bEdge.id, storage::DeleteMode::Hard));
  EXPECT_FALSE(actor->text().deleteDocument(b1.id));
  EXPECT_EQ(actor->sparse().deleteSparse(b1.id), 0);
  if (GetParam().hasVectors) {
    EXPECT_EQ(actor->vectors().deleteVectors(b1.id), 0);
  }
  // Overwriting B's entity by id, in B or moved into A, is refused by the policy.
  Entity steal = b1;
  steal.name = "stolen";
  EXPECT_THROW(actor->entities().upsertEntity(steal), Error);
  steal.ns = "A";
  EXPECT_THROW(actor->entities().upsertEntity(steal), Error);
  Entity plant;
  plant.id = Uuid::v7();
  plant.ns = "B";
  plant.kind = "concept";
  plant.name = "planted";
  EXPECT_THROW(actor->entities().upsertEntity(plant), Error) << "writing into B is refused (WITH CHECK)";
  EXPECT_EQ(fingerprint(), before) << "namespace B changed";
}

TEST_P(PgRls, RawSqlWithoutANamespacePredicateSeesAndChangesNothing) {
  const auto before = fingerprint();
  std::vector<std::string> tables{"entities", "notes", "edges", "events", "text_documents", "sparse_entries"};
  if (GetParam().hasVectors) tables.push_back("vectors");
  auto reader = actor->sql().reader();
  for (const auto& t : tables) {
    SCOPED_TRACE(t);
    // Everything the actor can see is in A.
    EXPECT_EQ(asInt(reader->queryScalar(fmt::format("SELECT count(*) FROM {} WHERE namespace <> 'A'", t))), 0);
    EXPECT_EQ(asInt(reader->queryScalar(fmt::format("SELECT count(*) FROM {} WHERE namespace = 'B'", t))), 0);
  }
  EXPECT_TRUE(reader->query("SELECT * FROM entities WHERE id = $1", {b1.id}).rows.empty());
  EXPECT_TRUE(reader->query("SELECT * FROM edges WHERE source_id = $1 OR target_id = $1", {b1.id}).rows.empty());
  EXPECT_EQ(asInt(reader->queryScalar(
                "WITH RECURSIVE walk(id) AS (SELECT $1::uuid UNION SELECT e.target_id FROM edges e JOIN walk w "
                "ON e.source_id = w.id) SELECT count(*) FROM walk",
                {a1.id})),
            1)
      << "a raw recursive walk from A's entity does not step into B";
  reader.reset();

  auto writer = actor->sql().writer();
  for (const auto& t : tables) {
    SCOPED_TRACE(t);
    if (t == "events") {
      // Append-only: the application role has no UPDATE or DELETE on events at all.
      EXPECT_THROW(writer->execute("UPDATE events SET namespace = 'A' WHERE namespace = 'B'"), Error);
      EXPECT_THROW(writer->execute("DELETE FROM events WHERE namespace = 'B'"), Error);
      continue;
    }
    EXPECT_EQ(writer->execute(fmt::format("UPDATE {} SET namespace = 'A' WHERE namespace = 'B'", t)), 0);
    EXPECT_EQ(writer->execute(fmt::format("DELETE FROM {} WHERE namespace = 'B'", t)), 0);
  }
  EXPECT_EQ(writer->execute("UPDATE entities SET name = 'hijacked' WHERE id = $1", {b1.id}), 0);
  // Without any predicate at all: only A's rows change (one entity; one text document).
  EXPECT_EQ(writer->execute("UPDATE entities SET description = 'touched'"), 1);
  EXPECT_EQ(writer->execute("DELETE FROM edges"), 0) << "A has no edge of its own";
  // Moving an A row into B, or inserting into B, violates the policy's WITH CHECK.
  EXPECT_THROW(writer->execute("UPDATE entities SET namespace = 'B' WHERE id = $1", {a1.id}), Error);
  EXPECT_THROW(writer->execute("INSERT INTO entities (id, namespace, kind, name, properties, tags, created_at, "
                               "updated_at) VALUES ($1, 'B', 'concept', 'x', '{}', '[]', 1, 1)",
                               {Uuid::v7()}),
               Error);
  // The session state RLS reads is not the caller's to change.
  EXPECT_THROW(writer->execute("SELECT set_config('khive.namespaces', '{B}', false)"), Error);
  EXPECT_THROW(writer->execute("SET khive.namespaces = '{*}'"), Error);
  EXPECT_THROW(writer->execute("RESET ROLE"), Error);
  writer.reset();

  // A transaction sees no more.
  auto tx = actor->sql().begin();
  EXPECT_EQ(asInt(tx->queryScalar("SELECT count(*) FROM notes")), 0);
  EXPECT_EQ(tx->execute("DELETE FROM notes"), 0);
  tx->commit();
  tx.reset();

  // The owner's B is untouched (A's description changed, which fingerprint() also covers).
  auto after = fingerprint();
  auto onlyB = [](const std::string& fp) {
    std::string out;
    std::size_t pos = 0;
    while (pos < fp.size()) {
      auto end = fp.find('\n', pos);
      auto line = fp.substr(pos, end - pos);
      if (line.find(" B ") != std::string::npos || line.rfind("vectors", 0) == 0) out += line + "\n";
      pos = end + 1;
    }
    return out;
  };
  EXPECT_EQ(onlyB(after), onlyB(before));
  EXPECT_FALSE(onlyB(before).empty());
  EXPECT_EQ(owner->entities().getEntity(b1.id)->name, "bravo");
  EXPECT_EQ(owner->entities().getEntity(a1.id)->description, "touched");
}

// A DO block that sets khive.scope to `token` by dynamic SQL (no SET/set_config spelt in the
// statement text, so the SqlAccess courtesy check lets it through to the server) and then, in
// the same statement, tries to read and change B; it raises when it sees or changes a row.
std::string forgeAndProbe(const std::string& token) {
  std::string quoted = "'";
  for (char c : token) quoted += c == '\'' ? std::string("''") : std::string(1, c);
  quoted += "'";
  return fmt::format(
      "DO $probe$ DECLARE n int8; BEGIN\n"
      "  EXECUTE 'SE' || 'T \"khive\".scope TO ' || quote_literal({0});\n"
      "  SELECT count(*) INTO n FROM entities WHERE namespace = 'B';\n"
      "  IF n > 0 THEN RAISE EXCEPTION 'read % entities of B', n; END IF;\n"
      "  SELECT count(*) INTO n FROM notes;\n"
      "  IF n > 0 THEN RAISE EXCEPTION 'read % notes of B', n; END IF;\n"
      "  UPDATE entities SET name = 'hijacked' WHERE namespace = 'B';\n"
      "  GET DIAGNOSTICS n = ROW_COUNT;\n"
      "  IF n > 0 THEN RAISE EXCEPTION 'changed % entities of B', n; END IF;\n"
      "  DELETE FROM edges WHERE namespace = 'B';\n"
      "  GET DIAGNOSTICS n = ROW_COUNT;\n"
      "  IF n > 0 THEN RAISE EXCEPTION 'deleted % edges of B', n; END IF;\n"
      "END $probe$",
      quoted);
}

std::string scopeOf(storage::SqlConnection& c) {
  // 'khive' || '.scope': the statement does not name the GUC, so the courtesy check passes it.
  auto v = c.queryScalar("SELECT current_setting('khive' || '.scope', true)");
  return std::holds_alternative<std::string>(v) ? std::get<std::string>(v) : std::string();
}

TEST_P(PgRls, ForgedScopeThroughSqlAccessGrantsNothing) {
  const auto before = fingerprint();
  auto writer = actor->sql().writer();
  const std::string own = scopeOf(*writer);
  ASSERT_GT(own.size(), 65u) << "the pool sets a signed scope token on checkout";
  EXPECT_EQ(own.substr(64), ":{\"A\"}");
  const std::string mac = own.substr(0, 64);
  const std::string zeros(64, '0');
  for (const std::string& forged :
       {zeros + ":{B}", zeros + ":{*}", mac + ":{B}", mac + ":{\"B\"}", mac + ":{\"A\",\"B\"}", mac + ":{*}",
        mac + ":{\"*\"}", std::string("{B}"),
        std::string("*"), std::string(), own + ",B", own.substr(0, 63) + "0:{A}"}) {
    SCOPED_TRACE(forged);
    EXPECT_NO_THROW(writer->execute(forgeAndProbe(forged)));
  }
  // The old GUC the policies used to trust is ignored now.
  EXPECT_NO_THROW(writer->execute(
      "DO $x$ DECLARE n int8; BEGIN EXECUTE 'SE' || 'T \"khive\".namespaces TO ''{B}'''; "
      "SELECT count(*) INTO n FROM entities WHERE namespace = 'B'; "
      "IF n > 0 THEN RAISE EXCEPTION 'read % of B', n; END IF; END $x$"));
  // set_config reached through dynamic SQL, and the verifier called directly with a forgery.
  EXPECT_NO_THROW(writer->execute(
      "DO $x$ DECLARE n int8; BEGIN EXECUTE 'SELECT set_' || 'config(''khive'' || ''.scope'', ''" + zeros +
      ":{*}'', false)'; SELECT count(*) INTO n FROM entities; "
      "IF n > 0 THEN RAISE EXCEPTION 'read % entities', n; END IF; END $x$"));
  EXPECT_TRUE(std::holds_alternative<std::monostate>(
      writer->queryScalar("SELECT khive_scope_verify($1, khive_session_binding())", {zeros + ":{B}"})));
  // The key is not the application role's to read.
  EXPECT_THROW(writer->query("SELECT * FROM khive_scope_key"), Error);
  EXPECT_THROW(writer->query("SELECT key FROM " + schema_ + ".khive_scope_key"), Error);
  writer.reset();

  if (GetParam().name == "postgres15") {
    // A token replayed from another session (the owner's, granted every namespace) is bound to
    // that session: here it grants nothing. (PGlite runs every client in one session, so there
    // is no other session to replay from.)
    auto ownerReader = owner->sql().reader();
    const std::string ownerToken = scopeOf(*ownerReader);
    EXPECT_EQ(ownerToken.substr(64), ":{\"*\"}");
    auto w2 = actor->sql().writer();
    EXPECT_NO_THROW(w2->execute(forgeAndProbe(ownerToken)));
  }

  // The pool re-signs on every checkout: after the forgeries the actor still reads A.
  EXPECT_TRUE(actor->entities().getEntity(a1.id));
  EXPECT_EQ(fingerprint(), before) << "namespace B changed";
}

// A bare libpq session of the application role (no khive in between, so no courtesy check):
// whatever it sets, it sees none of B and changes none of B. Native PostgreSQL only: PGlite
// logs every client in as its superuser in one shared session, which no policy can bind (see
// README, "Row-level security").
TEST_P(PgRls, ApplicationRoleSessionCannotGrantItself) {
  if (GetParam().name != "postgres15") GTEST_SKIP() << "PGlite has no non-superuser logins";
  const char* url = std::getenv("KHIVE_PG_URL");
  ASSERT_TRUE(url);
  const char* keys[] = {"dbname", "user", nullptr};
  const char* vals[] = {url, "khive_app", nullptr};
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdbParams(keys, vals, 1), &PQfinish);
  ASSERT_EQ(PQstatus(conn.get()), CONNECTION_OK) << PQerrorMessage(conn.get());
  PGconn* c = conn.get();
  auto run = [&](const std::string& sql) -> std::pair<bool, std::string> {  // ok, first value
    std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(c, sql.c_str()), &PQclear);
    const auto st = PQresultStatus(r.get());
    const bool ok = st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK;
    std::string v = ok && st == PGRES_TUPLES_OK && PQntuples(r.get()) > 0 ? PQgetvalue(r.get(), 0, 0) : "";
    return {ok, ok ? v : std::string(PQerrorMessage(c))};
  };
  auto changed = [&](const std::string& sql) -> std::string {  // rows changed, or "error"
    std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(c, sql.c_str()), &PQclear);
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) return "error";
    return PQcmdTuples(r.get());
  };
  const std::string setPath = "SET search_path = " + schema_ + ", public";
  ASSERT_TRUE(run(setPath).first);
  const auto before = fingerprint();
  const std::string ownerToken = scopeOf(*owner->sql().reader());
  const std::string zeros(64, '0');
  const std::vector<std::string> attempts = {
      "SELECT 1",  // nothing set at all
      "SET khive.scope = '" + zeros + ":{B}'",
      "SET \"khive\".scope = '" + zeros + ":{*}'",
      "SELECT set_config('khive.scope', '" + zeros + ":{B}', false)",
      "SELECT set_config('khive.scope', '" + ownerToken + "', false)",  // replayed from another session
      "SET khive.namespaces = '{B}'",
      "SELECT set_config('khive.namespaces', '{*}', false)",
      "DO $$ BEGIN PERFORM set_config('khive.scope', '" + ownerToken + "', false); END $$",
      "RESET ALL",
      "DISCARD ALL",
      "SET ROLE postgres",
      "SET SESSION AUTHORIZATION postgres",
      "CREATE FUNCTION pg_temp.khive_granted_namespaces() RETURNS text[] LANGUAGE sql AS $$ SELECT '{*}'::text[] $$",
      "CREATE OR REPLACE FUNCTION khive_granted_namespaces() RETURNS text[] LANGUAGE sql AS $$ SELECT '{*}'::text[] $$",
      "CREATE OR REPLACE FUNCTION khive_session_binding() RETURNS text LANGUAGE sql AS $$ SELECT ''::text $$",
      "ALTER TABLE entities DISABLE ROW LEVEL SECURITY",
      "ALTER TABLE entities NO FORCE ROW LEVEL SECURITY",
      "DROP POLICY entities_namespace_isolation ON entities",
      "UPDATE khive_scope_key SET key = decode(repeat('00', 32), 'hex')",
  };
  for (const auto& attempt : attempts) {
    SCOPED_TRACE(attempt);
    run(attempt);  // refused or not, what counts is what the session sees and changes after it
    ASSERT_TRUE(run(setPath).first);
    for (std::string_view t : {"entities", "notes", "edges", "events", "text_documents", "sparse_entries"}) {
      SCOPED_TRACE(t);
      auto n = run(fmt::format("SELECT count(*) FROM {}", t));
      ASSERT_TRUE(n.first) << n.second;
      EXPECT_EQ(n.second, "0");
    }
    EXPECT_EQ(changed("UPDATE entities SET name = 'hijacked' WHERE namespace = 'B'"), "0");
    EXPECT_EQ(changed("UPDATE entities SET name = 'hijacked'"), "0");
    EXPECT_EQ(changed("DELETE FROM notes"), "0");
    EXPECT_EQ(changed("DELETE FROM edges WHERE namespace = 'B'"), "0");
    EXPECT_EQ(changed("UPDATE text_documents SET body = 'x'"), "0");
    EXPECT_EQ(changed("DELETE FROM sparse_entries"), "0");
    EXPECT_EQ(changed(fmt::format("INSERT INTO entities (id, namespace, kind, name, properties, tags, created_at, "
                                  "updated_at) VALUES ('{}', 'B', 'concept', 'planted', '{{}}', '[]', 1, 1)",
                                  Uuid::v7().str())),
              "error");
    EXPECT_FALSE(run("SELECT * FROM khive_scope_key").first) << "the key is readable";
    EXPECT_EQ(run("SELECT current_user").second, "khive_app") << "the role changed";
  }
  EXPECT_EQ(fingerprint(), before) << "namespace B changed";
}

INSTANTIATE_TEST_SUITE_P(Postgres, PgRls, ::testing::ValuesIn(postgresCases()), BackendCaseName());

}  // namespace
}  // namespace khive::testing
