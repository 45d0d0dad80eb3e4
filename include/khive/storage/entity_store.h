#pragma once
// EntityStore and NoteStore: typed records with filters and paging.

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "khive/core/records.h"
#include "khive/storage/types.h"

namespace khive::storage {

// Multi-record reads need at least one namespace (InvalidInput otherwise). Every list is an
// OR within itself; lists and fields are ANDed. Empty list = no restriction on that field.
struct EntityFilter {
  std::vector<std::string> namespaces;
  std::vector<Uuid> ids;
  std::vector<std::string> kinds;
  std::vector<std::string> entityTypes;
  std::optional<std::string> namePrefix;  // ASCII case-insensitive
  std::vector<std::string> tagsAny;
  bool includeDeleted = false;
};

// Thread-safe.
class EntityStore {
 public:
  virtual ~EntityStore() = default;
  // Inserts, or replaces the record with the same id (keeping its created_at). Sets
  // created_at/updated_at when they are 0. Returns the stored record.
  // Conflict when the id exists in another namespace; InvalidInput on an empty namespace,
  // kind or name or a non-object properties value.
  virtual Entity upsertEntity(const Entity& entity) = 0;
  virtual BatchWriteSummary upsertEntities(std::span<const Entity> entities) = 0;
  // Live records only; reads by id take no namespace.
  virtual std::optional<Entity> getEntity(const Uuid& id) = 0;
  virtual std::optional<Entity> getEntityIncludingDeleted(const Uuid& id) = 0;
  // false when no such (live, for Soft) record exists.
  virtual bool deleteEntity(const Uuid& id, DeleteMode mode) = 0;
  // Ordered by (created_at, id).
  virtual Page<Entity> queryEntities(const EntityFilter& filter, const PageRequest& page = {}) = 0;
  virtual std::int64_t countEntities(const EntityFilter& filter) = 0;
};

struct NoteOrder {
  // A column ("created_at", "updated_at", "salience", "name") or "properties.<path>".
  std::string key = "created_at";
  SortOrder order = SortOrder::Asc;
};

struct NoteFilter {
  std::vector<std::string> namespaces;
  std::vector<Uuid> ids;
  std::vector<std::string> kinds;
  std::optional<NoteStatus> status;
  std::vector<PropertyPredicate> properties;
  bool includeDeleted = false;
};

// Thread-safe. Same contract as EntityStore.
class NoteStore {
 public:
  virtual ~NoteStore() = default;
  // InvalidInput on salience outside [0,1], negative decay_factor, empty content.
  virtual Note upsertNote(const Note& note) = 0;
  virtual BatchWriteSummary upsertNotes(std::span<const Note> notes) = 0;
  virtual std::optional<Note> getNote(const Uuid& id) = 0;
  virtual std::optional<Note> getNoteIncludingDeleted(const Uuid& id) = 0;
  virtual bool deleteNote(const Uuid& id, DeleteMode mode) = 0;
  // Ordered by `order` then id. A note missing the ordering property sorts last.
  virtual Page<Note> queryNotes(const NoteFilter& filter, const PageRequest& page = {},
                                const NoteOrder& order = {}) = 0;
  virtual std::int64_t countNotes(const NoteFilter& filter) = 0;
};

}  // namespace khive::storage
