#pragma once
// The entity, note and event stores of a SQL engine, written once for every engine: their reads
// (get, query, count), the deletes of entities and notes and the request checks. A backend's
// store derives from one of them and adds the writes. They are built on the engine's primitives,
// `Engine`, a type with these static members (each backend's stores.h defines one):
//   Database, Builder   its database handle and statement builder (record_statements.h)
//   get<T>(db, table, capability, id, includeDeleted) -> std::optional<T>
//                       the row of `table` with this id (with includeDeleted also a soft-deleted
//                       one; a table without deleted_at passes true), decoded (record_codec.h)
//   page<T>(db, capability, b, page) -> Page<T>   runs a pageStatement, decodes its rows
//   count(db, capability, operation, b) -> std::int64_t
//   deleteNode(db, table, capability, id, mode) -> bool   soft or hard delete of an entity or note
//   where(b, filter[, operation]), order(b, NoteOrder)    the engine's SQL of the filters
// Thread-safe: each holds only a reference to the engine's (thread-safe) database.

#include <cstdint>
#include <optional>
#include <string_view>

#include "khive/storage/entity_store.h"
#include "khive/storage/event_store.h"
#include "khive/storage/record_codec.h"
#include "khive/storage/record_statements.h"

namespace khive::storage {

template <class Engine>
class SqlEntityStore : public EntityStore {
 public:
  using Database = typename Engine::Database;
  using Builder = typename Engine::Builder;
  explicit SqlEntityStore(Database& db) : db_(db) {}

  std::optional<Entity> getEntity(const Uuid& id) override { return get(id, false); }
  std::optional<Entity> getEntityIncludingDeleted(const Uuid& id) override { return get(id, true); }
  bool deleteEntity(const Uuid& id, DeleteMode mode) override {
    return Engine::deleteNode(db_, "entities", kCap, id, mode);
  }
  Page<Entity> queryEntities(const EntityFilter& filter, const PageRequest& page) override {
    const auto b = pageStatement<Builder>(kCap, "query", kEntityColumns, "entities", filter, page, where,
                                          " ORDER BY created_at, id");
    return Engine::template page<Entity>(db_, kCap, b, page);
  }
  std::int64_t countEntities(const EntityFilter& filter) override {
    return Engine::count(db_, kCap, "count", countStatement<Builder>(kCap, "count", "entities", filter, where));
  }

 protected:
  static constexpr std::string_view kCap = "entities";
  Database& db_;

 private:
  std::optional<Entity> get(const Uuid& id, bool includeDeleted) {
    return Engine::template get<Entity>(db_, "entities", kCap, id, includeDeleted);
  }
  static void where(Builder& b, const EntityFilter& filter) { Engine::where(b, filter); }
};

template <class Engine>
class SqlNoteStore : public NoteStore {
 public:
  using Database = typename Engine::Database;
  using Builder = typename Engine::Builder;
  explicit SqlNoteStore(Database& db) : db_(db) {}

  std::optional<Note> getNote(const Uuid& id) override {
    return Engine::template get<Note>(db_, "notes", kCap, id, false);
  }
  std::optional<Note> getNoteIncludingDeleted(const Uuid& id) override {
    return Engine::template get<Note>(db_, "notes", kCap, id, true);
  }
  bool deleteNote(const Uuid& id, DeleteMode mode) override { return Engine::deleteNode(db_, "notes", kCap, id, mode); }
  Page<Note> queryNotes(const NoteFilter& filter, const PageRequest& page, const NoteOrder& order) override {
    const auto b = pageStatement<Builder>(kCap, "query", kNoteColumns, "notes", filter, page, where,
                                          [&](Builder& ob) { Engine::order(ob, order); });
    return Engine::template page<Note>(db_, kCap, b, page);
  }
  std::int64_t countNotes(const NoteFilter& filter) override {
    return Engine::count(db_, kCap, "count", countStatement<Builder>(kCap, "count", "notes", filter, where));
  }

 protected:
  static constexpr std::string_view kCap = "notes";
  Database& db_;

 private:
  // The filter's property predicates name the operation in their errors.
  static void where(Builder& b, const NoteFilter& filter, std::string_view operation) {
    Engine::where(b, filter, operation);
  }
};

template <class Engine>
class SqlEventStore : public EventStore {
 public:
  using Database = typename Engine::Database;
  using Builder = typename Engine::Builder;
  explicit SqlEventStore(Database& db) : db_(db) {}

  std::optional<Event> getEvent(const Uuid& id) override {
    return Engine::template get<Event>(db_, "events", kCap, id, true);  // events have no deleted_at
  }
  Page<Event> queryEvents(const EventFilter& filter, const PageRequest& page) override {
    auto where = [](Builder& b, const EventFilter& f) { Engine::where(b, f); };
    const auto b =
        pageStatement<Builder>(kCap, "query", kEventColumns, "events", filter, page, where, eventOrderBy(filter));
    return Engine::template page<Event>(db_, kCap, b, page);
  }
  std::int64_t countEvents(const EventFilter& filter) override {
    auto where = [](Builder& b, const EventFilter& f) { Engine::where(b, f); };
    return Engine::count(db_, kCap, "count", countStatement<Builder>(kCap, "count", "events", filter, where));
  }

 protected:
  static constexpr std::string_view kCap = "events";
  Database& db_;
};

}  // namespace khive::storage
