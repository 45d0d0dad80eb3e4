#include <fmt/format.h>

#include "khive/storage/write_checks.h"
#include "khive/storage/record_codec.h"
#include "backends/sqlite/sql_build.h"
#include "backends/sqlite/stores.h"

namespace khive::sqlite {

namespace {
constexpr std::string_view kCap = "entities";

}  // namespace

void SqliteRecords::where(SqlBuilder& b, const storage::EntityFilter& f) {
  // With ids the primary key is the way in; the unary '+' keeps the planner off the namespace
  // index, which it otherwise prefers (a namespace scan instead of a few key probes).
  b.text(f.ids.empty() ? " WHERE namespace IN " : " WHERE +namespace IN ").inList(f.namespaces);
  if (!f.includeDeleted) b.text(" AND deleted_at IS NULL");
  if (!f.ids.empty()) b.text(" AND id IN ").inList(f.ids);
  if (!f.kinds.empty()) b.text(" AND kind IN ").inList(f.kinds);
  if (!f.entityTypes.empty()) b.text(" AND entity_type IN ").inList(f.entityTypes);
  if (f.namePrefix) b.text(" AND name LIKE ").param(escapeLike(*f.namePrefix) + "%").text(" ESCAPE '\\'");
  if (!f.tagsAny.empty()) {
    b.text(" AND EXISTS (SELECT 1 FROM json_each(entities.tags) WHERE json_each.value IN ").inList(f.tagsAny).text(")");
  }
}

Micros SqliteEntityStore::upsertOne(Conn& conn, const Entity& e, Micros now) {
  storage::checkEntity(e, "upsert");
  const std::string id = e.id.str();
  // A new entity -- the common case in bulk loads -- is one INSERT OR IGNORE. Only when it
  // inserts nothing does the stored row decide: another namespace is a Conflict, the same one
  // a plain UPDATE (INSERT ... ON CONFLICT DO UPDATE would run through a statement journal,
  // about 40 % more work per row). OR IGNORE also skips a row that breaks a CHECK or NOT NULL
  // constraint; with no stored row the plain INSERT runs again to report what was wrong. The
  // statements bind the same 13 values in the same order.
  const std::string properties = e.properties.dump(), tags = Json(e.tags).dump();
  auto write = [&](std::string_view sql, Micros createdAt) {
    auto stmt = conn.prepare(sql, kCap, "upsert");
    stmt.bindText(1, id)
        .bindText(2, e.ns)
        .bindText(3, e.kind)
        .bindOptText(4, e.entityType)
        .bindText(5, e.name)
        .bindOptText(6, e.description)
        .bindText(7, properties)
        .bindText(8, tags)
        .bindInt(9, createdAt)
        .bindInt(10, e.updatedAt ? e.updatedAt : now)
        .bindOptInt(11, e.deletedAt)
        .bindOptText(12, e.mergedInto ? std::optional(e.mergedInto->str()) : std::nullopt)
        .bindOptText(13, e.mergeEventId ? std::optional(e.mergeEventId->str()) : std::nullopt);
    return stmt.run();
  };
  static constexpr std::string_view kColumnsValues =
      " INTO entities (id, namespace, kind, entity_type, name, description, properties, tags, created_at, "
      "updated_at, deleted_at, merged_into, merge_event_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
      "?12, ?13)";
  static const std::string kInsertOrIgnore = "INSERT OR IGNORE" + std::string(kColumnsValues);
  static const std::string kInsert = "INSERT" + std::string(kColumnsValues);
  const Micros fresh = e.createdAt ? e.createdAt : now;
  if (write(kInsertOrIgnore, fresh) == 1) {
    if (e.deletedAt) refreshEndpointState(conn, id, kCap, "upsert");
    return fresh;
  }
  const StoredState before = readStoredState(conn, "entities", id, kCap);
  if (!before.exists) {
    write(kInsert, fresh);  // throws the constraint error OR IGNORE skipped
    if (e.deletedAt) refreshEndpointState(conn, id, kCap, "upsert");
    return fresh;
  }
  if (before.ns != e.ns) {
    throw Error(ErrorCode::Conflict, std::string(kCap), "upsert",
                fmt::format("entity {} already exists in another namespace; ids are global and an upsert cannot "
                            "move a record between namespaces",
                            id));
  }
  write("UPDATE entities SET namespace = ?2, kind = ?3, entity_type = ?4, name = ?5, description = ?6, "
        "properties = ?7, tags = ?8, created_at = ?9, updated_at = ?10, deleted_at = ?11, merged_into = ?12, "
        "merge_event_id = ?13 WHERE id = ?1 AND namespace = ?2",
        before.createdAt);
  if (before.deleted != e.deletedAt.has_value()) refreshEndpointState(conn, id, kCap, "upsert");
  return before.createdAt;
}

Entity SqliteEntityStore::upsertEntity(const Entity& entity) {
  return writeOne(db_, kCap, "upsert", [&](Conn& c, Micros now) {
    Entity out = storage::stampedAt(entity, now);
    out.createdAt = upsertOne(c, entity, now);
    return out;
  });
}

storage::BatchWriteSummary SqliteEntityStore::upsertEntities(std::span<const Entity> entities) {
  return writeBatchInOrder(db_, kCap, "upsert_batch", entities, [](const Entity& e) -> const Uuid& { return e.id; },
                           [this](Conn& c, const Entity& e, Micros now) { upsertOne(c, e, now); });
}

}  // namespace khive::sqlite
