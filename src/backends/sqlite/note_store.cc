#include <fmt/format.h>

#include "khive/storage/write_checks.h"
#include "khive/storage/record_codec.h"
#include "backends/sqlite/sql_build.h"
#include "backends/sqlite/stores.h"

namespace khive::sqlite {

namespace {
constexpr std::string_view kCap = "notes";
}  // namespace

void SqliteRecords::where(SqlBuilder& b, const storage::NoteFilter& f, std::string_view op) {
  // With ids the primary key is the way in; the unary '+' keeps the planner off the namespace
  // index, which it otherwise prefers (a namespace scan instead of a few key probes).
  b.text(f.ids.empty() ? " WHERE namespace IN " : " WHERE +namespace IN ").inList(f.namespaces);
  if (!f.includeDeleted) b.text(" AND deleted_at IS NULL");
  if (!f.ids.empty()) b.text(" AND id IN ").inList(f.ids);
  if (!f.kinds.empty()) b.text(" AND kind IN ").inList(f.kinds);
  if (f.status) b.text(" AND status = ").param(std::string(noteStatusName(*f.status)));
  appendPropertyPredicates(b, "properties", f.properties, kCap, op);
}

void SqliteRecords::order(SqlBuilder& b, const storage::NoteOrder& order) {
  const auto key = storage::noteSortKey(order);
  const std::string_view dir = key.direction;
  if (key.column.empty()) {
    std::string path = jsonPath(key.property, kCap, "query");
    // Missing properties sort last in either direction.
    b.text(" ORDER BY (json_type(properties, ").param(path).text(") IS NULL), json_extract(properties, ");
    b.param(path).text(")").text(dir).text(", id").text(dir);
    return;
  }
  b.text(" ORDER BY (").text(key.column).text(" IS NULL), ").text(key.column).text(dir).text(", id").text(dir);
}

Note SqliteNoteStore::upsertOne(Conn& conn, const Note& in, Micros now) {
  storage::checkNote(in, "upsert");
  Note n = in;
  const std::string id = n.id.str();
  const StoredState before = readStoredState(conn, "notes", id, kCap);
  if (before.exists && before.ns != n.ns) {
    throw Error(ErrorCode::Conflict, std::string(kCap), "upsert",
                fmt::format("note {} already exists in another namespace; an upsert cannot move a record between "
                            "namespaces",
                            id));
  }
  n.createdAt = before.exists ? before.createdAt : (n.createdAt ? n.createdAt : now);
  if (n.updatedAt == 0) n.updatedAt = now;
  // A plain INSERT or UPDATE chosen by the probe (see entity_store.cc for why not an upsert).
  auto stmt = conn.prepare(
      before.exists
          ? "UPDATE notes SET namespace = ?2, kind = ?3, status = ?4, name = ?5, content = ?6, salience = ?7, "
            "decay_factor = ?8, expires_at = ?9, properties = ?10, created_at = ?11, updated_at = ?12, "
            "deleted_at = ?13 WHERE id = ?1 AND namespace = ?2"
          : "INSERT INTO notes (id, namespace, kind, status, name, content, salience, decay_factor, expires_at, "
            "properties, created_at, updated_at, deleted_at) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
      kCap, "upsert");
  StmtBinder values(stmt);
  storage::encode(n, values);
  stmt.run();
  if (before.deleted != n.deletedAt.has_value()) refreshEndpointState(conn, id, kCap, "upsert");
  return n;
}

Note SqliteNoteStore::upsertNote(const Note& note) {
  return writeOne(db_, kCap, "upsert", [&](Conn& c, Micros now) { return upsertOne(c, note, now); });
}

storage::BatchWriteSummary SqliteNoteStore::upsertNotes(std::span<const Note> notes) {
  return writeBatchInOrder(db_, kCap, "upsert_batch", notes, [](const Note& n) -> const Uuid& { return n.id; },
                           [this](Conn& c, const Note& n, Micros now) { upsertOne(c, n, now); });
}

}  // namespace khive::sqlite
