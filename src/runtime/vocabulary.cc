#include "khive/runtime/vocabulary.h"

#include <fmt/format.h>

#include <algorithm>

#include "khive/core/error.h"
#include "khive/core/vocabulary.h"

namespace khive::runtime {
namespace {

void checkIdentifier(std::string_view what, const std::string& s) {
  bool ok = !s.empty() && s.size() <= 64 && s[0] >= 'a' && s[0] <= 'z';
  for (char c : s) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  if (!ok)
    throw Error(ErrorCode::InvalidInput, "vocabulary", "configure",
                fmt::format("vocabulary.{} entry '{}' must match [a-z][a-z0-9_]* (at most 64 characters)", what, s));
}

std::string joined(const std::set<std::string>& s) {
  std::string out;
  for (const auto& v : s) out += (out.empty() ? "" : ", ") + v;
  return out;
}

}  // namespace

Vocabulary::Vocabulary(const VocabularyConfig& add) {
  for (auto k : vocab::defaultEntityKinds()) entityKinds_.emplace(k);
  for (auto k : vocab::defaultNoteKinds()) noteKinds_.emplace(k);
  for (auto r : vocab::defaultRelations()) relations_.emplace(r);
  for (auto r : vocab::defaultSymmetricRelations()) symmetric_.emplace(r);
  for (const auto& k : add.entityKinds) checkIdentifier("entity_kinds", k), entityKinds_.insert(k);
  for (const auto& k : add.noteKinds) checkIdentifier("note_kinds", k), noteKinds_.insert(k);
  for (const auto& r : add.relations) {
    checkIdentifier("relations", r);
    if (relations_.insert(r).second) extraRelations_.push_back(r);
  }
  for (const auto& r : add.symmetricRelations) {
    checkIdentifier("symmetric_relations", r);
    if (vocab::isDefaultSymmetric(r)) continue;
    if (relations_.contains(r) && std::find(extraRelations_.begin(), extraRelations_.end(), r) == extraRelations_.end())
      throw Error(ErrorCode::InvalidInput, "vocabulary", "configure",
                  fmt::format("vocabulary.symmetric_relations: '{}' is a default directed relation and cannot become symmetric", r));
    if (relations_.insert(r).second) extraRelations_.push_back(r);
    if (symmetric_.insert(r).second) extraSymmetric_.push_back(r);
  }
}

void Vocabulary::checkEntityKind(std::string_view k) const {
  if (!isEntityKind(k))
    throw Error(ErrorCode::InvalidInput, "vocabulary", "validate",
                fmt::format("unknown entity kind '{}' (known: {})", k, joined(entityKinds_)));
}
void Vocabulary::checkNoteKind(std::string_view k) const {
  if (!isNoteKind(k))
    throw Error(ErrorCode::InvalidInput, "vocabulary", "validate",
                fmt::format("unknown note kind '{}' (known: {})", k, joined(noteKinds_)));
}
void Vocabulary::checkRelation(std::string_view r) const {
  if (!isRelation(r))
    throw Error(ErrorCode::InvalidInput, "vocabulary", "validate",
                fmt::format("unknown relation '{}' (known: {})", r, joined(relations_)));
}

}  // namespace khive::runtime
