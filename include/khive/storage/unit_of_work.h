#pragma once
// A unit of work: one transaction that spans every capability of a backend (entities, notes,
// graph, events, vectors, sparse, text), so a verb's record, text document, vectors and audit
// event commit together or not at all.

#include <utility>
#include <vector>

#include "khive/core/error.h"

namespace khive::storage {

// Begun with Backend::beginWork() on one thread. While it is open, every store call of that
// backend made from that thread runs inside it: writes join its transaction and reads see its
// writes. Store calls from other threads are not part of it (on SQLite they wait for the
// single writer until it ends).
//
// The transaction begins at the first store call that writes, so reads and slow work before
// it (an embedding request) hold no lock and no connection. A store call that throws inside
// the unit may leave part of its work in the transaction: end the unit without committing.
// Where the backend can tell, commit() refuses with Error(Transaction) and writes nothing
// (SQLite: a store's write transaction ended uncommitted; PostgreSQL: a failed statement
// aborted the transaction).
// Derived state outside the database (SQLite's in-memory vector index) only ever takes in
// committed rows, so a rolled-back unit leaves no trace there.
//
// Not thread-safe: begin, use, commit and destroy it on one thread. One unit per backend and
// thread at a time: beginWork() while one is open on the thread is Error(Transaction).
class UnitOfWork {
 public:
  virtual ~UnitOfWork() = default;  // rolls back when not committed
  UnitOfWork() = default;
  UnitOfWork(const UnitOfWork&) = delete;
  UnitOfWork& operator=(const UnitOfWork&) = delete;

  // Commits everything written inside the unit (nothing to do when nothing was written).
  // Afterwards store calls on this thread run on their own again.
  virtual void commit() = 0;
  // Discards everything written inside the unit; idempotent.
  virtual void rollback() = 0;
};

// The units of work open on the calling thread, at most one per owner (a backend's database).
// A backend's unit enters itself when it is made and leaves when it ends; store calls find the
// unit of their thread through current(). The list is thread_local, so each thread sees only
// its own units.
template <class Unit>
class ThreadUnits {
 public:
  // Registers `unit` for `owner`. Error(Transaction) when this thread has one open for it.
  static void enter(const void* owner, Unit* unit) {
    if (current(owner)) {
      throw Error(ErrorCode::Transaction, "unit", "begin",
                  "a unit of work is already open on this thread for this database; commit or end it first");
    }
    units().emplace_back(owner, unit);
  }
  static void leave(const Unit* unit) noexcept {
    auto& list = units();
    std::erase_if(list, [unit](const auto& e) { return e.second == unit; });
  }
  // The unit open on this thread for `owner`, or null.
  static Unit* current(const void* owner) noexcept {
    for (const auto& [o, u] : units())
      if (o == owner) return u;
    return nullptr;
  }

 private:
  static std::vector<std::pair<const void*, Unit*>>& units() noexcept {
    thread_local std::vector<std::pair<const void*, Unit*>> list;
    return list;
  }
};

}  // namespace khive::storage
