#include "runtime/id_owners.h"

#include <fmt/format.h>

#include <string>

#include "khive/core/error.h"
#include "khive/core/json.h"
#include "khive/storage/sql_access.h"

namespace khive::runtime {

void findStoredIds(storage::Backend& backend, bool postgres, const std::array<std::vector<Uuid>, 4>& ids,
                   const std::function<void(const Uuid&, int)>& found) {
  std::string sql;
  storage::SqlParams params;
  for (int t = 0; t < 4; ++t) {
    if (ids[t].empty()) continue;
    // The ids travel as one parameter: a JSON array (SQLite's json_each) or a uuid[] literal.
    std::string list;
    for (const auto& id : ids[t]) {
      if (!list.empty()) list += ',';
      list += postgres ? id.str() : '"' + id.str() + '"';
    }
    params.emplace_back(postgres ? '{' + list + '}' : '[' + list + ']');
    if (!sql.empty()) sql += " UNION ALL ";
    const auto n = params.size();
    sql += postgres ? fmt::format("SELECT id::text, {} FROM {} WHERE id = ANY (${}::text::uuid[])", t, kIdTables[t], n)
                    : fmt::format("SELECT id, {} FROM {} WHERE id IN (SELECT value FROM json_each(?{}))", t,
                                  kIdTables[t], n);
  }
  if (sql.empty()) return;
  auto reader = backend.sql().reader();
  for (const auto& row : reader->query(sql, params).rows)
    found(Uuid::parse(storage::asText(row[0])), static_cast<int>(storage::asInt(row[1])));
}

Error idTakenError(const Uuid& id, std::string_view held, std::string_view wanted) {
  auto a = [](std::string_view type) { return fmt::format("{} {}", type == "note" ? "a" : "an", type); };
  return Error(ErrorCode::Conflict, "runtime", "id",
               fmt::format("id {} is already used by {}, so {} cannot have it (ids are unique across entities, "
                           "notes, edges and events)",
                           id.str(), a(held), a(wanted)));
}

void checkNewId(storage::Backend& backend, bool postgres, const Uuid& id, int type) {
  std::array<std::vector<Uuid>, 4> ids{std::vector{id}, std::vector{id}, std::vector{id}, std::vector{id}};
  int held = -1;
  findStoredIds(backend, postgres, ids, [&](const Uuid&, int t) {
    if (held < 0 || t != type) held = t;
  });
  if (held < 0) return;
  if (held == type)
    throw Error(ErrorCode::AlreadyExists, "runtime", "create", fmt::format("a record with id {} exists", id.str()));
  throw idTakenError(id, kIdTypes[held], kIdTypes[type]);
}

}  // namespace khive::runtime
