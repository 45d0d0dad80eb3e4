#pragma once
// The stored form of the record tables, the same on every engine. Layout<T> names each table's
// columns in order with the record member each holds; the column lists the stores select, the
// decoding of one selected row into its record and the encoding of a record's values all follow
// from it. A backend hands the decoders
// its own row type, which has these const members (0-based columns):
//   bool isNull(int col)
//   std::string_view getTextView(int col)   text of a non-NULL column (ids, JSON as text)
//   std::int64_t getInt(int col)
//   double getDouble(int col)
// The encoders write a record's values in the same column order to the backend's parameter
// sink, which has members uuid, optUuid, text, optText, integer, optInteger, real, optReal and
// json, each taking one value (an optional one binds NULL when empty).
// Function templates without state: thread-safe.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include "khive/core/clock.h"
#include "khive/core/json.h"
#include "khive/core/records.h"
#include "khive/core/uuid.h"

namespace khive::storage {

// One stored column: its name and the record member it holds.
template <class R, class M>
struct Column {
  std::string_view name;
  M R::*member;
};
template <class R, class M>
Column(std::string_view, M R::*) -> Column<R, M>;

// The columns of a record table in table order: Layout<Entity>::columns, and so on.
template <class T>
struct Layout;
template <>
struct Layout<Entity> {
  static constexpr std::tuple columns{Column{"id", &Entity::id},
                                      Column{"namespace", &Entity::ns},
                                      Column{"kind", &Entity::kind},
                                      Column{"entity_type", &Entity::entityType},
                                      Column{"name", &Entity::name},
                                      Column{"description", &Entity::description},
                                      Column{"properties", &Entity::properties},
                                      Column{"tags", &Entity::tags},
                                      Column{"created_at", &Entity::createdAt},
                                      Column{"updated_at", &Entity::updatedAt},
                                      Column{"deleted_at", &Entity::deletedAt},
                                      Column{"merged_into", &Entity::mergedInto},
                                      Column{"merge_event_id", &Entity::mergeEventId}};
};
template <>
struct Layout<Note> {
  static constexpr std::tuple columns{Column{"id", &Note::id},
                                      Column{"namespace", &Note::ns},
                                      Column{"kind", &Note::kind},
                                      Column{"status", &Note::status},
                                      Column{"name", &Note::name},
                                      Column{"content", &Note::content},
                                      Column{"salience", &Note::salience},
                                      Column{"decay_factor", &Note::decayFactor},
                                      Column{"expires_at", &Note::expiresAt},
                                      Column{"properties", &Note::properties},
                                      Column{"created_at", &Note::createdAt},
                                      Column{"updated_at", &Note::updatedAt},
                                      Column{"deleted_at", &Note::deletedAt}};
};
template <>
struct Layout<Edge> {
  static constexpr std::tuple columns{Column{"id", &Edge::id},
                                      Column{"namespace", &Edge::ns},
                                      Column{"source_id", &Edge::sourceId},
                                      Column{"target_id", &Edge::targetId},
                                      Column{"relation", &Edge::relation},
                                      Column{"weight", &Edge::weight},
                                      Column{"metadata", &Edge::metadata},
                                      Column{"created_at", &Edge::createdAt},
                                      Column{"updated_at", &Edge::updatedAt},
                                      Column{"deleted_at", &Edge::deletedAt}};
};
template <>
struct Layout<Event> {
  static constexpr std::tuple columns{Column{"id", &Event::id},
                                      Column{"namespace", &Event::ns},
                                      Column{"verb", &Event::verb},
                                      Column{"substrate", &Event::substrate},
                                      Column{"actor", &Event::actor},
                                      Column{"kind", &Event::kind},
                                      Column{"outcome", &Event::outcome},
                                      Column{"payload", &Event::payload},
                                      Column{"duration_us", &Event::durationUs},
                                      Column{"target_id", &Event::targetId},
                                      Column{"session_id", &Event::sessionId},
                                      Column{"created_at", &Event::createdAt}};
};

// "id, namespace, ...": the column names of Layout<T>, joined at compile time.
template <class T>
struct ColumnList {
  static constexpr std::size_t size =
      std::apply([](const auto&... c) { return ((c.name.size() + 2) + ...) - 2; }, Layout<T>::columns);
  static constexpr std::array<char, size> chars = std::apply(
      [](const auto&... c) {
        std::array<char, size> out{};
        std::size_t i = 0;
        auto put = [&](std::string_view s) {
          for (char ch : s) out[i++] = ch;
        };
        ((i == 0 ? void() : put(", "), put(c.name)), ...);
        return out;
      },
      Layout<T>::columns);
  static constexpr std::string_view value{chars.data(), chars.size()};
};

inline constexpr std::string_view kEntityColumns = ColumnList<Entity>::value;
inline constexpr std::string_view kNoteColumns = ColumnList<Note>::value;
inline constexpr std::string_view kEdgeColumns = ColumnList<Edge>::value;
inline constexpr std::string_view kEventColumns = ColumnList<Event>::value;

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

template <class T>
inline constexpr bool isOptional = false;
template <class T>
inline constexpr bool isOptional<std::optional<T>> = true;

// Column c of a row as a record member of type M (NULL: an empty optional). Tags are a JSON
// array of strings; the enums are stored by name.
template <class M, class Row>
M read(const Row& r, int c) {
  if constexpr (isOptional<M>) {
    if (r.isNull(c)) return std::nullopt;
    return read<typename M::value_type>(r, c);
  } else if constexpr (std::is_same_v<M, Uuid>) {
    return id(r, c);
  } else if constexpr (std::is_same_v<M, std::string>) {
    return text(r, c);
  } else if constexpr (std::is_same_v<M, std::int64_t>) {
    return r.getInt(c);
  } else if constexpr (std::is_same_v<M, double>) {
    return r.getDouble(c);
  } else if constexpr (std::is_same_v<M, Json>) {
    return json(r, c);
  } else if constexpr (std::is_same_v<M, std::vector<std::string>>) {
    return json(r, c).template get<M>();
  } else if constexpr (std::is_same_v<M, NoteStatus>) {
    return parseNoteStatus(r.getTextView(c));
  } else if constexpr (std::is_same_v<M, Substrate>) {
    return parseSubstrate(r.getTextView(c));
  } else {
    static_assert(std::is_same_v<M, Outcome>, "a member type with a stored form");
    return parseOutcome(r.getTextView(c));
  }
}

// A record member's value, written to the parameter sink in its stored form (as read() reads it).
template <class Sink, class M>
void write(Sink& p, const M& v) {
  if constexpr (std::is_same_v<M, Uuid>) {
    p.uuid(v);
  } else if constexpr (std::is_same_v<M, std::optional<Uuid>>) {
    p.optUuid(v);
  } else if constexpr (std::is_same_v<M, std::string>) {
    p.text(v);
  } else if constexpr (std::is_same_v<M, std::optional<std::string>>) {
    p.optText(v);
  } else if constexpr (std::is_same_v<M, std::int64_t>) {
    p.integer(v);
  } else if constexpr (std::is_same_v<M, std::optional<std::int64_t>>) {
    p.optInteger(v);
  } else if constexpr (std::is_same_v<M, double>) {
    p.real(v);
  } else if constexpr (std::is_same_v<M, std::optional<double>>) {
    p.optReal(v);
  } else if constexpr (std::is_same_v<M, Json>) {
    p.json(v);
  } else if constexpr (std::is_same_v<M, std::vector<std::string>>) {
    p.json(Json(v));
  } else if constexpr (std::is_same_v<M, NoteStatus>) {
    p.text(noteStatusName(v));
  } else if constexpr (std::is_same_v<M, Substrate>) {
    p.text(substrateName(v));
  } else {
    static_assert(std::is_same_v<M, Outcome>, "a member type with a stored form");
    p.text(outcomeName(v));
  }
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

// The values of a record (Entity, Note, Edge or Event) in its columns' order.
template <class T, class Sink>
requires requires {
  Layout<T>::columns;
}
void encode(const T& record, Sink& p) {
  std::apply([&](const auto&... c) { (column::write(p, record.*c.member), ...); }, Layout<T>::columns);
}

// The columns and the decoding of a record type named by its C++ type.
template <class T>
constexpr std::string_view columnsOf() {
  return ColumnList<T>::value;
}
// A row of columnsOf<T>().
template <class T, class Row>
T decodeRecord(const Row& r) {
  T out;
  int c = 0;
  auto readInto = [&](auto& member) { member = column::read<std::remove_cvref_t<decltype(member)>>(r, c++); };
  std::apply([&](const auto&... col) { (readInto(out.*col.member), ...); }, Layout<T>::columns);
  return out;
}
// A row of kEdgeColumns.
template <class Row>
Edge decodeEdge(const Row& r) {
  return decodeRecord<Edge>(r);
}

}  // namespace khive::storage
