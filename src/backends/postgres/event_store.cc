#include <fmt/format.h>

#include "khive/storage/write_checks.h"
#include "khive/storage/record_codec.h"
#include "backends/postgres/sql_build.h"
#include "backends/postgres/stores.h"

namespace khive::postgres {

namespace {
constexpr std::string_view kCap = "events";
const std::string kInsert = insertSql("events", storage::kEventColumns);
// The same for the rows of concurrent callers, keyed by id.
const MergedForm kInsertMerged = MergedForm::of(
    kInsert, {"uuid", "text", "text", "text", "text", "text", "text", "jsonb", "int8", "uuid", "text", "int8"}, {0});

Event prepare(const Event& in, Micros now, std::string_view op) {
  storage::checkEvent(in, op);
  return storage::stampedAt(in, now);
}

Event appendOne(StatementTarget c, const Event& in, Micros now) {
  Event e = prepare(in, now, "append");
  try {
    c.exec(kInsert, bind(e), kCap, "append", &kInsertMerged);
  } catch (const Error& err) {
    if (err.code() == ErrorCode::AlreadyExists) throw storage::eventExists(e.id);
    throw;
  }
  return e;
}

}  // namespace

void PgRecords::where(SqlBuilder& b, const storage::EventFilter& f) {
  b.text(" WHERE namespace = ANY (").texts(f.namespaces).text(")");
  if (!f.kinds.empty()) b.text(" AND kind = ANY (").texts(f.kinds).text(")");
  if (!f.verbs.empty()) b.text(" AND verb = ANY (").texts(f.verbs).text(")");
  if (!f.actors.empty()) b.text(" AND actor = ANY (").texts(f.actors).text(")");
  if (f.substrate) b.text(" AND substrate = ").str(substrateName(*f.substrate));
  if (f.targetId) b.text(" AND target_id = ").uuid(*f.targetId);
  if (f.sessionId) b.text(" AND session_id = ").str(*f.sessionId);
  if (f.createdAfter) b.text(" AND created_at >= ").integer(*f.createdAfter);
  if (f.createdBefore) b.text(" AND created_at < ").integer(*f.createdBefore);
}

Event PgEventStore::appendEvent(const Event& event) { return appendOne(db_, event, db_.now()); }

storage::BatchWriteSummary PgEventStore::appendEvents(std::span<const Event> events) {
  return recordBatch(db_, kCap, "append_batch", events, kInsert, prepare, appendOne);
}

}  // namespace khive::postgres
