#include "khive/core/records.h"

#include <array>
#include <string>

#include "khive/core/error.h"
#include "khive/core/vocabulary.h"

namespace khive {

namespace {
// The names of an enum's values, in the order of its enumerators.
constexpr std::array<std::string_view, 2> kNoteStatusNames{"active", "archived"};
constexpr std::array<std::string_view, 3> kSubstrateNames{"entity", "note", "event"};
constexpr std::array<std::string_view, 3> kOutcomeNames{"success", "denied", "error"};

// The name of `value` (the first name for a value outside the enum).
template <class E, std::size_t N>
std::string_view nameOf(E value, const std::array<std::string_view, N>& names) noexcept {
  const auto i = static_cast<std::size_t>(value);
  return i < N ? names[i] : names[0];
}

// The value named `s`; InvalidInput listing the names otherwise.
template <class E, std::size_t N>
E parseName(std::string_view s, const std::array<std::string_view, N>& names, std::string_view what,
            std::string_view operation) {
  std::string all;
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == s) return static_cast<E>(i);
    all += (i ? ", " : "") + std::string(names[i]);
  }
  throw Error(ErrorCode::InvalidInput, "core", std::string(operation),
              std::string(what) + " '" + std::string(s) + "' is not one of: " + all);
}
}  // namespace

std::string_view noteStatusName(NoteStatus s) noexcept {
  return nameOf(s, kNoteStatusNames);
}

NoteStatus parseNoteStatus(std::string_view s) {
  return parseName<NoteStatus>(s, kNoteStatusNames, "note status", "parse_note_status");
}

std::string_view substrateName(Substrate s) noexcept {
  return nameOf(s, kSubstrateNames);
}

Substrate parseSubstrate(std::string_view s) {
  return parseName<Substrate>(s, kSubstrateNames, "substrate", "parse_substrate");
}

std::string_view outcomeName(Outcome o) noexcept {
  return nameOf(o, kOutcomeNames);
}

Outcome parseOutcome(std::string_view s) {
  return parseName<Outcome>(s, kOutcomeNames, "outcome", "parse_outcome");
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
