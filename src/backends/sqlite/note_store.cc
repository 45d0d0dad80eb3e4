#include <fmt/format.h>

#include <cmath>

#include "khive/storage/record_checks.h"
#include "backends/sqlite/sql_build.h"
#include "backends/sqlite/stores.h"

namespace khive::sqlite {

namespace {
constexpr std::string_view kCap = "notes";
constexpr std::string_view kColumns =
    "id, namespace, kind, status, name, content, salience, decay_factor, expires_at, properties, created_at, "
    "updated_at, deleted_at";

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

Note readNote(const Stmt& s) {
  Note n;
  n.id = Uuid::parse(s.getTextView(0));
  n.ns = s.getText(1);
  n.kind = s.getText(2);
  n.status = parseNoteStatus(s.getTextView(3));
  n.name = s.getOptText(4);
  n.content = s.getText(5);
  n.salience = s.getOptDouble(6);
  n.decayFactor = s.getOptDouble(7);
  n.expiresAt = s.getOptInt(8);
  n.properties = Json::parse(s.getTextView(9));
  n.createdAt = s.getInt(10);
  n.updatedAt = s.getInt(11);
  n.deletedAt = s.getOptInt(12);
  return n;
}

void appendFilter(SqlBuilder& b, const storage::NoteFilter& f, std::string_view op) {
  // With ids the primary key is the way in; the unary '+' keeps the planner off the namespace
  // index, which it otherwise prefers (a namespace scan instead of a few key probes).
  b.text(f.ids.empty() ? " WHERE namespace IN " : " WHERE +namespace IN ").inList(f.namespaces);
  if (!f.includeDeleted) b.text(" AND deleted_at IS NULL");
  if (!f.ids.empty()) b.text(" AND id IN ").inList(f.ids);
  if (!f.kinds.empty()) b.text(" AND kind IN ").inList(f.kinds);
  if (f.status) b.text(" AND status = ").param(std::string(noteStatusName(*f.status)));
  for (const auto& p : f.properties) {
    b.text(" AND ");
    appendPropertyPredicate(b, "properties", p, kCap, op);
  }
}

void appendOrder(SqlBuilder& b, const storage::NoteOrder& order) {
  const char* dir = order.order == storage::SortOrder::Asc ? " ASC" : " DESC";
  static constexpr std::string_view kPrefix = "properties.";
  if (order.key.starts_with(kPrefix)) {
    std::string path = jsonPath(order.key.substr(kPrefix.size()), kCap, "query");
    // Missing properties sort last in either direction.
    b.text(" ORDER BY (json_type(properties, ").param(path).text(") IS NULL), json_extract(properties, ");
    b.param(path).text(")").text(dir).text(", id").text(dir);
    return;
  }
  if (order.key != "created_at" && order.key != "updated_at" && order.key != "salience" && order.key != "name") {
    throw Error(ErrorCode::InvalidInput, std::string(kCap), "query",
                fmt::format("notes order by created_at, updated_at, salience, name or properties.<path>, not '{}'",
                            order.key));
  }
  b.text(" ORDER BY (").text(order.key).text(" IS NULL), ").text(order.key).text(dir).text(", id").text(dir);
}
}  // namespace

Note SqliteNoteStore::upsertOne(Conn& conn, const Note& in, Micros now) {
  validate(in, "upsert");
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
  stmt.bindText(1, id)
      .bindText(2, n.ns)
      .bindText(3, n.kind)
      .bindText(4, noteStatusName(n.status))
      .bindOptText(5, n.name)
      .bindText(6, n.content)
      .bindOptDouble(7, n.salience)
      .bindOptDouble(8, n.decayFactor)
      .bindOptInt(9, n.expiresAt)
      .bindText(10, n.properties.dump())
      .bindInt(11, n.createdAt)
      .bindInt(12, n.updatedAt)
      .bindOptInt(13, n.deletedAt);
  stmt.run();
  if (before.deleted != n.deletedAt.has_value()) refreshEndpointState(conn, id, kCap, "upsert");
  return n;
}

Note SqliteNoteStore::upsertNote(const Note& note) {
  WriteTx tx(db_, kCap, "upsert");
  Note out = upsertOne(tx.conn(), note, db_.now());
  tx.commit();
  return out;
}

storage::BatchWriteSummary SqliteNoteStore::upsertNotes(std::span<const Note> notes) {
  auto order = inKeyOrder(notes, [](const Note& n) -> const Uuid& { return n.id; });
  return writeBatch(db_, kCap, "upsert_batch", std::span<const Note* const>(order),
                    [this](Conn& c, const Note* n, Micros now) { upsertOne(c, *n, now); });
}

std::optional<Note> SqliteNoteStore::getById(const Uuid& id, bool includeDeleted) {
  return readById<Note>(db_, kCap,
                       fmt::format("SELECT {} FROM notes WHERE id = ?{}", kColumns,
                                   includeDeleted ? "" : " AND deleted_at IS NULL"),
                       id, readNote);
}

std::optional<Note> SqliteNoteStore::getNote(const Uuid& id) { return getById(id, false); }
std::optional<Note> SqliteNoteStore::getNoteIncludingDeleted(const Uuid& id) { return getById(id, true); }

bool SqliteNoteStore::deleteNote(const Uuid& id, storage::DeleteMode mode) {
  return deleteNode(db_, "notes", kCap, id, mode);
}

storage::Page<Note> SqliteNoteStore::queryNotes(const storage::NoteFilter& filter, const storage::PageRequest& page,
                                                const storage::NoteOrder& order) {
  requireNamespaces(filter.namespaces, kCap, "query");
  checkPage(page, kCap, "query");
  SqlBuilder b;
  b.text("SELECT ").text(kColumns).text(" FROM notes");
  appendFilter(b, filter, "query");
  appendOrder(b, order);
  b.text(" LIMIT ").param(page.limit + 1).text(" OFFSET ").param(page.offset);
  return readPage<Note>(db_, kCap, "query", b, page, readNote);
}

std::int64_t SqliteNoteStore::countNotes(const storage::NoteFilter& filter) {
  requireNamespaces(filter.namespaces, kCap, "count");
  SqlBuilder b;
  b.text("SELECT count(*) FROM notes");
  appendFilter(b, filter, "count");
  return readCount(db_, kCap, "count", b);
}

}  // namespace khive::sqlite
