#include "khive/core/records.h"

#include <array>
#include <string>

#include "khive/core/error.h"
#include "khive/core/vocabulary.h"

namespace khive {

std::string_view noteStatusName(NoteStatus s) noexcept {
  return s == NoteStatus::Active ? "active" : "archived";
}

NoteStatus parseNoteStatus(std::string_view s) {
  if (s == "active") return NoteStatus::Active;
  if (s == "archived") return NoteStatus::Archived;
  throw Error(ErrorCode::InvalidInput, "core", "parse_note_status",
              "note status '" + std::string(s) + "' is not one of: active, archived");
}

std::string_view substrateName(Substrate s) noexcept {
  switch (s) {
    case Substrate::Entity: return "entity";
    case Substrate::Note: return "note";
    case Substrate::Event: return "event";
  }
  return "entity";
}

Substrate parseSubstrate(std::string_view s) {
  if (s == "entity") return Substrate::Entity;
  if (s == "note") return Substrate::Note;
  if (s == "event") return Substrate::Event;
  throw Error(ErrorCode::InvalidInput, "core", "parse_substrate",
              "substrate '" + std::string(s) + "' is not one of: entity, note, event");
}

std::string_view outcomeName(Outcome o) noexcept {
  switch (o) {
    case Outcome::Success: return "success";
    case Outcome::Denied: return "denied";
    case Outcome::Error: return "error";
  }
  return "success";
}

Outcome parseOutcome(std::string_view s) {
  if (s == "success") return Outcome::Success;
  if (s == "denied") return Outcome::Denied;
  if (s == "error") return Outcome::Error;
  throw Error(ErrorCode::InvalidInput, "core", "parse_outcome",
              "outcome '" + std::string(s) + "' is not one of: success, denied, error");
}

namespace vocab {
namespace {
constexpr std::array<std::string_view, 9> kEntityKinds{
    "concept", "document", "dataset", "project", "person", "org", "artifact", "service", "resource"};
constexpr std::array<std::string_view, 5> kNoteKinds{"observation", "insight", "question", "decision",
                                                     "reference"};
constexpr std::array<std::string_view, 17> kRelations{
    "contains",    "part_of",    "instance_of",   "extends",       "variant_of", "introduced_by",
    "supersedes",  "derived_from", "precedes",    "depends_on",    "enables",    "implements",
    "competes_with", "composed_with", "annotates", "supports",     "refutes"};
constexpr std::array<std::string_view, 2> kSymmetric{"competes_with", "composed_with"};
}  // namespace

std::span<const std::string_view> defaultEntityKinds() noexcept { return kEntityKinds; }
std::span<const std::string_view> defaultNoteKinds() noexcept { return kNoteKinds; }
std::span<const std::string_view> defaultRelations() noexcept { return kRelations; }
std::span<const std::string_view> defaultSymmetricRelations() noexcept { return kSymmetric; }
bool isDefaultSymmetric(std::string_view relation) noexcept {
  for (auto r : kSymmetric)
    if (r == relation) return true;
  return false;
}
}  // namespace vocab

}  // namespace khive
