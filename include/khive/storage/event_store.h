#pragma once
// EventStore: the append-only event log.

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "khive/core/records.h"
#include "khive/storage/types.h"

namespace khive::storage {

struct EventFilter {
  std::vector<std::string> namespaces;  // required
  std::vector<std::string> kinds;
  std::vector<std::string> verbs;
  std::vector<std::string> actors;
  std::optional<Substrate> substrate;
  std::optional<Uuid> targetId;
  std::optional<std::string> sessionId;
  std::optional<Micros> createdAfter;   // inclusive
  std::optional<Micros> createdBefore;  // exclusive
  SortOrder order = SortOrder::Asc;     // by (created_at, id)
};

// Thread-safe. There is no update or delete; the engine refuses both even through raw SQL.
class EventStore {
 public:
  virtual ~EventStore() = default;
  // AlreadyExists when the id is taken. Sets created_at when 0. Returns the stored event.
  virtual Event appendEvent(const Event& event) = 0;
  virtual BatchWriteSummary appendEvents(std::span<const Event> events) = 0;
  virtual std::optional<Event> getEvent(const Uuid& id) = 0;
  virtual Page<Event> queryEvents(const EventFilter& filter, const PageRequest& page = {}) = 0;
  virtual std::int64_t countEvents(const EventFilter& filter) = 0;
};

}  // namespace khive::storage
