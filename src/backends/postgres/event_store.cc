#include <fmt/format.h>

#include "khive/storage/record_checks.h"
#include "backends/postgres/sql_build.h"
#include "backends/postgres/stores.h"

namespace khive::postgres {

namespace {
constexpr std::string_view kCap = "events";
constexpr std::string_view kColumns =
    "id, namespace, verb, substrate, actor, kind, outcome, payload, duration_us, target_id, session_id, created_at";
constexpr std::string_view kInsert =
    "INSERT INTO events (id, namespace, verb, substrate, actor, kind, outcome, payload, duration_us, target_id, "
    "session_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
// The same for the rows of concurrent callers, keyed by id.
const MergedForm kInsertMerged = MergedForm::of(
    kInsert, {"uuid", "text", "text", "text", "text", "text", "text", "jsonb", "int8", "uuid", "text", "int8"}, {0});

void validate(const Event& e, std::string_view op) {
  auto bad = [&](const std::string& why) { throw Error(ErrorCode::InvalidInput, std::string(kCap), std::string(op), why); };
  if (e.id.isNil()) bad("event id is the nil UUID; generate one with Uuid::v7()");
  if (e.ns.empty()) bad("event namespace is empty");
  if (e.verb.empty()) bad("event verb is empty");
  if (!e.payload.is_object()) bad("event payload must be a JSON object");
  if (e.durationUs < 0) bad("event duration_us must be >= 0");
  storage::checkRecordText(e, kCap, op);
}

Event prepare(const Event& in, Micros now, std::string_view op) {
  validate(in, op);
  Event e = in;
  if (e.createdAt == 0) e.createdAt = now;
  return e;
}

Params bind(const Event& e) {
  Params p;
  p.uuid(e.id)
      .text(e.ns)
      .text(e.verb)
      .text(substrateName(e.substrate))
      .text(e.actor)
      .text(e.kind)
      .text(outcomeName(e.outcome))
      .json(e.payload)
      .integer(e.durationUs)
      .optUuid(e.targetId)
      .optText(e.sessionId)
      .integer(e.createdAt);
  return p;
}

Event appendOne(StatementTarget c, const Event& in, Micros now) {
  Event e = prepare(in, now, "append");
  try {
    c.exec(kInsert, bind(e), kCap, "append", &kInsertMerged);
  } catch (const Error& err) {
    if (err.code() == ErrorCode::AlreadyExists) {
      throw Error(ErrorCode::AlreadyExists, std::string(kCap), "append",
                  fmt::format("event {} already exists; events are append-only", e.id.str()));
    }
    throw;
  }
  return e;
}

Event readEvent(const Result& r, int i) {
  Event e;
  e.id = r.getUuid(i, 0);
  e.ns = r.str(i, 1);
  e.verb = r.str(i, 2);
  e.substrate = parseSubstrate(r.view(i, 3));
  e.actor = r.str(i, 4);
  e.kind = r.str(i, 5);
  e.outcome = parseOutcome(r.view(i, 6));
  e.payload = r.getJson(i, 7);
  e.durationUs = r.getInt(i, 8);
  e.targetId = r.optUuid(i, 9);
  e.sessionId = r.optStr(i, 10);
  e.createdAt = r.getInt(i, 11);
  return e;
}

void appendFilter(SqlBuilder& b, const storage::EventFilter& f) {
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
}  // namespace

Event PgEventStore::appendEvent(const Event& event) {
  const Micros now = db_.now();
  return appendOne(db_, event, now);
}

storage::BatchWriteSummary PgEventStore::appendEvents(std::span<const Event> events) {
  return pipelinedBatch<Event>(
      db_, kCap, "append_batch", events, kInsert,
      [](const Event& e, Micros now) { return bind(prepare(e, now, "append_batch")); },
      [](Conn& c, const Event& e, Micros now) { appendOne(c, e, now); }, [](std::int64_t n) { return n == 1; });
}

std::optional<Event> PgEventStore::getEvent(const Uuid& id) {
  return readOne<Event>(db_, kCap, "get", fmt::format("SELECT {} FROM events WHERE id = $1", kColumns),
                        Params().uuid(id), readEvent);
}

storage::Page<Event> PgEventStore::queryEvents(const storage::EventFilter& filter, const storage::PageRequest& page) {
  requireNamespaces(filter.namespaces, kCap, "query");
  checkPage(page, kCap, "query");
  SqlBuilder b;
  b.text("SELECT ").text(kColumns).text(" FROM events");
  appendFilter(b, filter);
  b.text(filter.order == storage::SortOrder::Asc ? " ORDER BY created_at, id" : " ORDER BY created_at DESC, id DESC");
  b.text(" LIMIT ").integer(page.limit + 1).text(" OFFSET ").integer(page.offset);
  return readPage<Event>(db_, kCap, "query", b, page, readEvent);
}

std::int64_t PgEventStore::countEvents(const storage::EventFilter& filter) {
  requireNamespaces(filter.namespaces, kCap, "count");
  SqlBuilder b;
  b.text("SELECT count(*) FROM events");
  appendFilter(b, filter);
  return readCount(db_, kCap, "count", b);
}

}  // namespace khive::postgres
