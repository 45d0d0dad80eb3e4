#pragma once
// The vocabulary in force: the default "kg" vocabulary (docs/architecture.md) plus the
// additions of [vocabulary]. Immutable after construction: thread-safe.

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "khive/runtime/config.h"

namespace khive::runtime {

class Vocabulary {
 public:
  // Throws Error(InvalidInput) for an addition that is not a lower-case identifier
  // ([a-z][a-z0-9_]*, at most 64 characters).
  explicit Vocabulary(const VocabularyConfig& additions = {});

  bool isEntityKind(std::string_view k) const { return entityKinds_.contains(std::string(k)); }
  bool isNoteKind(std::string_view k) const { return noteKinds_.contains(std::string(k)); }
  bool isRelation(std::string_view r) const { return relations_.contains(std::string(r)); }
  bool isSymmetric(std::string_view r) const { return symmetric_.contains(std::string(r)); }

  const std::set<std::string>& entityKinds() const { return entityKinds_; }
  const std::set<std::string>& noteKinds() const { return noteKinds_; }
  const std::set<std::string>& relations() const { return relations_; }
  // Relations beyond the defaults (for the query compiler) and symmetric ones among them.
  const std::vector<std::string>& extraRelations() const { return extraRelations_; }
  const std::vector<std::string>& extraSymmetricRelations() const { return extraSymmetric_; }

  // Throw Error(InvalidInput) listing the allowed values.
  void checkEntityKind(std::string_view k) const;
  void checkNoteKind(std::string_view k) const;
  void checkRelation(std::string_view r) const;

 private:
  std::set<std::string> entityKinds_, noteKinds_, relations_, symmetric_;
  std::vector<std::string> extraRelations_, extraSymmetric_;
};

}  // namespace khive::runtime
