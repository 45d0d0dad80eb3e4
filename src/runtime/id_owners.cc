#include "runtime/id_owners.h"

#include <fmt/format.h>

#include <string>

#include "khive/core/error.h"
#include "khive/core/json.h"
#include "khive/storage/sql_access.h"

namespace khive::runtime {

void findStoredIds(storage::Backend& backend, const std::array<std::vector<Uuid>, 4>& ids,
                   const std::function<void(const Uuid&, int)>& found) {
  const storage::SqlDialect& dialect = backend.dialect();
  std::string sql;
  storage::SqlParams params;
  for (int t = 0; t < 4; ++t) {
    if (ids[t].empty()) continue;
    // The ids of one table travel as one list parameter.
    std::vector<std::string> list;
    list.reserve(ids[t].size());
    for (const auto& id : ids[t]) list.push_back(id.str());
    params.emplace_back(dialect.listValue(list));
    if (!sql.empty()) sql += " UNION ALL ";
    const std::string ph = dialect.placeholder(static_cast<int>(params.size()), storage::ParamType::IdList);
    sql += fmt::format("SELECT {}, {} FROM {} WHERE {}", dialect.idAsText("id"), t, kIdTables[t],
                       dialect.inList("id", ph));
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

void checkNewId(storage::Backend& backend, const Uuid& id, int type) {
  std::array<std::vector<Uuid>, 4> ids{std::vector{id}, std::vector{id}, std::vector{id}, std::vector{id}};
  int held = -1;
  findStoredIds(backend, ids, [&](const Uuid&, int t) {
    if (held < 0 || t != type) held = t;
  });
  if (held < 0) return;
  if (held == type)
    throw Error(ErrorCode::AlreadyExists, "runtime", "create", fmt::format("a record with id {} exists", id.str()));
  throw idTakenError(id, kIdTypes[held], kIdTypes[type]);
}

}  // namespace khive::runtime
