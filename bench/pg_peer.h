// The hand-written libpq peer of graph_bench's PostgreSQL column: the same questions khive's
// PostgreSQL backend answers, on khive's own schema and rows, written the way a careful
// engineer would with plain libpq and nothing of khive's code.
//
// It logs in as the application role (khive_app) with row-level security in force, and sets
// the signed scope the policies verify exactly as the backend does (khive.scope = the HMAC of
// this session's binding and the granted namespaces, computed here over the schema owner's
// connection, which alone may read the key). Every question is one prepared statement, one
// round trip: get, out-neighbors, the 3-hop walk (one recursive CTE) and each level of the
// bidirectional shortest-path search. Like khive's Out direction, the neighbors and walks
// also follow the symmetric relations' edges backward.
//
// Not thread-safe: one connection, one caller.
#pragma once

#include <fmt/format.h>
#include <libpq-fe.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "khive/core/records.h"
#include "pg_admin.h"

namespace khive::bench {

class PgPeer {
 public:
  // `url`: the superuser's (reads the scope key); the peer's own session logs in as `appRole`.
  PgPeer(const std::string& url, const std::string& schema, const std::string& appRole = "khive_app") {
    const char* keys[] = {"dbname", "user", nullptr};
    const char* values[] = {url.c_str(), appRole.c_str(), nullptr};
    conn_.reset(PQconnectdbParams(keys, values, 1));
    if (PQstatus(conn_.get()) != CONNECTION_OK) throw std::runtime_error(PQerrorMessage(conn_.get()));
    // A server that logs everyone in as its superuser (PGlite) needs the role switched, or
    // row-level security would not apply.
    const std::string binding = one(fmt::format(
        "SELECT CASE WHEN (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN "
        "set_config('role', '{0}', false) END, set_config('search_path', '\"{1}\", public', false), "
        "\"{1}\".khive_session_binding()",
        appRole, schema), 2);
    const std::string grant = "{\"bench\"}";
    const std::string token = pgAdmin(
        url, fmt::format("SELECT encode(sha256(opad || sha256(ipad || convert_to('{0}:{1}', 'UTF8'))), 'hex') || "
                         "':{1}' FROM \"{2}\".khive_scope_key WHERE id = 1",
                         binding, grant, schema));
    exec("SELECT set_config('khive.scope', $1, false)", {token});
    std::string symmetric;
    for (auto r : vocab::defaultSymmetricRelations()) symmetric += fmt::format("{}'{}'", symmetric.empty() ? "" : ", ", r);
    const std::string live = "namespace = 'bench' AND deleted_at IS NULL AND endpoint_deleted = 0";
    prepare("get",
            "SELECT id, namespace, kind, entity_type, name, description, properties, tags, created_at, updated_at, "
            "deleted_at, merged_into, merge_event_id FROM entities WHERE id = $1 AND deleted_at IS NULL");
    prepare("neighbors", fmt::format("SELECT target_id AS node, id, relation, weight FROM edges WHERE source_id = $1 "
                                     "AND {0} UNION ALL SELECT source_id, id, relation, weight FROM edges WHERE "
                                     "target_id = $1 AND relation IN ({1}) AND source_id <> target_id AND {0} "
                                     "ORDER BY weight DESC LIMIT 100",
                                     live, symmetric));
    // (node, depth) pairs deduplicated by UNION; each node's least depth.
    prepare("walk", fmt::format("WITH RECURSIVE walk(node, depth) AS (SELECT $1::uuid, 0 UNION "
                                "SELECT n.node, w.depth + 1 FROM walk AS w CROSS JOIN LATERAL ("
                                "SELECT target_id AS node FROM edges WHERE source_id = w.node AND {0} UNION ALL "
                                "SELECT source_id FROM edges WHERE target_id = w.node AND relation IN ({1}) AND {0}) "
                                "AS n WHERE w.depth < 3) SELECT node, min(depth) FROM walk GROUP BY node",
                                live, symmetric));
    // One level of the path search, each way: `from` is the column the frontier matches.
    auto level = [&](const char* name, const char* from, const char* to) {
      prepare(name, fmt::format("SELECT f.node, e.{1}, e.id FROM unnest($1::uuid[]) AS f(node) JOIN edges AS e ON "
                                "e.{0} = f.node WHERE e.{2} UNION ALL SELECT f.node, e.{0}, e.id FROM "
                                "unnest($1::uuid[]) AS f(node) JOIN edges AS e ON e.{1} = f.node WHERE e.relation "
                                "IN ({3}) AND e.{2}",
                                from, to, live, symmetric));
    };
    level("forward", "source_id", "target_id");
    level("backward", "target_id", "source_id");
  }

