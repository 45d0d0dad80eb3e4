#pragma once
// ThreadUnit: the part of a backend's unit of work (unit_of_work.h) every engine shares.

#include "khive/core/error.h"
#include "khive/storage/unit_of_work.h"

namespace khive::storage {

// What every backend's unit of work shares: while open it is the unit of its thread for its
// database `Db` (ThreadUnits), found through current(); close() ends that. `Unit` is the
// backend's class deriving from this one. Not thread-safe, like every unit.
template <class Unit, class Db>
class ThreadUnit : public UnitOfWork {
 public:
  // The unit open on this thread for `db`, or null.
  static Unit* current(const Db& db) { return static_cast<Unit*>(ThreadUnits<ThreadUnit>::current(&db)); }

 protected:
  // Error(Transaction) when a unit is already open on this thread for `db`.
  explicit ThreadUnit(Db& db) : db_(db) { ThreadUnits<ThreadUnit>::enter(&db, this); }
  // Whether the unit is still the thread's (neither committed nor rolled back).
  bool isOpen() const noexcept { return open_; }
  // Error(Transaction) unless isOpen(): a unit commits once.
  void requireOpen() const {
    if (!open_) {
      throw Error(ErrorCode::Transaction, "unit", "commit",
                  "the unit of work is no longer open (already committed or rolled back)");
    }
  }
  // Stops being the thread's unit; idempotent.
  void close() noexcept {
    if (!open_) return;
    open_ = false;
    ThreadUnits<ThreadUnit>::leave(this);
  }

  Db& db_;

 private:
  bool open_ = true;
};

}  // namespace khive::storage
