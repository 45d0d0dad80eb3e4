#include <fmt/format.h>

#include "khive/storage/record_checks.h"
#include "backends/postgres/sql_build.h"
#include "backends/postgres/stores.h"

namespace khive::postgres {

namespace {
constexpr std::string_view kCap = "entities";
constexpr std::string_view kColumns =
    "id, namespace, kind, entity_type, name, description, properties, tags, created_at, updated_at, "
    "deleted_at, merged_into, merge_event_id";

// The WHERE on the update arm makes an id living in another namespace a no-op, which
// RETURNING reports as no row: the caller gets Conflict instead of a silent move.
constexpr std::string_view kUpsert =
    "INSERT INTO entities (id, namespace, kind, entity_type, name, description, properties, tags, created_at, "
    "updated_at, deleted_at, merged_into, merge_event_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, "
    "$12, $13) "
    "ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, entity_type = excluded.entity_type, "
    "name = excluded.name, description = excluded.description, properties = excluded.properties, "
    "tags = excluded.tags, updated_at = excluded.updated_at, deleted_at = excluded.deleted_at, "
    "merged_into = excluded.merged_into, merge_event_id = excluded.merge_event_id "
    "WHERE entities.namespace = excluded.namespace RETURNING created_at";
// The same for the rows of concurrent callers, keyed by id.
const MergedForm kUpsertMerged = MergedForm::of(
    kUpsert, {"uuid", "text", "text", "text", "text", "text", "jsonb", "jsonb", "int8", "int8", "int8", "uuid", "uuid"},
    {0});

void validate(const Entity& e, std::string_view op) {
  auto bad = [&](const std::string& why) { throw Error(ErrorCode::InvalidInput, std::string(kCap), std::string(op), why); };
  if (e.id.isNil()) bad("entity id is the nil UUID; generate one with Uuid::v7()");
  if (e.ns.empty()) bad("entity namespace is empty");
  if (e.kind.empty()) bad("entity kind is empty");
  if (e.name.empty()) bad("entity name is empty");
  if (!e.properties.is_object()) bad("entity properties must be a JSON object, got " + std::string(e.properties.type_name()));
  storage::checkRecordText(e, kCap, op);
}

Entity prepare(const Entity& in, Micros now, std::string_view op) {
  validate(in, op);
  Entity e = in;
  if (e.createdAt == 0) e.createdAt = now;
  if (e.updatedAt == 0) e.updatedAt = now;
  return e;
}

Params bind(const Entity& e) {
  Params p;
  p.uuid(e.id)
      .text(e.ns)
      .text(e.kind)
      .optText(e.entityType)
      .text(e.name)
      .optText(e.description)
      .json(e.properties)
      .json(Json(e.tags))
      .integer(e.createdAt)
      .integer(e.updatedAt)
      .optInteger(e.deletedAt)
      .optUuid(e.mergedInto)
      .optUuid(e.mergeEventId);
  return p;
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

Entity readEntity(const Result& r, int i) {
  Entity e;
  e.id = r.getUuid(i, 0);
  e.ns = r.str(i, 1);
  e.kind = r.str(i, 2);
  e.entityType = r.optStr(i, 3);
  e.name = r.str(i, 4);
  e.description = r.optStr(i, 5);
  e.properties = r.getJson(i, 6);
  e.tags = r.getJson(i, 7).get<std::vector<std::string>>();
  e.createdAt = r.getInt(i, 8);
  e.updatedAt = r.getInt(i, 9);
  e.deletedAt = r.optInt(i, 10);
  e.mergedInto = r.optUuid(i, 11);
  e.mergeEventId = r.optUuid(i, 12);
  return e;
}

void appendFilter(SqlBuilder& b, const storage::EntityFilter& f) {
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
}  // namespace

Entity PgEntityStore::upsertEntity(const Entity& entity) {
  const Micros now = db_.now();
  return upsertOne(db_, entity, now);
}

storage::BatchWriteSummary PgEntityStore::upsertEntities(std::span<const Entity> entities) {
  return pipelinedBatch<Entity>(
      db_, kCap, "upsert_batch", entities, kUpsert,
      [](const Entity& e, Micros now) { return bind(prepare(e, now, "upsert_batch")); },
      [](Conn& c, const Entity& e, Micros now) { upsertOne(c, e, now); },
      [](std::int64_t n) { return n == 1; });
}

std::optional<Entity> PgEntityStore::getById(const Uuid& id, bool includeDeleted) {
  const std::string sql = includeDeleted
                              ? fmt::format("SELECT {} FROM entities WHERE id = $1", kColumns)
                              : fmt::format("SELECT {} FROM entities WHERE id = $1 AND deleted_at IS NULL", kColumns);
  return readOne<Entity>(db_, kCap, "get", sql, Params().uuid(id), readEntity);
}

std::optional<Entity> PgEntityStore::getEntity(const Uuid& id) { return getById(id, false); }
std::optional<Entity> PgEntityStore::getEntityIncludingDeleted(const Uuid& id) { return getById(id, true); }

bool PgEntityStore::deleteEntity(const Uuid& id, storage::DeleteMode mode) {
  const Micros now = db_.now();
  // One statement each: the triggers (edge counters, incident edges, text, vectors) run in
  // its implicit transaction.
  return db_.run(kCap, "delete", [&](Conn& c) {
    if (mode == storage::DeleteMode::Soft) {
      return c.exec("UPDATE entities SET deleted_at = $1, updated_at = $1 WHERE id = $2 AND deleted_at IS NULL",
                    Params().integer(now).uuid(id), kCap, "delete")
                 .affected() > 0;
    }
    return c.exec("DELETE FROM entities WHERE id = $1", Params().uuid(id), kCap, "delete").affected() > 0;
  });
}

storage::Page<Entity> PgEntityStore::queryEntities(const storage::EntityFilter& filter,
                                                   const storage::PageRequest& page) {
  requireNamespaces(filter.namespaces, kCap, "query");
  checkPage(page, kCap, "query");
  SqlBuilder b;
  b.text("SELECT ").text(kColumns).text(" FROM entities");
  appendFilter(b, filter);
  b.text(" ORDER BY created_at, id LIMIT ").integer(page.limit + 1).text(" OFFSET ").integer(page.offset);
  return readPage<Entity>(db_, kCap, "query", b, page, readEntity);
}

std::int64_t PgEntityStore::countEntities(const storage::EntityFilter& filter) {
  requireNamespaces(filter.namespaces, kCap, "count");
  SqlBuilder b;
  b.text("SELECT count(*) FROM entities");
  appendFilter(b, filter);
  return readCount(db_, kCap, "count", b);
}

}  // namespace khive::postgres
