#include <fmt/format.h>

#include "khive/storage/write_checks.h"
#include "khive/storage/record_codec.h"
#include "backends/postgres/sql_build.h"
#include "backends/postgres/stores.h"

namespace khive::postgres {

namespace {
constexpr std::string_view kCap = "notes";

const std::string kUpsert = upsertByIdSql("notes", storage::kNoteColumns);
// The same for the rows of concurrent callers, keyed by id.
const MergedForm kUpsertMerged = MergedForm::of(
    kUpsert,
    {"uuid", "text", "text", "text", "text", "text", "float8", "float8", "int8", "jsonb", "int8", "int8", "int8"}, {0});

Note prepare(const Note& in, Micros now, std::string_view op) {
  storage::checkNote(in, op);
  return storage::stampedAt(in, now);
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

}  // namespace

void PgRecords::where(SqlBuilder& b, const storage::NoteFilter& f, std::string_view op) {
  b.text(" WHERE namespace = ANY (").texts(f.namespaces).text(")");
  if (!f.includeDeleted) b.text(" AND deleted_at IS NULL");
  if (!f.ids.empty()) b.text(" AND id = ANY (").uuids(f.ids).text(")");
  if (!f.kinds.empty()) b.text(" AND kind = ANY (").texts(f.kinds).text(")");
  if (f.status) b.text(" AND status = ").str(noteStatusName(*f.status));
  appendPropertyPredicates(b, "properties", f.properties, kCap, op);
}

// Orders like SQLite's json_extract ordering: missing last, then numbers (booleans count as
// 0/1 there) before strings, numbers numerically and strings bytewise, then id.
void PgRecords::order(SqlBuilder& b, const storage::NoteOrder& order) {
  const auto key = storage::noteSortKey(order);
  const std::string_view dir = key.direction;
  if (key.column.empty()) {
    const auto path = jsonPath(key.property, kCap, "query");
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
  const std::string col = key.column == "name" ? "name COLLATE \"C\"" : key.column;
  b.text(" ORDER BY (").text(key.column).text(" IS NULL), ").text(col).text(dir).text(", id").text(dir);
}

Note PgNoteStore::upsertNote(const Note& note) { return upsertOne(db_, note, db_.now()); }

storage::BatchWriteSummary PgNoteStore::upsertNotes(std::span<const Note> notes) {
  return recordBatch(db_, kCap, "upsert_batch", notes, kUpsert, prepare, upsertOne);
}

}  // namespace khive::postgres
