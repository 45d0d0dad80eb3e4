#pragma once
// The stored form of the record tables, the same on every engine: the column lists the stores
// select and the decoding of one selected row into its record. A backend hands the decoders
// its own row type, which has these const members (0-based columns):
//   bool isNull(int col)
//   std::string_view getTextView(int col)   text of a non-NULL column (ids, JSON as text)
//   std::int64_t getInt(int col)
//   double getDouble(int col)
// The encoders write a record's values in the same column order to the backend's parameter
// sink, which has members uuid, optUuid, text, optText, integer, optInteger, real, optReal and
// json, each taking one value (an optional one binds NULL when empty).
// Function templates without state: thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "khive/core/clock.h"
#include "khive/core/json.h"
#include "khive/core/records.h"
#include "khive/core/uuid.h"

namespace khive::storage {

inline constexpr std::string_view kEntityColumns =
    "id, namespace, kind, entity_type, name, description, properties, tags, created_at, updated_at, "
    "deleted_at, merged_into, merge_event_id";
inline constexpr std::string_view kNoteColumns =
    "id, namespace, kind, status, name, content, salience, decay_factor, expires_at, properties, created_at, "
    "updated_at, deleted_at";
inline constexpr std::string_view kEdgeColumns =
    "id, namespace, source_id, target_id, relation, weight, metadata, created_at, updated_at, deleted_at";
inline constexpr std::string_view kEventColumns =
    "id, namespace, verb, substrate, actor, kind, outcome, payload, duration_us, target_id, session_id, created_at";

// Typed reads of one column of a row.
namespace column {
template <class Row>
std::string text(const Row& r, int c) {
  return std::string(r.getTextView(c));
}
template <class Row>
std::optional<std::string> optText(const Row& r, int c) {
  if (r.isNull(c)) return std::nullopt;
  return text(r, c);
}
template <class Row>
std::optional<std::int64_t> optInt(const Row& r, int c) {
  if (r.isNull(c)) return std::nullopt;
  return r.getInt(c);
}
template <class Row>
std::optional<double> optDouble(const Row& r, int c) {
  if (r.isNull(c)) return std::nullopt;
  return r.getDouble(c);
}
template <class Row>
Uuid id(const Row& r, int c) {
  return Uuid::parse(r.getTextView(c));
}
template <class Row>
std::optional<Uuid> optId(const Row& r, int c) {
  if (r.isNull(c)) return std::nullopt;
  return id(r, c);
}
template <class Row>
Json json(const Row& r, int c) {
  // Most records carry no properties and no tags: those skip the parser.
  const std::string_view text = r.getTextView(c);
  if (text == "{}") return Json::object();
  if (text == "[]") return Json::array();
  return Json::parse(text);
}
}  // namespace column

// The record as stored: a created_at (and updated_at, where the record has one) of 0 set to
// `now`.
template <class Record>
Record stampedAt(Record record, Micros now) {
  if (record.createdAt == 0) record.createdAt = now;
  if constexpr (requires { record.updatedAt; }) {
    if (record.updatedAt == 0) record.updatedAt = now;
  }
  return record;
}

// The values of kEntityColumns, kNoteColumns, kEdgeColumns or kEventColumns, in that order.
template <class Sink>
void encode(const Entity& e, Sink& p) {
  p.uuid(e.id).text(e.ns).text(e.kind).optText(e.entityType).text(e.name).optText(e.description);
  p.json(e.properties).json(Json(e.tags)).integer(e.createdAt).integer(e.updatedAt).optInteger(e.deletedAt);
  p.optUuid(e.mergedInto).optUuid(e.mergeEventId);
}
template <class Sink>
void encode(const Note& n, Sink& p) {
  p.uuid(n.id).text(n.ns).text(n.kind).text(noteStatusName(n.status)).optText(n.name).text(n.content);
  p.optReal(n.salience).optReal(n.decayFactor).optInteger(n.expiresAt).json(n.properties);
  p.integer(n.createdAt).integer(n.updatedAt).optInteger(n.deletedAt);
}
template <class Sink>
void encode(const Edge& e, Sink& p) {
  p.uuid(e.id).text(e.ns).uuid(e.sourceId).uuid(e.targetId).text(e.relation).real(e.weight).json(e.metadata);
  p.integer(e.createdAt).integer(e.updatedAt).optInteger(e.deletedAt);
}
template <class Sink>
void encode(const Event& e, Sink& p) {
  p.uuid(e.id).text(e.ns).text(e.verb).text(substrateName(e.substrate)).text(e.actor).text(e.kind);
  p.text(outcomeName(e.outcome)).json(e.payload).integer(e.durationUs).optUuid(e.targetId).optText(e.sessionId);
  p.integer(e.createdAt);
}

// A row of kEntityColumns.
template <class Row>
Entity decodeEntity(const Row& r) {
  using namespace column;
  Entity e;
  e.id = id(r, 0);
  e.ns = text(r, 1);
  e.kind = text(r, 2);
  e.entityType = optText(r, 3);
  e.name = text(r, 4);
  e.description = optText(r, 5);
  e.properties = json(r, 6);
  e.tags = json(r, 7).template get<std::vector<std::string>>();
  e.createdAt = r.getInt(8);
  e.updatedAt = r.getInt(9);
  e.deletedAt = optInt(r, 10);
  e.mergedInto = optId(r, 11);
  e.mergeEventId = optId(r, 12);
  return e;
}

// A row of kNoteColumns.
template <class Row>
Note decodeNote(const Row& r) {
  using namespace column;
  Note n;
  n.id = id(r, 0);
  n.ns = text(r, 1);
  n.kind = text(r, 2);
  n.status = parseNoteStatus(r.getTextView(3));
  n.name = optText(r, 4);
  n.content = text(r, 5);
  n.salience = optDouble(r, 6);
  n.decayFactor = optDouble(r, 7);
  n.expiresAt = optInt(r, 8);
  n.properties = json(r, 9);
  n.createdAt = r.getInt(10);
  n.updatedAt = r.getInt(11);
  n.deletedAt = optInt(r, 12);
  return n;
}

// A row of kEdgeColumns.
template <class Row>
Edge decodeEdge(const Row& r) {
  using namespace column;
  Edge e;
  e.id = id(r, 0);
  e.ns = text(r, 1);
  e.sourceId = id(r, 2);
  e.targetId = id(r, 3);
  e.relation = text(r, 4);
  e.weight = r.getDouble(5);
  e.metadata = json(r, 6);
  e.createdAt = r.getInt(7);
  e.updatedAt = r.getInt(8);
  e.deletedAt = optInt(r, 9);
  return e;
}

// A row of kEventColumns.
template <class Row>
Event decodeEvent(const Row& r) {
  using namespace column;
  Event e;
  e.id = id(r, 0);
  e.ns = text(r, 1);
  e.verb = text(r, 2);
  e.substrate = parseSubstrate(r.getTextView(3));
  e.actor = text(r, 4);
  e.kind = text(r, 5);
  e.outcome = parseOutcome(r.getTextView(6));
  e.payload = json(r, 7);
  e.durationUs = r.getInt(8);
  e.targetId = optId(r, 9);
  e.sessionId = optText(r, 10);
  e.createdAt = r.getInt(11);
  return e;
}

// The columns and the decoding of a record type named by its C++ type.
template <class T>
constexpr std::string_view columnsOf() {
  if constexpr (std::is_same_v<T, Entity>) {
    return kEntityColumns;
  } else if constexpr (std::is_same_v<T, Note>) {
    return kNoteColumns;
  } else if constexpr (std::is_same_v<T, Edge>) {
    return kEdgeColumns;
  } else {
    static_assert(std::is_same_v<T, Event>, "a record type: Entity, Note, Edge or Event");
    return kEventColumns;
  }
}
template <class T, class Row>
T decodeRecord(const Row& r) {
  if constexpr (std::is_same_v<T, Entity>) {
    return decodeEntity(r);
  } else if constexpr (std::is_same_v<T, Note>) {
    return decodeNote(r);
  } else if constexpr (std::is_same_v<T, Edge>) {
    return decodeEdge(r);
  } else {
    static_assert(std::is_same_v<T, Event>, "a record type: Entity, Note, Edge or Event");
    return decodeEvent(r);
  }
}

}  // namespace khive::storage
