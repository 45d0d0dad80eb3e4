// The write verbs of a Runtime (private to src/runtime): create, update, delete, merge, link.
// Each runs in AuditLog::write (one unit of work with its event), checks the caller's grant
// and validates through the Policy, and writes the record's text document and vector through
// Indexing. Runtime's comments say what each verb does.
//
// Thread-safe: constant after construction; the units it uses are thread-safe.
#pragma once

#include "khive/runtime/runtime.h"

namespace khive::runtime {

class AuditLog;
class Indexing;
class Policy;

class RecordWrites {
 public:
  // Every argument must outlive this object.
  RecordWrites(storage::Backend& backend, const Policy& policy, const AuditLog& audit, Indexing& indexing)
      : backend_(backend), policy_(policy), audit_(audit), indexing_(indexing) {}
  RecordWrites(const RecordWrites&) = delete;
  RecordWrites& operator=(const RecordWrites&) = delete;

  Entity createEntity(const EntityInput& in);
  Note createNote(const NoteInput& in);
  Record update(const Uuid& id, const RecordPatch& patch);
  Record remove(const Uuid& id, bool hard);
  Entity merge(const Uuid& loser, const Uuid& winner);
  Edge link(const LinkInput& in);

 private:
  // Creates `record` (an Entity or a Note) with the caller's id or a new one, in the write
  // namespace.
  template <class R>
  R create(const R& record, const std::optional<Uuid>& id);
  // Writes `patch` over `record` (an Entity or a Note, as stored) where the caller may update.
  template <class R>
  R rewrite(R record, const RecordPatch& patch);

  // Constant after construction.
  storage::Backend& backend_;
  const Policy& policy_;
  const AuditLog& audit_;
  Indexing& indexing_;
};

}  // namespace khive::runtime
