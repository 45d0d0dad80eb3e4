// Ids are unique across record types: an id held by an entity, a note, an edge or an event is
// refused for a record of any other type (Error(Conflict) naming both types). The verbs check
// one id (checkNewId); import checks a chunk of lines at a time (IdOwners::find).
#pragma once

#include <array>
#include <functional>
#include <string_view>
#include <vector>

#include "khive/core/error.h"
#include "khive/core/uuid.h"
#include "khive/storage/backend.h"

namespace khive::runtime {

// Record types in table order: 0 entity (entities), 1 note (notes), 2 edge (edges), 3 event (events).
inline constexpr std::array<std::string_view, 4> kIdTypes{"entity", "note", "edge", "event"};
inline constexpr std::array<const char*, 4> kIdTables{"entities", "notes", "edges", "events"};

// Calls found(id, t) for every id of ids[t] that table t holds (deleted rows included), in
// one statement over the four tables. Thread-safe as the backend is.
void findStoredIds(storage::Backend& backend, const std::array<std::vector<Uuid>, 4>& ids,
                   const std::function<void(const Uuid&, int)>& found);

// The Conflict error for `id`, stored as a record of type `held`, given to a record of `wanted`.
Error idTakenError(const Uuid& id, std::string_view held, std::string_view wanted);

// For a verb creating a record of type kIdTypes[type] with a caller-given id: AlreadyExists
// when a record of that type has the id, Conflict when one of another type has it.
void checkNewId(storage::Backend& backend, const Uuid& id, int type);

}  // namespace khive::runtime
