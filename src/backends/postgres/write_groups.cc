#include "backends/postgres/write_groups.h"

#include <semaphore.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <exception>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "backends/postgres/database.h"

namespace khive::postgres {

// One caller's statement while it waits for a group. Its caller blocks on `ready` until the
// leader that ran it posts (result or error set, done), or until it is handed a group slot
// (taken off the queue, done unset). Exactly one post reaches each waiter, after which no
// other thread touches it.
struct WriteGroups::Pending {
  Pending(std::string_view cap, std::string_view op, std::string_view text, const Params& p, const MergedForm* form)
      : capability(cap), operation(op), sql(text), params(&p), merged(form && p.allText() ? form : nullptr) {
    ::sem_init(&ready, 0, 0);
  }
  Pending(const Pending&) = delete;
  Pending& operator=(const Pending&) = delete;
  ~Pending() { ::sem_destroy(&ready); }
  void post() { ::sem_post(&ready); }
  void wait() {
    while (::sem_wait(&ready) != 0 && errno == EINTR) {
    }
  }
  // False when `d` passed without a post (measured on the monotonic clock).
  bool waitFor(std::chrono::microseconds d) {
    timespec deadline{};
    ::clock_gettime(CLOCK_MONOTONIC, &deadline);
    const auto ns = deadline.tv_nsec + std::chrono::nanoseconds(d).count();
    deadline.tv_sec += static_cast<time_t>(ns / 1000000000);
    deadline.tv_nsec = static_cast<long>(ns % 1000000000);
    for (;;) {
      if (::sem_clockwait(&ready, CLOCK_MONOTONIC, &deadline) == 0) return true;
      if (errno != EINTR) return false;
    }
  }

