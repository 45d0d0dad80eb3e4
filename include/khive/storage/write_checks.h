#pragma once
// What the record stores check of a record before they write it, the same on every engine (the
// checks of record_checks.h included). Pure functions: thread-safe.

#include <string_view>

#include "khive/core/error.h"
#include "khive/core/records.h"

namespace khive::storage {

// A record as its store's upsert (append, for events) takes it: an id that is not nil, the
// required fields not empty, numbers in range, JSON objects where the schema wants them, and
// checkRecordText. Error(InvalidInput) of the record's capability ("entities", "notes",
// "events") and `operation`, naming what is wrong. An edge's is checkEdge (graph_walk.h).
void checkEntity(const Entity& e, std::string_view operation);
void checkNote(const Note& n, std::string_view operation);
void checkEvent(const Event& e, std::string_view operation);
// The error of appending an event whose id is taken: AlreadyExists (events are append-only).
Error eventExists(const Uuid& id);

}  // namespace khive::storage
