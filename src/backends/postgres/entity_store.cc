#include <fmt/format.h>

#include "khive/storage/write_checks.h"
#include "khive/storage/record_codec.h"
#include "backends/postgres/sql_build.h"
#include "backends/postgres/stores.h"

namespace khive::postgres {

namespace {
constexpr std::string_view kCap = "entities";

const std::string kUpsert = upsertByIdSql("entities", storage::kEntityColumns);
// The same for the rows of concurrent callers, keyed by id.
const MergedForm kUpsertMerged = MergedForm::of(
    kUpsert, {"uuid", "text", "text", "text", "text", "text", "jsonb", "jsonb", "int8", "int8", "int8", "uuid", "uuid"},
    {0});

Entity prepare(const Entity& in, Micros now, std::string_view op) {
  storage::checkEntity(in, op);
  return storage::stampedAt(in, now);
}

Error conflict(const Uuid& id) {
  return Error(ErrorCode::Conflict, std::string(kCap), "upsert",
               fmt::format("entity {} already exists in another namespace; ids are global and an upsert "
                           "cannot move a record between namespaces",
                           id.str()));
}

Entity upsertOne(StatementTarget c, const Entity& in, Micros now) {
  Entity e = prepare(in, now, "upsert");
  auto r = c.exec(kUpsert, bind(e), kCap, "upsert", &kUpsertMerged);
  if (r.rows() == 0) throw conflict(e.id);
  e.createdAt = r.getInt(0, 0);
  return e;
}

}  // namespace

void PgRecords::where(SqlBuilder& b, const storage::EntityFilter& f) {
  b.text(" WHERE namespace = ANY (").texts(f.namespaces).text(")");
  if (!f.includeDeleted) b.text(" AND deleted_at IS NULL");
  if (!f.ids.empty()) b.text(" AND id = ANY (").uuids(f.ids).text(")");
  if (!f.kinds.empty()) b.text(" AND kind = ANY (").texts(f.kinds).text(")");
  if (!f.entityTypes.empty()) b.text(" AND entity_type = ANY (").texts(f.entityTypes).text(")");
  // ASCII case-insensitive prefix (as SQLite's LIKE): name_folded folds ASCII letters only.
  if (f.namePrefix) {
    b.text(" AND name_folded LIKE lower(").str(escapeLike(*f.namePrefix) + "%").text(" COLLATE \"C\") ESCAPE '\\'");
  }
  if (!f.tagsAny.empty()) b.text(" AND tags ?| ").texts(f.tagsAny);
}

bool PgRecords::deleteNode(Database& db, std::string_view table, std::string_view capability, const Uuid& id,
                           storage::DeleteMode mode) {
  const Micros now = db.now();
  return db.run(capability, "delete", [&](Conn& c) {
    if (mode == storage::DeleteMode::Soft) {
      return c.exec(fmt::format("UPDATE {} SET deleted_at = $1, updated_at = $1 WHERE id = $2 AND deleted_at IS NULL",
                                table),
                    Params().integer(now).uuid(id), capability, "delete")
                 .affected() > 0;
    }
    return c.exec(fmt::format("DELETE FROM {} WHERE id = $1", table), Params().uuid(id), capability, "delete")
               .affected() > 0;
  });
}

Entity PgEntityStore::upsertEntity(const Entity& entity) { return upsertOne(db_, entity, db_.now()); }

storage::BatchWriteSummary PgEntityStore::upsertEntities(std::span<const Entity> entities) {
  return recordBatch(db_, kCap, "upsert_batch", entities, kUpsert, prepare, upsertOne);
}

}  // namespace khive::postgres
