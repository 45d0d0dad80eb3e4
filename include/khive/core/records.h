#pragma once
// The four record types of the data model (docs/architecture.md). Plain value types:
// thread-compatible, freely copyable.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "khive/core/clock.h"
#include "khive/core/json.h"
#include "khive/core/uuid.h"

namespace khive {

struct Entity {
  Uuid id;
  std::string ns;  // namespace
  std::string kind;
  std::optional<std::string> entityType;
  std::string name;
  std::optional<std::string> description;
  Json properties = Json::object();
  std::vector<std::string> tags;
  Micros createdAt = 0;  // 0 on write: the store sets it
  Micros updatedAt = 0;  // 0 on write: the store sets it
  std::optional<Micros> deletedAt;
  std::optional<Uuid> mergedInto;
  std::optional<Uuid> mergeEventId;

  bool operator==(const Entity&) const = default;
};

enum class NoteStatus { Active, Archived };
std::string_view noteStatusName(NoteStatus s) noexcept;
// Throws Error(InvalidInput) for anything but "active" or "archived".
NoteStatus parseNoteStatus(std::string_view s);

struct Note {
  Uuid id;
  std::string ns;
  std::string kind;
  NoteStatus status = NoteStatus::Active;
  std::optional<std::string> name;
  std::string content;
  std::optional<double> salience;     // in [0, 1]
  std::optional<double> decayFactor;  // >= 0
  std::optional<Micros> expiresAt;
  Json properties = Json::object();
  Micros createdAt = 0;
  Micros updatedAt = 0;
  std::optional<Micros> deletedAt;

  bool operator==(const Note&) const = default;
};

struct Edge {
  Uuid id;
  std::string ns;
  Uuid sourceId;
  Uuid targetId;
  std::string relation;
  double weight = 1.0;  // in [0, 1]
  Json metadata = Json::object();
  Micros createdAt = 0;
  Micros updatedAt = 0;
  std::optional<Micros> deletedAt;

  bool operator==(const Edge&) const = default;
};

enum class Substrate { Entity, Note, Event };
std::string_view substrateName(Substrate s) noexcept;
Substrate parseSubstrate(std::string_view s);

enum class Outcome { Success, Denied, Error };
std::string_view outcomeName(Outcome o) noexcept;
Outcome parseOutcome(std::string_view s);

// Append-only: there is no update or delete of an event.
struct Event {
  Uuid id;
  std::string ns;
  std::string verb;
  Substrate substrate = Substrate::Entity;
  std::string actor;
  std::string kind;
  Outcome outcome = Outcome::Success;
  Json payload = Json::object();
  std::int64_t durationUs = 0;
  std::optional<Uuid> targetId;
  std::optional<std::string> sessionId;
  Micros createdAt = 0;

  bool operator==(const Event&) const = default;
};

}  // namespace khive