  std::string_view capability, operation, sql;
  const Params* params;
  const MergedForm* merged;
  std::optional<Result> result;
  std::exception_ptr error;
  bool done = false;
  sem_t ready;
};

Result WriteGroups::run(std::string_view capability, std::string_view operation, std::string_view sql,
                        const Params& params, const MergedForm* merged) {
  Pending me(capability, operation, sql, params, merged);
  std::unique_lock lock(mu_);
  // A free slot, or two lone writers: one statement runs alone and nobody queues, so this
  // one runs alongside it rather than wait for a commit it cannot share.
  if ((groups_ < kConcurrency || (groups_ == 1 && lone_ == 1 && queue_.empty())) && !filling_) {
    ++groups_;
  } else {
    queue_.push_back(&me);
    if (filling_ && queue_.size() + 1 >= fillTarget_) {  // the group it fills is full
      filling_->post();
      filling_ = nullptr;
    }
    lock.unlock();
    // The semaphore orders the leader's writes to `me` before the reads below.
    if (!me.waitFor(kGroupWait)) {
      lock.lock();
      if (auto it = std::find(queue_.begin(), queue_.end(), &me); it != queue_.end()) {
        // The groups in flight are held up (a row lock, a slow statement): lead one more.
        queue_.erase(it);
        ++groups_;
      } else {
        lock.unlock();  // taken into a group, or handed a slot: its post is coming
        me.wait();
      }
    }
    if (me.done) {
      if (lock.owns_lock()) lock.unlock();
      if (me.error) std::rethrow_exception(me.error);
      return std::move(*me.result);
    }
    if (!lock.owns_lock()) lock.lock();  // handed a slot
  }
  // The callers of the last group (and those it left queued) are likely to write again at
  // once: wait up to kFillWait for them to queue, so that they join this group instead of
  // the next one (one commit for all of them, not one per half). A caller writing alone
  // never waits: its last group was itself.
  if (expectWriters_ > queue_.size() + 1) {
    fillTarget_ = expectWriters_;
    filling_ = &me;
    lock.unlock();
    me.waitFor(kFillWait);
    lock.lock();
    filling_ = nullptr;
  }
  // Lead one group: this statement and the longest-waiting others.
  // (No allocation between taking waiters off the queue and posting them.)
  std::array<Pending*, kMaxGroup> slots{&me};
  const std::size_t n = std::min(queue_.size(), kMaxGroup - 1);
  std::copy_n(queue_.begin(), n, slots.begin() + 1);
  queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
  if (n == 0) ++lone_;
  lock.unlock();
  const std::span<Pending* const> group(slots.data(), n + 1);
  runGroup(group);
  // The slot passes to the longest waiter (so the next group starts before this one's
  // callers are woken), or frees up once nobody waits (an extra slot, too).
  lock.lock();
  expectWriters_ = group.size() + queue_.size();  // writers active just now
  ++sizes_[group.size()];
  if (n == 0) --lone_;
  Pending* next = nullptr;
  if (!queue_.empty()) {
    next = queue_.front();
    queue_.pop_front();
  } else {
    --groups_;
  }
  lock.unlock();
  if (next) next->post();
  for (std::size_t i = 1; i < group.size(); ++i) {
    group[i]->done = true;
    group[i]->post();
  }
  if (me.error) std::rethrow_exception(me.error);
  return std::move(*me.result);
}

std::vector<std::uint64_t> WriteGroups::groupSizes() {
  std::lock_guard lock(mu_);
  return {sizes_.begin(), sizes_.end()};
}

void WriteGroups::runGroup(std::span<Pending* const> group) noexcept {
  auto alone = [this](Pending& w) {
    try {
      w.result =
          db_.run(w.capability, w.operation, [&](Conn& c) { return c.exec(w.sql, *w.params, w.capability, w.operation); });
    } catch (...) {
      w.error = std::current_exception();
    }
  };
  if (group.size() == 1) return alone(*group.front());
  const Pending& first = *group.front();
  try {
    // Runs of consecutive statements with the same multi-row form become one statement each.
    // A row whose key is already in the run starts the next one: one statement cannot
    // upsert a row twice.
    struct Part {
      std::size_t begin, end;
      Params columns;
    };
    // A row's key: the values of its form's key parameters, as bound (never NULL: ids and
    // natural keys are validated before binding).
    auto keyOf = [](const Pending& w) {
      std::vector<std::string_view> key;
      for (int param : w.merged->keyParams) key.emplace_back(w.params->at(static_cast<std::size_t>(param)).value());
      return key;
    };
    std::vector<Part> parts;
    std::set<std::vector<std::string_view>> keys;
    for (std::size_t i = 0; i < group.size();) {
      std::size_t j = i + 1;
      const MergedForm* form = group[i]->merged;
      if (form) {
        keys = {keyOf(*group[i])};
        while (j < group.size() && group[j]->merged == form && group[j]->sql == group[i]->sql &&
               keys.insert(keyOf(*group[j])).second) {
          ++j;
        }
      }
      parts.push_back({i, j, {}});
      if (j - i >= 2) {
        std::vector<const Params*> rows;
        for (std::size_t k = i; k < j; ++k) rows.push_back(group[k]->params);
        parts.back().columns = Params::columns(rows);
      }
      i = j;
    }
    auto lease = db_.acquire(first.capability, first.operation);
    std::vector<Statement> statements;
    statements.reserve(parts.size());
    for (const Part& part : parts) {
      const Pending& w = *group[part.begin];
      if (part.end - part.begin >= 2) {
        statements.push_back({w.merged->sql, &part.columns});
      } else {
        statements.push_back({w.sql, w.params});
      }
    }
    try {
      auto results = lease.conn().execTransaction(statements, first.capability, first.operation);
      for (std::size_t p = 0; p < parts.size(); ++p) {
        const Part& part = parts[p];
        if (part.end - part.begin < 2) {
          group[part.begin]->result = std::move(results[p]);
          continue;
        }
        for (std::size_t k = part.begin; k < part.end; ++k) {
          group[k]->result = projectRow(results[p], keyOf(*group[k]));
        }
      }
      return;
    } catch (const Error&) {
      // Rolled back by the server. Unless the connection is gone (then whether the commit
      // landed is unknown, as for a single statement), each statement runs on its own below.
      if (!lease.conn().ok()) throw;
    }
  } catch (...) {
    for (Pending* w : group) w->error = std::current_exception();
    return;
  }
  for (Pending* w : group) alone(*w);
}

}  // namespace khive::postgres
