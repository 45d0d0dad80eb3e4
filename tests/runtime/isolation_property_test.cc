// The isolation property: random steps of every verb by actors with random visible namespaces
// and grants over three namespaces. After each step a privileged reader (every namespace)
// confirms that the actor read nothing outside its read scope, that no namespace outside the
// actor's grants for the verb changed (records, text documents; events also in the actor's
// write namespace, where khive logs refusals), and that each outcome is the one the write rule
// gives (an independent statement of it: mayWrite below).
//
// Seeded and reproducible: KHIVE_ISOLATION_SEED (default: random, printed on failure),
// KHIVE_ISOLATION_STEPS (SQLite, default 10,000), KHIVE_ISOLATION_PG_STEPS (PostgreSQL and
// PGlite, default 1,500).
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <random>
#include <set>
#include <sstream>

#include "khive/core/error.h"
#include "khive/runtime/codec.h"
#include "khive/runtime/policy.h"
#include "khive/runtime/transfer.h"
#include "runtime/isolation_fixture.h"

using namespace khive;
using namespace khive::runtime;
using khive::testing::ActorSpec;
using khive::testing::BackendCase;
using khive::testing::SharedStore;

namespace {

const std::vector<std::string> kNs = {"alpha", "beta", "gamma"};
const std::vector<std::string> kVerbs = {"create", "update", "delete", "merge", "link", "import"};

std::int64_t envInt(const char* name, std::int64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::stoll(v) : fallback;
}

bool contains(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

// The write rule, stated independently of Runtime::checkGrant.
bool mayWrite(const ActorSpec& a, const std::string& verb, const std::string& ns) {
  if (a.grants.empty()) return contains(khive::testing::readScopeOf(a), ns);
  for (const auto& g : a.grants) {
    bool who = g.actor == "*" || g.actor == a.id;
    bool what = contains(g.verbs, "*") || contains(g.verbs, verb);
    bool where = contains(g.namespaces, "*") || contains(g.namespaces, ns);
    if (who && what && where) return true;
  }
  return false;
}

// Per namespace: rows, deleted rows and the latest update of entities, notes and edges, text
// documents, and events.
using Snapshot = std::map<std::string, std::vector<std::int64_t>>;

class IsolationProperty : public ::testing::TestWithParam<BackendCase> {
 protected:
  void SetUp() override { KHIVE_SKIP_UNAVAILABLE_BACKEND(GetParam()); }

  struct Actor {
    ActorSpec spec;
    std::vector<std::string> scope;
    std::unique_ptr<Runtime> rt;
  };

  // One statement, so a step's check costs one round trip on PostgreSQL.
  Snapshot snapshot() {
    Snapshot s;
    for (const auto& ns : kNs) s[ns] = std::vector<std::int64_t>(11, 0);
    const char* zero = pg_ ? "0::int8" : "0";
    std::string sql;
    int col = 0;
    for (const char* table : {"entities", "notes", "edges"}) {
      sql += fmt::format("{}SELECT namespace, {}, count(*), count(deleted_at), max(updated_at) FROM {} GROUP BY namespace",
                         sql.empty() ? "" : " UNION ALL ", col, table);
      col += 3;
    }
    for (const auto& [table, c] : {std::pair{"text_documents", 9}, std::pair{"events", 10}})
      sql += fmt::format(" UNION ALL SELECT namespace, {}, count(*), {}, {} FROM {} GROUP BY namespace", c, zero, zero, table);
    for (const auto& r : root_->backend().sql().reader()->query(sql, {}).rows) {
      auto ns = storage::asText(r[0]);
      if (!s.count(ns)) s[ns] = std::vector<std::int64_t>(11, 0);
      const auto c = static_cast<std::size_t>(storage::asInt(r[1]));
      s[ns][c] = storage::asInt(r[2]);
      if (c < 9) {
        s[ns][c + 1] = storage::asInt(r[3]);
        s[ns][c + 2] = storage::isNull(r[4]) ? 0 : storage::asInt(r[4]);
      }
    }
    return s;
  }

  // Where a record is, as the privileged reader sees it (one statement over the four tables;
  // an edge's liveness also asks getEdge, which knows about deleted endpoints).
  struct Where {
    std::string type, ns;
    bool live = false;
  };
  std::optional<Where> where(const Uuid& id) {
    auto& b = root_->backend();
    const char* param = pg_ ? "$1::uuid" : "?1";
    std::string sql;
    int t = 0;
    for (const char* table : {"entities", "notes", "edges", "events"}) {
      sql += fmt::format("{}SELECT {}, namespace, {} FROM {} WHERE id = {}", sql.empty() ? "" : " UNION ALL ", t++,
                         std::string_view(table) == "events" ? (pg_ ? "NULL::int8" : "NULL") : "deleted_at", table, param);
    }
    auto rows = b.sql().reader()->query(sql + " ORDER BY 1", {id}).rows;
    if (rows.empty()) return std::nullopt;
    static const char* types[] = {"entity", "note", "edge", "event"};
    const auto type = storage::asInt(rows[0][0]);
    bool live = storage::isNull(rows[0][2]);
    if (type == 2) live = live && b.graph().getEdge(id).has_value();
    return Where{types[type], storage::asText(rows[0][1]), live};
  }

  // The namespace of every record of `ids` the privileged reader knows, in one statement over
  // the four tables (a walk or a query names hundreds).
  std::map<Uuid, std::string> namespacesOf(const std::vector<Uuid>& ids) {
    std::map<Uuid, std::string> out;
    if (ids.empty()) return out;
    std::string list;
    for (const auto& id : ids) list += (list.empty() ? "" : ",") + (pg_ ? id.str() : '"' + id.str() + '"');
    const std::string param = pg_ ? "ANY ($1::text::uuid[])" : "IN (SELECT value FROM json_each(?1))";
    std::string sql;
    for (const char* table : {"entities", "notes", "edges", "events"})
      sql += fmt::format("{}SELECT {}, namespace FROM {} WHERE id {}", sql.empty() ? "" : " UNION ALL ",
                         pg_ ? "id::text" : "id", table, pg_ ? "= " + param : param);
    storage::SqlParams params{pg_ ? "{" + list + "}" : "[" + list + "]"};
    for (const auto& r : root_->backend().sql().reader()->query(sql, params).rows)
      out.emplace(Uuid::parse(storage::asText(r[0])), storage::asText(r[1]));
    return out;
  }

  std::unique_ptr<SharedStore> store_;
  std::unique_ptr<Runtime> root_;
  bool pg_ = false;
};

TEST_P(IsolationProperty, NoActorReadsOrChangesAnythingOutsideItsScope) {
  const bool pg = GetParam().openScoped != nullptr;
  pg_ = pg;
  const std::int64_t steps = pg ? envInt("KHIVE_ISOLATION_PG_STEPS", 1500) : envInt("KHIVE_ISOLATION_STEPS", 10000);
  const std::uint64_t seed = static_cast<std::uint64_t>(envInt("KHIVE_ISOLATION_SEED", static_cast<std::int64_t>(std::random_device{}() & 0x7fffffff)));
  SCOPED_TRACE(fmt::format("KHIVE_ISOLATION_SEED={} ({} steps on {})", seed, steps, GetParam().name));
  std::mt19937_64 rng(seed);
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  auto chance = [&](int percent) { return static_cast<int>(rng() % 100) < percent; };

  store_ = std::make_unique<SharedStore>(GetParam());
  root_ = store_->privileged(kNs);

  // Actors: a write namespace, a random visible set, and half of them random grants.
  std::vector<Actor> actors;
  for (int i = 0; i < 7; ++i) {
    ActorSpec a;
    a.id = fmt::format("actor{}", i);
    a.writeNs = kNs[pick(3)];
    for (const auto& ns : kNs)
      if (chance(40)) a.visible.push_back(ns);
    if (chance(50)) {
      int n = 1 + static_cast<int>(pick(3));
      for (int g = 0; g < n; ++g) {
        Grant gr;
        gr.actor = chance(80) ? a.id : chance(50) ? "*" : "someone-else";
        gr.verbs.clear();
        if (chance(15)) gr.verbs = {"*"};
        else
          for (const auto& v : kVerbs)
            if (chance(50)) gr.verbs.push_back(v);
        gr.namespaces.clear();
        if (chance(15)) gr.namespaces = {"*"};
        else
          for (const auto& ns : kNs)
            if (chance(50)) gr.namespaces.push_back(ns);
        a.grants.push_back(gr);
      }
    }
    // Two actors see everything with fixed grants, so every seed reaches both sides of the rule
    // for every write verb: actor0 may do anything in its write namespace only, actor1 anything
    // anywhere but create.
    if (i == 0) {
      a.visible = kNs;
      a.grants = {Grant{.actor = a.id, .verbs = {"*"}, .namespaces = {a.writeNs}}};
    } else if (i == 1) {
      a.visible = kNs;
      a.grants = {Grant{.actor = a.id, .verbs = {"update", "delete", "merge", "link", "import"}, .namespaces = {"*"}}};
    }
    auto rt = store_->runtime(a);
    actors.push_back({a, rt->readNamespaces(), std::move(rt)});
    EXPECT_EQ(actors.back().scope.size(), khive::testing::readScopeOf(a).size());
  }

  // Seed data: an owner per namespace writes a few records.
  std::vector<Uuid> ids;         // entities, notes, edges, events, ever written
  std::vector<Uuid> entityIds;   // entities ever written
  for (const auto& ns : kNs) {
    auto owner = store_->runtime({.id = ns + "-owner", .writeNs = ns});
    for (int i = 0; i < 4; ++i) {
      auto e = owner->createEntity({.kind = "concept", .name = fmt::format("{} seed {}", ns, i), .description = "common words"});
      ids.push_back(e.id);
      entityIds.push_back(e.id);
    }
    ids.push_back(owner->createNote({.kind = "observation", .content = ns + " common note"}).id);
    ids.push_back(owner->link({.source = entityIds[entityIds.size() - 4], .target = entityIds.back(), .relation = "extends"}).id);
  }

  auto inScope = [](const Actor& a, const std::string& ns) { return contains(a.scope, ns); };
  auto randomId = [&]() -> Uuid { return chance(8) ? Uuid::v7() : ids[pick(ids.size())]; };
  auto randomEntity = [&]() -> Uuid { return chance(5) ? Uuid::v7() : entityIds[pick(entityIds.size())]; };
  // A live entity or note of the actor's scope (the walks' and link's visibility).
  auto visibleNode = [&](const Actor& a, const Uuid& id) {
    auto w = where(id);
    return w && w->live && (w->type == "entity" || w->type == "note") && inScope(a, w->ns);
  };
  // The namespace of a record the privileged reader knows, "" when there is none.
  auto nsOfAny = [&](const Uuid& id) -> std::string {
    auto w = where(id);
    return w ? w->ns : "";
  };
  auto checkRead = [&](const Actor& a, const std::string& ns, const std::string& what) {
    EXPECT_TRUE(inScope(a, ns)) << a.spec.id << " read " << what << " in '" << ns << "'";
  };

  std::map<std::string, int> outcomes;  // "verb:outcome" -> steps, printed at the end
  Snapshot before = snapshot();
  // Where the time goes: the whole run and the after-step snapshots (printed at the end).
  const auto started = std::chrono::steady_clock::now();
  std::chrono::steady_clock::duration snapshotTime{};
  std::int64_t counts[20] = {};
  for (std::int64_t step = 0; step < steps && !HasFailure(); ++step) {
    Actor& a = actors[pick(actors.size())];
    const int verb = static_cast<int>(pick(17));
    ++counts[verb];
    SCOPED_TRACE(fmt::format("step {} verb {} actor {} (write {}, scope {}, {} grants)", step, verb, a.spec.id, a.spec.writeNs,
                             fmt::join(a.scope, ","), a.spec.grants.size()));
    std::set<std::string> mayChange;  // namespaces whose records the step may change
    bool hardDeletedNode = false;
    // Where khive may log the step's event besides the write namespace: the namespace of the
    // visible record it names (also when the write is refused).
    std::set<std::string> eventNs;
    std::string grantVerb;
    // A write's outcome against the rule: `visible` = every record it names is visible,
    // `allowed` = every namespace it writes is granted.
    auto expectWrite = [&](const std::function<void()>& f, bool visible, bool allowed, const std::string& verbName) {
      grantVerb = verbName;
      try {
        f();
        ++outcomes[verbName + ":ok"];
        EXPECT_TRUE(visible && allowed) << verbName << " succeeded against the rule";
      } catch (const Error& e) {
        ++outcomes[verbName + ":" + std::string(errorCodeName(e.code()))];
        if (e.code() == ErrorCode::NotFound) {
          EXPECT_FALSE(visible) << e.message();
        } else if (e.code() == ErrorCode::PermissionDenied) {
          EXPECT_FALSE(allowed) << e.message();
        } else if (e.code() != ErrorCode::InvalidInput) {
          ADD_FAILURE() << verbName << ": " << e.message();
        }
        if (visible && allowed) {
          EXPECT_EQ(e.code(), ErrorCode::InvalidInput) << e.message();
        }
      }
    };
    switch (verb) {
      case 0:
      case 1: {  // create entity / note
        bool ok = mayWrite(a.spec, "create", a.spec.writeNs);
        if (ok) mayChange.insert(a.spec.writeNs);
        expectWrite([&] {
          if (verb == 0) {
            auto e = a.rt->createEntity({.kind = "concept", .name = fmt::format("e{}", step), .description = "common words"});
            EXPECT_EQ(e.ns, a.spec.writeNs);
            ids.push_back(e.id);
            entityIds.push_back(e.id);
          } else {
            ids.push_back(a.rt->createNote({.kind = "observation", .content = fmt::format("common note {}", step)}).id);
          }
        }, true, ok, "create");
        break;
      }
      case 2: {  // update
        Uuid id = randomId();
        auto w = where(id);
        bool visible = w && w->live && (w->type == "entity" || w->type == "note") && inScope(a, w->ns);
        bool edgeVisible = w && w->live && w->type == "edge" && inScope(a, w->ns);
        bool ok = visible && mayWrite(a.spec, "update", w->ns);
        if (ok) mayChange.insert(w->ns);
        if (visible || edgeVisible) eventNs.insert(w->ns);
        expectWrite([&] { a.rt->update(id, {.name = fmt::format("u{}", step)}); }, visible || edgeVisible, ok || edgeVisible, "update");
        break;
      }
      case 3:
      case 4: {  // delete soft / hard
        const bool hard = verb == 4;
        Uuid id = randomId();
        auto w = where(id);
        bool visible = w && w->type != "event" && (hard || w->live) && inScope(a, w->ns);
        bool ok = visible && mayWrite(a.spec, "delete", w->ns);
        if (ok) mayChange.insert(w->ns);
        if (visible) eventNs.insert(w->ns);
        expectWrite([&] { a.rt->remove(id, hard); }, visible, ok, "delete");
        hardDeletedNode = hard && ok && (w->type == "entity" || w->type == "note");
        break;
      }
      case 5: {  // merge
        Uuid loser = randomEntity(), winner = randomEntity();
        auto wl = where(loser), ww = where(winner);
        auto liveEntity = [&](const std::optional<Where>& w) { return w && w->live && w->type == "entity" && inScope(a, w->ns); };
        bool visible = liveEntity(wl) && liveEntity(ww);
        bool ok = visible && mayWrite(a.spec, "merge", wl->ns) && mayWrite(a.spec, "merge", ww->ns);
        if (visible) {
          eventNs.insert(ww->ns);
          std::set<std::string> edgeNs;
          for (bool out : {true, false}) {
            storage::EdgeFilter f;
            f.namespaces = a.scope;
            (out ? f.sources : f.targets) = {loser};
            for (const auto& e : root_->backend().graph().queryEdges(f, {.offset = 0, .limit = 10000}).items) edgeNs.insert(e.ns);
          }
          for (const auto& ns : edgeNs) ok = ok && mayWrite(a.spec, "merge", ns);
          if (ok) {
            mayChange.insert(wl->ns);
            mayChange.insert(ww->ns);
            mayChange.insert(edgeNs.begin(), edgeNs.end());
          }
        }
        expectWrite([&] { a.rt->merge(loser, winner); }, visible, ok, "merge");
        break;
      }
      case 6: {  // link
        Uuid s = chance(50) ? randomEntity() : randomId(), t = randomEntity();
        bool visible = visibleNode(a, s) && visibleNode(a, t);
        bool ok = mayWrite(a.spec, "link", a.spec.writeNs) && (!visibleNode(a, s) || mayWrite(a.spec, "link", nsOfAny(s))) &&
                  (!visibleNode(a, t) || mayWrite(a.spec, "link", nsOfAny(t)));
        if (visible && ok) mayChange.insert(a.spec.writeNs);
        grantVerb = "link";
        try {
          Edge e = a.rt->link({.source = s, .target = t, .relation = "extends", .weight = 0.5});
          ++outcomes["link:ok"];
          EXPECT_TRUE(visible && ok) << "link succeeded against the rule";
          EXPECT_EQ(e.ns, a.spec.writeNs);
          ids.push_back(e.id);
        } catch (const Error& e) {
          ++outcomes["link:" + std::string(errorCodeName(e.code()))];
          // The edge's namespace is checked first, then each endpoint: visibility, then grant.
          if (e.code() == ErrorCode::NotFound) {
            EXPECT_FALSE(visible) << e.message();
          } else if (e.code() == ErrorCode::PermissionDenied) {
            EXPECT_FALSE(ok) << e.message();
          } else {
            EXPECT_EQ(e.code(), ErrorCode::InvalidInput) << e.message();
          }
          if (visible && ok) {
            EXPECT_EQ(e.code(), ErrorCode::InvalidInput) << e.message();
          }
        }
        break;
      }
      case 7: {  // get
        Uuid id = randomId();
        auto mine = a.rt->get(id);
        auto all = root_->get(id);
        std::string ns = all ? std::visit([](const auto& v) { return v.ns; }, *all) : "";
        EXPECT_EQ(mine.has_value(), all.has_value() && inScope(a, ns)) << id.str() << " in '" << ns << "'";
        if (mine) checkRead(a, std::visit([](const auto& v) { return v.ns; }, *mine), "get");
        break;
      }
      case 8: {  // resolve a prefix
        std::string hex = ids[pick(ids.size())].str();
        hex.erase(std::remove(hex.begin(), hex.end(), '-'), hex.end());
        std::string prefix = hex.substr(0, 8 + pick(6));
        try {
          Uuid got = a.rt->resolveId(prefix);
          std::string h = got.str();
          h.erase(std::remove(h.begin(), h.end(), '-'), h.end());
          EXPECT_EQ(h.rfind(prefix, 0), 0u);
          checkRead(a, nsOfAny(got), "resolve " + prefix);
        } catch (const Error& e) {
          if (e.code() == ErrorCode::InvalidInput) {
            // "id prefix 'P' is ambiguous (ID and others)": the id named must be visible.
            auto open = e.message().find('(');
            ASSERT_NE(open, std::string::npos) << e.message();
            Uuid named = Uuid::parse(e.message().substr(open + 1, 36));
            checkRead(a, nsOfAny(named), "ambiguity message " + e.message());
          } else {
            EXPECT_EQ(e.code(), ErrorCode::NotFound) << e.message();
          }
        }
        break;
      }
      case 9:
      case 10:
      case 11: {  // neighbors, traverse, path
        Uuid x = chance(50) ? randomEntity() : randomId(), y = randomEntity();
        bool visible = visibleNode(a, x) && (verb != 11 || visibleNode(a, y));
        std::vector<NodeSummary> nodes;
        std::vector<Uuid> edges;
        try {
          if (verb == 9) {
            for (const auto& r : a.rt->neighbors(x, storage::Direction::Both, {}, 50)) {
              nodes.push_back(r.node);
              edges.push_back(r.edge.edgeId);
            }
          } else if (verb == 10) {
            for (const auto& p : a.rt->traverse({x}, 3, storage::Direction::Both, {}, 200))
              for (const auto& n : p.nodes) {
                nodes.push_back(n.node);
                if (n.viaEdge) edges.push_back(*n.viaEdge);
              }
          } else if (auto p = a.rt->path(x, y, 4, storage::Direction::Both, {})) {
            nodes = p->nodes;
            for (const auto& e : p->edges) {
              checkRead(a, e.ns, "path edge");
              edges.push_back(e.id);
            }
          }
          EXPECT_TRUE(visible) << "a walk from a node outside the scope answered";
        } catch (const Error& e) {
          EXPECT_EQ(e.code(), ErrorCode::NotFound) << e.message();
          EXPECT_FALSE(visible) << e.message();
        }
        std::vector<Uuid> named = edges;
        for (const auto& n : nodes)
          if (n.type != "missing") named.push_back(n.id);
        auto nss = namespacesOf(named);
        for (const auto& n : nodes)
          if (n.type != "missing") checkRead(a, nss[n.id], "walk node");
        for (const auto& e : edges) checkRead(a, nss[e], "walk edge");
        break;
      }
      case 12: {  // list
        static const char* types[] = {"entity", "note", "edge", "event"};
        for (const auto& r : a.rt->list({.type = types[pick(4)], .limit = 100}).items)
          checkRead(a, std::visit([](const auto& v) { return v.ns; }, r), "list");
        break;
      }
      case 13: {  // query
        auto q = a.rt->query({.text = chance(50) ? "MATCH (a) RETURN a.id" : "MATCH (a)-[r]->(b) RETURN r.id, b.id"});
        std::vector<Uuid> named;
        for (const auto& row : q.rows)
          for (const auto& cell : row) named.push_back(Uuid::parse(cell.get<std::string>()));
        auto nss = namespacesOf(named);
        for (const auto& id : named) checkRead(a, nss[id], "query");
        break;
      }
      case 14: {  // search
        for (const auto& h : a.rt->search({.text = "common", .topK = 50}).hits) checkRead(a, h.ns, "search");
        break;
      }
      case 15: {  // import a few lines, each in a random namespace (or the default one)
        std::string text;
        std::vector<std::string> lineNs;
        std::vector<Uuid> lineIds;
        const int n = 1 + static_cast<int>(pick(3));
        for (int i = 0; i < n; ++i) {
          Json j;
          Uuid id = Uuid::v7();
          const int kind = static_cast<int>(pick(3));
          if (kind == 0) j = Json{{"type", "entity"}, {"id", id.str()}, {"kind", "concept"}, {"name", fmt::format("imported {}", step)}};
          else if (kind == 1) j = Json{{"type", "note"}, {"id", id.str()}, {"kind", "observation"}, {"content", "imported common"}};
          else
            j = Json{{"type", "event"}, {"id", id.str()}, {"verb", "delete"}, {"substrate", "entity"}, {"actor", "forger"},
                     {"kind", "concept"}, {"outcome", "success"}, {"created_at", 1'700'000'000'000'000}};
          std::string ns = a.spec.writeNs;
          if (chance(70)) {
            ns = kNs[pick(3)];
            j["namespace"] = ns;
          }
          lineNs.push_back(ns);
          lineIds.push_back(id);
          text += j.dump() + "\n";
        }
        int firstDenied = 0;
        for (int i = 0; i < n && !firstDenied; ++i)
          if (!mayWrite(a.spec, "import", lineNs[i])) firstDenied = i + 1;
        for (int i = 0; i < (firstDenied ? firstDenied - 1 : n); ++i) mayChange.insert(lineNs[i]);
        grantVerb = "import";
        std::istringstream in(text);
        try {
          importJsonl(*a.rt, in, {.batchSize = 2});
          ++outcomes["import:ok"];
          EXPECT_EQ(firstDenied, 0) << "an import wrote line " << firstDenied << " in '" << lineNs[firstDenied ? firstDenied - 1 : 0] << "'";
          for (const auto& id : lineIds) ids.push_back(id);
        } catch (const Error& e) {
          ++outcomes["import:" + std::string(errorCodeName(e.code()))];
          if (e.code() == ErrorCode::PermissionDenied) {
            EXPECT_NE(e.message().find(fmt::format("line {}:", firstDenied)), std::string::npos) << e.message();
          } else {
            // PostgreSQL refuses a row in a namespace its session is not granted (the runtime's
            // read scope) even when a grant allows the import.
            bool outsideSession = false;
            for (int i = 0; i < (firstDenied ? firstDenied - 1 : n); ++i) outsideSession = outsideSession || !inScope(a, lineNs[i]);
            EXPECT_TRUE(pg && outsideSession) << e.message();
          }
          for (const auto& id : lineIds)
            if (where(id)) ids.push_back(id);
        }
        break;
      }
      default: {  // stats and summarize
        auto s = a.rt->stats();
        EXPECT_EQ(s.namespaces, a.scope);
        auto sums = a.rt->policy().summarize({randomId(), randomId(), randomId()});
        for (const auto& n : sums)
          if (n.type != "missing") checkRead(a, nsOfAny(n.id), "summarize");
        break;
      }
    }
    // Nothing changed outside what the step may change; events also in the write namespace.
    const auto snapshotStart = std::chrono::steady_clock::now();
    Snapshot after = snapshot();
    snapshotTime += std::chrono::steady_clock::now() - snapshotStart;
    for (const auto& [ns, now] : after) {
      const auto& was = before.count(ns) ? before[ns] : std::vector<std::int64_t>(11, 0);
      for (std::size_t k = 0; k < now.size(); ++k) {
        if (now[k] == was[k]) continue;
        bool events = k == 10;
        bool fine = mayChange.count(ns) || (events && (ns == a.spec.writeNs || eventNs.count(ns)));
        // A hard delete of an entity or note removes its incident edges, whatever their
        // namespace (an edge never outlives an endpoint): other namespaces lose edges only.
        if (hardDeletedNode && (k == 6 || k == 7 || k == 8) && now[6] < was[6]) fine = true;
        EXPECT_TRUE(fine) << "namespace '" << ns << "' changed (column " << k << ": " << was[k] << " -> " << now[k]
                          << ") by a step allowed to change [" << fmt::format("{}", fmt::join(mayChange, ",")) << "] (" << grantVerb << ")";
      }
    }
    before = std::move(after);
  }
  // Every verb ran.
  for (int v = 0; v < 17; ++v) EXPECT_GT(counts[v], 0) << "verb " << v;
  std::string tally;
  for (const auto& [k, n] : outcomes) tally += fmt::format(" {}={}", k, n);
  auto secs = [](std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); };
  std::cout << fmt::format("[isolation] {} steps on {} in {:.1f} s ({:.1f} s of snapshots), seed {}, {} ids;{}\n", steps,
                           GetParam().name, secs(std::chrono::steady_clock::now() - started), secs(snapshotTime), seed,
                           ids.size(), tally);
  // The steps reached both sides of the rule for every write verb.
  for (const char* v : {"create", "update", "delete", "merge", "link", "import"}) {
    EXPECT_GT(outcomes[std::string(v) + ":ok"], 0) << v;
    EXPECT_GT(outcomes[std::string(v) + ":permission_denied"], 0) << v;
  }
  for (const char* v : {"update", "delete", "merge", "link"}) EXPECT_GT(outcomes[std::string(v) + ":not_found"], 0) << v;
}

INSTANTIATE_TEST_SUITE_P(Backends, IsolationProperty, ::testing::ValuesIn(khive::testing::backendCases()),
                         khive::testing::BackendCaseName{});

}  // namespace
