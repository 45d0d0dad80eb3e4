#pragma once
// Read replicas (PostgresOptions::replicas): where a backend's reads go.
//
// Each replica is a hot standby streaming from the primary. It gets a pool of its own (a
// Database made from the primary's: same options, scope key and grant, no migrations, no
// write grouping), whose connections carry the same signed scope token set-up as the
// primary's. Nothing is written at connect time: the token's session binding, the
// search_path, the role and read-only mode are all session settings, which a standby takes.
//
// A read checkout (Database::acquire with readOnly, outside a unit of work) goes to a replica,
// round robin among the usable ones, and to the primary when none is usable:
//   - Read-your-writes. Every write checkout of the primary bumps a counter when it is handed
//     back, after its commit. A read that finds the counter moved since the last look asks
//     the primary for pg_current_wal_insert_lsn(), which is then at or past the commit of
//     every write counted. The read takes a replica only once that replica's
//     pg_last_wal_replay_lsn() has reached it, polling it for up to replicaWait; otherwise
//     it reads from the primary. A replica known to have replayed that far is taken at once;
//     one that did not get there in time is not waited for again, by reads that need as much
//     or more, until replicaRetry has passed.
//   - Health. A replica is probed (recovery, replay position, replay lag) on the checkout
//     that finds its last probe older than kProbeEvery. One that cannot be reached, whose
//     connection was lost, that is not in recovery (promoted: its positions are another
//     timeline's) or that lags more than replicaMaxLag is skipped until replicaRetry has passed.
//   - Primary down. When the primary cannot be reached for a read, any reachable replica
//     serves it, lag or not; read-your-writes then covers the writes whose position was
//     learnt before the primary went away. Writes fail with Error(Unavailable).
//
// Thread-safe: the replica states are guarded by mu_, the write counter is atomic, the
// replica pools are thread-safe themselves.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "khive/storage/backend.h"

namespace khive::postgres {

class Database;
class Lease;

class ReplicaRouter {
 public:
  // How often a replica in use is probed again.
  static constexpr std::chrono::milliseconds kProbeEvery{500};

  // Pools for primary.options().replicas (opened lazily, like the primary's). Error(InvalidInput)
  // for a replica URL libpq cannot parse.
  explicit ReplicaRouter(Database& primary);
  ~ReplicaRouter();
  ReplicaRouter(const ReplicaRouter&) = delete;
  ReplicaRouter& operator=(const ReplicaRouter&) = delete;

  // A read-only lease on a replica, or on the primary as described above.
  Lease acquireRead(std::string_view capability, std::string_view operation);
  // A write checkout of the primary was handed back (its transaction, if any, has ended).
  void noteWrite() noexcept { writes_.fetch_add(1, std::memory_order_acq_rel); }
  void setReadBudget(const storage::ReadBudget& budget);

  // Counts since open, for doctor and the tests.
  struct Stats {
    std::uint64_t replicaReads = 0;  // reads a replica served
    std::uint64_t primaryReads = 0;  // reads the primary served
    std::uint64_t waited = 0;        // replica reads that first waited for replay
    std::uint64_t fellBack = 0;      // reads sent to the primary because no replica had replayed in time
  };
  Stats stats() const;
  // The replicas skipped for now and why, for doctor ("replica 127.0.0.1:5433 skipped: ...").
  std::vector<std::string> problems() const;

 private:
  struct Replica;
  // The WAL position reads must see (0: none yet, or the primary is unreachable).
  std::uint64_t requiredLsn(std::string_view capability, std::string_view operation);
  // Probes the replica on `lease`; false when it is not usable (state updated, under mu_).
  bool probe(Replica& r, Lease& lease, std::string_view capability, std::string_view operation);
  void markDown(Replica& r, const std::string& why);
  Lease primaryRead(std::string_view capability, std::string_view operation);

  Database& primary_;
  std::chrono::milliseconds wait_, maxLag_, retry_;
  std::vector<std::unique_ptr<Replica>> replicas_;  // constant after construction

  std::atomic<std::uint64_t> writes_{0};
  mutable std::mutex mu_;
  std::uint64_t seenWrites_ = 0;                              // guarded by mu_: writes_ when required_ was learnt
  std::uint64_t required_ = 0;                                // guarded by mu_
  std::chrono::steady_clock::time_point primaryDownUntil_{};  // guarded by mu_
  std::size_t next_ = 0;                                      // guarded by mu_: round robin
  Stats stats_;                                               // guarded by mu_
};

}  // namespace khive::postgres
