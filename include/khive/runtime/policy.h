#pragma once
// The policy layer of a Runtime: who the caller is, what it may see and what it may write,
// and what a valid record is (docs/architecture.md, "How a verb flows").
//
// - Read scope: readNamespaces() is the caller's visible namespaces plus its write namespace.
//   Every id lookup of every verb goes through the scoped lookups below: a record outside the
//   scope is NotFound with the message a missing record gets.
// - Grants: checkGrant() is the write rule (Error(PermissionDenied) naming actor, verb and
//   namespace).
// - Validation: vocabulary, endpoint rules, ranges, and every text field and JSON value against
//   the [limits] of khive.toml (Error(InvalidInput) naming the field and the [limits] key).
//
// Thread-safe: immutable after construction; the lookups read through the backend, which is
// thread-safe.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "khive/runtime/runtime.h"

namespace khive::runtime {

class Policy {
 public:
  // Throws Error(InvalidInput) for a bad namespace or vocabulary. writeNamespace: nullopt =
  // [actor].namespace. The backend must outlive the policy.
  Policy(storage::Backend& backend, const Config& config, const std::optional<std::string>& writeNamespace);
  Policy(const Policy&) = delete;
  Policy& operator=(const Policy&) = delete;

  const std::string& actor() const noexcept { return actor_; }
  const std::string& writeNamespace() const noexcept { return writeNs_; }
  const std::vector<std::string>& readNamespaces() const noexcept { return readNs_; }
  const Vocabulary& vocabulary() const noexcept { return vocabulary_; }
  const Limits& limits() const noexcept { return limits_; }

  // True when records of `ns` are visible to the caller (ns is in readNamespaces()).
  bool inReadScope(std::string_view ns) const noexcept;
  // The write rule. Without [[grants]] a write is allowed in the namespaces of the read scope;
  // with grants, one must match (actor, verb, namespace). Otherwise throws
  // Error(PermissionDenied) naming the actor, the verb and the namespace.
  void checkGrant(std::string_view verb, std::string_view ns) const;

  // Validation used by the verbs and by import (throw Error(InvalidInput)).
  void validateEntity(const Entity& e) const;
  void validateNote(const Note& n) const;
  // An imported event's fields (events the verbs append are khive's own).
  void validateEvent(const Event& e) const;
  // Endpoint rules need the substrate of each endpoint ("entity" or "note"; "" for none).
  void validateEdge(const Edge& e, std::string_view sourceType, std::string_view targetType) const;

  // ---- lookups scoped to the caller ----

  // Resolves a full UUID or a unique prefix of >= 8 hex characters among the entities, notes
  // and edges of the read scope, then (when none matches) its events. NotFound when nothing
  // matches, InvalidInput when the prefix is too short or ambiguous (the message names visible
  // ids only). A full UUID is returned as given: the verb that uses it applies the scope.
  Uuid resolveId(std::string_view text) const;
  // The substrate of a live entity or note of the read scope ("entity", "note"), or "".
  std::string substrateOf(const Uuid& id) const;
  // Summaries of many nodes in batched reads; a node outside the scope (or not a live entity
  // or note) is of type "missing".
  std::vector<NodeSummary> summarize(const std::vector<Uuid>& ids) const;
  // NotFound ("no live entity or note") unless every id is a live entity or note in the scope.
  void requireVisibleNodes(std::string_view op, const std::vector<Uuid>& ids) const;
  // The namespace of a stored edge, soft-deleted ones included (getEdge returns live ones);
  // not scoped: the caller compares it with the scope.
  std::optional<std::string> storedEdgeNamespace(const Uuid& id) const;

 private:
  // Constant after construction.
  storage::Backend& backend_;
  std::string actor_;
  std::vector<Grant> grants_;
  Limits limits_;
  Vocabulary vocabulary_;
  std::string writeNs_;
  std::vector<std::string> readNs_;
};

}  // namespace khive::runtime
