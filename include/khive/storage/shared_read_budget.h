#pragma once
// SharedReadBudget: the read budget (sql_access.h) a backend's database holds.

#include <mutex>

#include "khive/storage/sql_access.h"

namespace khive::storage {

// The read budget a backend's database holds: set by one thread while others read it for the
// statements they start. Thread-safe.
class SharedReadBudget {
 public:
  void set(const ReadBudget& budget) {
    std::lock_guard lock(mu_);
    budget_ = budget;
  }
  ReadBudget get() const {
    std::lock_guard lock(mu_);
    return budget_;
  }

 private:
  mutable std::mutex mu_;
  ReadBudget budget_;  // guarded by mu_
};

}  // namespace khive::storage
