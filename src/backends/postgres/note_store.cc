#include <fmt/format.h>

#include <cmath>

#include "khive/storage/record_checks.h"
#include "backends/postgres/sql_build.h"
#include "backends/postgres/stores.h"

namespace khive::postgres {

namespace {
constexpr std::string_view kCap = "notes";
constexpr std::string_view kColumns =
    "id, namespace, kind, status, name, content, salience, decay_factor, expires_at, properties, created_at, "
    "updated_at, deleted_at";

constexpr std::string_view kUpsert =
    "INSERT INTO notes (id, namespace, kind, status, name, content, salience, decay_factor, expires_at, "
    "properties, created_at, updated_at, deleted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) "
    "ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, status = excluded.status, name = excluded.name, "
    "content = excluded.content, salience = excluded.salience, decay_factor = excluded.decay_factor, "
    "expires_at = excluded.expires_at, properties = excluded.properties, updated_at = excluded.updated_at, "
    "deleted_at = excluded.deleted_at WHERE notes.namespace = excluded.namespace RETURNING created_at";
// The same for the rows of concurrent callers, keyed by id.
const MergedForm kUpsertMerged = MergedForm::of(
    kUpsert,
    {"uuid", "text", "text", "text", "text", "text", "float8", "float8", "int8", "jsonb", "int8", "int8", "int8"}, {0});

void validate(const Note& n, std::string_view op) {
  auto bad = [&](const std::string& why) { throw Error(ErrorCode::InvalidInput, std::string(kCap), std::string(op), why); };
  if (n.id.isNil()) bad("note id is the nil UUID; generate one with Uuid::v7()");
  if (n.ns.empty()) bad("note namespace is empty");
  if (n.kind.empty()) bad("note kind is empty");
  if (n.content.empty()) bad("note content is empty");
  if (n.salience && !(std::isfinite(*n.salience) && *n.salience >= 0 && *n.salience <= 1))
    bad(fmt::format("note salience must be within [0, 1], got {}", *n.salience));
  if (n.decayFactor && !(std::isfinite(*n.decayFactor) && *n.decayFactor >= 0))
    bad(fmt::format("note decay_factor must be >= 0, got {}", *n.decayFactor));
  if (!n.properties.is_object()) bad("note properties must be a JSON object");
  storage::checkRecordText(n, kCap, op);
}

Note prepare(const Note& in, Micros now, std::string_view op) {
  validate(in, op);
  Note n = in;
  if (n.createdAt == 0) n.createdAt = now;
  if (n.updatedAt == 0) n.updatedAt = now;
  return n;
}

Params bind(const Note& n) {
  Params p;
  p.uuid(n.id)
      .text(n.ns)
      .text(n.kind)
      .text(noteStatusName(n.status))
      .optText(n.name)
      .text(n.content)
      .optReal(n.salience)
      .optReal(n.decayFactor)
      .optInteger(n.expiresAt)
      .json(n.properties)
      .integer(n.createdAt)
      .integer(n.updatedAt)
      .optInteger(n.deletedAt);
  return p;
}

Note upsertOne(StatementTarget c, const Note& in, Micros now) {
  Note n = prepare(in, now, "upsert");
  auto r = c.exec(kUpsert, bind(n), kCap, "upsert", &kUpsertMerged);
  if (r.rows() == 0) {
    throw Error(ErrorCode::Conflict, std::string(kCap), "upsert",
                fmt::format("note {} already exists in another namespace; an upsert cannot move a record "
                            "between namespaces",
                            n.id.str()));
  }
  n.createdAt = r.getInt(0, 0);
  return n;
}

Note readNote(const Result& r, int i) {
  Note n;
  n.id = r.getUuid(i, 0);
  n.ns = r.str(i, 1);
  n.kind = r.str(i, 2);
  n.status = parseNoteStatus(r.view(i, 3));
  n.name = r.optStr(i, 4);
  n.content = r.str(i, 5);
  n.salience = r.optDouble(i, 6);
  n.decayFactor = r.optDouble(i, 7);
  n.expiresAt = r.optInt(i, 8);
  n.properties = r.getJson(i, 9);
  n.createdAt = r.getInt(i, 10);
  n.updatedAt = r.getInt(i, 11);
  n.deletedAt = r.optInt(i, 12);
  return n;
}

void appendFilter(SqlBuilder& b, const storage::NoteFilter& f, std::string_view op) {
  b.text(" WHERE namespace = ANY (").texts(f.namespaces).text(")");
  if (!f.includeDeleted) b.text(" AND deleted_at IS NULL");
  if (!f.ids.empty()) b.text(" AND id = ANY (").uuids(f.ids).text(")");
  if (!f.kinds.empty()) b.text(" AND kind = ANY (").texts(f.kinds).text(")");
  if (f.status) b.text(" AND status = ").str(noteStatusName(*f.status));
  for (const auto& p : f.properties) {
    b.text(" AND ");
    appendPropertyPredicate(b, "properties", p, kCap, op);
  }
}

// Orders like SQLite's json_extract ordering: missing last, then numbers (booleans count as
// 0/1 there) before strings, numbers numerically and strings bytewise, then id.
void appendOrder(SqlBuilder& b, const storage::NoteOrder& order) {
  const char* dir = order.order == storage::SortOrder::Asc ? " ASC" : " DESC";
  static constexpr std::string_view kPrefix = "properties.";
  if (order.key.starts_with(kPrefix)) {
    const auto path = jsonPath(order.key.substr(kPrefix.size()), kCap, "query");
    b.text(" ORDER BY ((properties #> ").texts(path).text(") IS NULL)");
    const std::string at = "(properties #> $" + std::to_string(b.params.size()) + "::text[])";
    const std::string atText = "(properties #>> $" + std::to_string(b.params.size()) + "::text[])";
    b.text(", (CASE jsonb_typeof(" + at + ") WHEN 'number' THEN 0 WHEN 'boolean' THEN 0 WHEN 'string' THEN 1 ELSE 2 END)")
        .text(dir);
    b.text(", (CASE jsonb_typeof(" + at + ") WHEN 'number' THEN " + atText + "::numeric WHEN 'boolean' THEN (CASE " +
           atText + " WHEN 'true' THEN 1 ELSE 0 END) END)")
        .text(dir);
    b.text(", (CASE WHEN jsonb_typeof(" + at + ") <> 'number' THEN " + atText + " END) COLLATE \"C\"").text(dir);
    b.text(", id").text(dir);
    return;
  }
  if (order.key != "created_at" && order.key != "updated_at" && order.key != "salience" && order.key != "name") {
    throw Error(ErrorCode::InvalidInput, std::string(kCap), "query",
                fmt::format("notes order by created_at, updated_at, salience, name or properties.<path>, not '{}'",
                            order.key));
  }
  const std::string col = order.key == "name" ? "name COLLATE \"C\"" : order.key;
  b.text(" ORDER BY (").text(order.key).text(" IS NULL), ").text(col).text(dir).text(", id").text(dir);
}
}  // namespace

Note PgNoteStore::upsertNote(const Note& note) {
  const Micros now = db_.now();
  return upsertOne(db_, note, now);
}

storage::BatchWriteSummary PgNoteStore::upsertNotes(std::span<const Note> notes) {
  return pipelinedBatch<Note>(
      db_, kCap, "upsert_batch", notes, kUpsert,
      [](const Note& n, Micros now) { return bind(prepare(n, now, "upsert_batch")); },
      [](Conn& c, const Note& n, Micros now) { upsertOne(c, n, now); }, [](std::int64_t n) { return n == 1; });
}

std::optional<Note> PgNoteStore::getById(const Uuid& id, bool includeDeleted) {
  const std::string sql = includeDeleted
                              ? fmt::format("SELECT {} FROM notes WHERE id = $1", kColumns)
                              : fmt::format("SELECT {} FROM notes WHERE id = $1 AND deleted_at IS NULL", kColumns);
  return readOne<Note>(db_, kCap, "get", sql, Params().uuid(id), readNote);
}

std::optional<Note> PgNoteStore::getNote(const Uuid& id) { return getById(id, false); }
std::optional<Note> PgNoteStore::getNoteIncludingDeleted(const Uuid& id) { return getById(id, true); }

bool PgNoteStore::deleteNote(const Uuid& id, storage::DeleteMode mode) {
  const Micros now = db_.now();
  return db_.run(kCap, "delete", [&](Conn& c) {
    if (mode == storage::DeleteMode::Soft) {
      return c.exec("UPDATE notes SET deleted_at = $1, updated_at = $1 WHERE id = $2 AND deleted_at IS NULL",
                    Params().integer(now).uuid(id), kCap, "delete")
                 .affected() > 0;
    }
    return c.exec("DELETE FROM notes WHERE id = $1", Params().uuid(id), kCap, "delete").affected() > 0;
  });
}

storage::Page<Note> PgNoteStore::queryNotes(const storage::NoteFilter& filter, const storage::PageRequest& page,
                                            const storage::NoteOrder& order) {
  requireNamespaces(filter.namespaces, kCap, "query");
  checkPage(page, kCap, "query");
  SqlBuilder b;
  b.text("SELECT ").text(kColumns).text(" FROM notes");
  appendFilter(b, filter, "query");
  appendOrder(b, order);
  b.text(" LIMIT ").integer(page.limit + 1).text(" OFFSET ").integer(page.offset);
  return readPage<Note>(db_, kCap, "query", b, page, readNote);
}

std::int64_t PgNoteStore::countNotes(const storage::NoteFilter& filter) {
  requireNamespaces(filter.namespaces, kCap, "count");
  SqlBuilder b;
  b.text("SELECT count(*) FROM notes");
  appendFilter(b, filter, "count");
  return readCount(db_, kCap, "count", b);
}

}  // namespace khive::postgres
