#include <fmt/format.h>

#include "khive/storage/record_checks.h"
#include "backends/sqlite/sql_build.h"
#include "backends/sqlite/stores.h"

namespace khive::sqlite {

namespace {
constexpr std::string_view kCap = "events";
constexpr std::string_view kColumns =
    "id, namespace, verb, substrate, actor, kind, outcome, payload, duration_us, target_id, session_id, created_at";

void validate(const Event& e) {
  auto bad = [&](const std::string& why) { throw Error(ErrorCode::InvalidInput, std::string(kCap), "append", why); };
  if (e.id.isNil()) bad("event id is the nil UUID; generate one with Uuid::v7()");
  if (e.ns.empty()) bad("event namespace is empty");
  if (e.verb.empty()) bad("event verb is empty");
  if (!e.payload.is_object()) bad("event payload must be a JSON object");
  if (e.durationUs < 0) bad("event duration_us must be >= 0");
  storage::checkRecordText(e, kCap, "append");
}

Event readEvent(const Stmt& s) {
  Event e;
  e.id = Uuid::parse(s.getTextView(0));
  e.ns = s.getText(1);
  e.verb = s.getText(2);
  e.substrate = parseSubstrate(s.getTextView(3));
  e.actor = s.getText(4);
  e.kind = s.getText(5);
  e.outcome = parseOutcome(s.getTextView(6));
  e.payload = Json::parse(s.getTextView(7));
  e.durationUs = s.getInt(8);
  if (auto t = s.getOptText(9)) e.targetId = Uuid::parse(*t);
  e.sessionId = s.getOptText(10);
  e.createdAt = s.getInt(11);
  return e;
}

void appendFilter(SqlBuilder& b, const storage::EventFilter& f) {
  b.text(" WHERE namespace IN ").inList(f.namespaces);
  if (!f.kinds.empty()) b.text(" AND kind IN ").inList(f.kinds);
  if (!f.verbs.empty()) b.text(" AND verb IN ").inList(f.verbs);
  if (!f.actors.empty()) b.text(" AND actor IN ").inList(f.actors);
  if (f.substrate) b.text(" AND substrate = ").param(std::string(substrateName(*f.substrate)));
  if (f.targetId) b.text(" AND target_id = ").param(f.targetId->str());
  if (f.sessionId) b.text(" AND session_id = ").param(*f.sessionId);
  if (f.createdAfter) b.text(" AND created_at >= ").param(*f.createdAfter);
  if (f.createdBefore) b.text(" AND created_at < ").param(*f.createdBefore);
}
}  // namespace

Event SqliteEventStore::appendOne(Conn& conn, const Event& in, Micros now) {
  validate(in);
  Event e = in;
  if (e.createdAt == 0) e.createdAt = now;
  auto stmt = conn.prepare(
      "INSERT INTO events (id, namespace, verb, substrate, actor, kind, outcome, payload, duration_us, target_id, "
      "session_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      kCap, "append");
  stmt.bindText(1, e.id.str())
      .bindText(2, e.ns)
      .bindText(3, e.verb)
      .bindText(4, substrateName(e.substrate))
      .bindText(5, e.actor)
      .bindText(6, e.kind)
      .bindText(7, outcomeName(e.outcome))
      .bindText(8, e.payload.dump())
      .bindInt(9, e.durationUs)
      .bindOptText(10, e.targetId ? std::optional(e.targetId->str()) : std::nullopt)
      .bindOptText(11, e.sessionId)
      .bindInt(12, e.createdAt);
  try {
    stmt.run();
  } catch (const Error& err) {
    if (err.code() == ErrorCode::AlreadyExists) {
      throw Error(ErrorCode::AlreadyExists, std::string(kCap), "append",
                  fmt::format("event {} already exists; events are append-only", e.id.str()));
    }
    throw;
  }
  return e;
}

Event SqliteEventStore::appendEvent(const Event& event) {
  WriteTx tx(db_, kCap, "append");
  Event out = appendOne(tx.conn(), event, db_.now());
  tx.commit();
  return out;
}

storage::BatchWriteSummary SqliteEventStore::appendEvents(std::span<const Event> events) {
  return writeBatch(db_, kCap, "append_batch", events,
                    [this](Conn& c, const Event& e, Micros now) { appendOne(c, e, now); });
}

std::optional<Event> SqliteEventStore::getEvent(const Uuid& id) {
  auto lease = db_.acquireReader(kCap, "get");
  auto stmt = lease.conn().prepare(fmt::format("SELECT {} FROM events WHERE id = ?", kColumns), kCap, "get");
  stmt.bindText(1, id.str());
  if (!stmt.step()) return std::nullopt;
  return readEvent(stmt);
}

storage::Page<Event> SqliteEventStore::queryEvents(const storage::EventFilter& filter,
                                                   const storage::PageRequest& page) {
  requireNamespaces(filter.namespaces, kCap, "query");
  checkPage(page, kCap, "query");
  SqlBuilder b;
  b.text("SELECT ").text(kColumns).text(" FROM events");
  appendFilter(b, filter);
  b.text(filter.order == storage::SortOrder::Asc ? " ORDER BY created_at, id" : " ORDER BY created_at DESC, id DESC");
  b.text(" LIMIT ").param(page.limit + 1).text(" OFFSET ").param(page.offset);
  return readPage<Event>(db_, kCap, "query", b, page, readEvent);
}

std::int64_t SqliteEventStore::countEvents(const storage::EventFilter& filter) {
  requireNamespaces(filter.namespaces, kCap, "count");
  SqlBuilder b;
  b.text("SELECT count(*) FROM events");
  appendFilter(b, filter);
  return readCount(db_, kCap, "count", b);
}

}  // namespace khive::sqlite