  int get(const std::string& id) { return rows("get", {id}); }
  int neighbors(const std::string& id) { return rows("neighbors", {id}); }
  int walk(const std::string& id) { return rows("walk", {id}); }

  // The fewest-hops path from `from` to `to` within `maxDepth` hops (its node count, 0 for
  // none): a bidirectional breadth-first search, always growing the smaller frontier.
  std::size_t shortestPath(const std::string& from, const std::string& to, int maxDepth) {
    if (rows("get", {from}) == 0 || rows("get", {to}) == 0) return 0;
    if (from == to) return 1;
    struct Side {
      const char* statement;
      std::unordered_map<std::string, std::string> parent;  // node -> previous node
      std::vector<std::string> frontier;
      int level = 0;
    };
    Side fwd{"forward", {{from, ""}}, {from}};
    Side bwd{"backward", {{to, ""}}, {to}};
    while (!fwd.frontier.empty() && !bwd.frontier.empty() && fwd.level + bwd.level < maxDepth) {
      Side& side = fwd.frontier.size() <= bwd.frontier.size() ? fwd : bwd;
      Side& other = &side == &fwd ? bwd : fwd;
      std::string array = "{";
      for (const auto& n : side.frontier) array += (array.size() > 1 ? "," : "") + n;
      array += "}";
      Result r = execPrepared(side.statement, {array});
      ++side.level;
      side.frontier.clear();
      std::string meet;
      for (int i = 0; i < PQntuples(r.get()); ++i) {
        std::string next = PQgetvalue(r.get(), i, 1);
        if (!side.parent.emplace(next, PQgetvalue(r.get(), i, 0)).second) continue;
        side.frontier.push_back(next);
        if (meet.empty() && other.parent.contains(next)) meet = next;
      }
      if (meet.empty()) continue;
      std::size_t length = 1;
      for (std::string n = meet; !fwd.parent.at(n).empty(); n = fwd.parent.at(n)) ++length;
      for (std::string n = meet; !bwd.parent.at(n).empty(); n = bwd.parent.at(n)) ++length;
      return length;
    }
    return 0;
  }

 private:
  using Result = std::unique_ptr<PGresult, decltype(&PQclear)>;

  Result check(PGresult* raw) {
    Result r(raw, &PQclear);
    const auto st = PQresultStatus(r.get());
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) throw std::runtime_error(PQerrorMessage(conn_.get()));
    return r;
  }
  static std::vector<const char*> pointers(const std::vector<std::string>& params) {
    std::vector<const char*> p;
    for (const auto& s : params) p.push_back(s.c_str());
    return p;
  }
  Result exec(const std::string& sql, const std::vector<std::string>& params) {
    auto p = pointers(params);
    return check(PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(p.size()), nullptr, p.data(), nullptr,
                              nullptr, 0));
  }
  std::string one(const std::string& sql, int col) { return PQgetvalue(exec(sql, {}).get(), 0, col); }
  void prepare(const char* name, const std::string& sql) {
    check(PQprepare(conn_.get(), name, sql.c_str(), 0, nullptr));
  }
  Result execPrepared(const char* name, const std::vector<std::string>& params) {
    auto p = pointers(params);
    return check(PQexecPrepared(conn_.get(), name, static_cast<int>(p.size()), p.data(), nullptr, nullptr, 0));
  }
  // Runs a prepared statement and reads every value, as a caller would.
  int rows(const char* name, const std::vector<std::string>& params) {
    Result r = execPrepared(name, params);
    const int n = PQntuples(r.get());
    for (int i = 0; i < n; ++i)
      for (int c = 0; c < PQnfields(r.get()); ++c) PQgetvalue(r.get(), i, c);
    return n;
  }

  std::unique_ptr<PGconn, decltype(&PQfinish)> conn_{nullptr, &PQfinish};
};

}  // namespace khive::bench
