#include <fmt/format.h>

#include "khive/storage/write_checks.h"
#include "khive/storage/record_codec.h"
#include "backends/sqlite/sql_build.h"
#include "backends/sqlite/stores.h"

namespace khive::sqlite {

namespace {
constexpr std::string_view kCap = "events";
}  // namespace

void SqliteRecords::where(SqlBuilder& b, const storage::EventFilter& f) {
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

Event SqliteEventStore::appendOne(Conn& conn, const Event& in, Micros now) {
  storage::checkEvent(in, "append");
  const Event e = storage::stampedAt(in, now);
  auto stmt = conn.prepare(
      "INSERT INTO events (id, namespace, verb, substrate, actor, kind, outcome, payload, duration_us, target_id, "
      "session_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      kCap, "append");
  StmtBinder values(stmt);
  storage::encode(e, values);
  try {
    stmt.run();
  } catch (const Error& err) {
    if (err.code() == ErrorCode::AlreadyExists) throw storage::eventExists(e.id);
    throw;
  }
  return e;
}

Event SqliteEventStore::appendEvent(const Event& event) {
  return writeOne(db_, kCap, "append", [&](Conn& c, Micros now) { return appendOne(c, event, now); });
}

storage::BatchWriteSummary SqliteEventStore::appendEvents(std::span<const Event> events) {
  return writeBatch(db_, kCap, "append_batch", events,
                    [this](Conn& c, const Event& e, Micros now) { appendOne(c, e, now); });
}

}  // namespace khive::sqlite
