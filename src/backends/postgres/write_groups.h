#pragma once
// Write grouping: concurrent single-statement writes share one transaction and one commit.
//
// Every commit on PostgreSQL waits for its WAL flush. When many callers each write one row at
// once (an upsert, a link, an event), committing them one by one makes each wait for a flush
// of its own; run together, one flush serves them all. So while one group of statements is in
// flight the next callers queue, and when it commits the longest waiter leads the next group:
// it waits up to kFillWait for the last group's callers to queue again, then runs every queued
// statement (up to kMaxGroup) in one transaction and one round trip (Conn::execTransaction).
// Consecutive statements of a group that share a multi-row form (MergedForm) run as one
// execution of it; a row whose key is already in that execution starts the next one.
//
// What each caller sees is what a statement of its own would give: it returns once its
// statement is committed, with its own result. When a statement of a group fails, the group
// is rolled back and each statement runs again on its own, so a caller sees its own error and
// no other's. A lost connection or an exhausted pool fails every statement of the group.
// A lone caller runs its statement at once in autocommit, and so does a second one arriving
// while a lone statement runs and nobody queues (two writers do not wait for each other).
// A group held up (a row lock, a slow statement) does not hold up the rest: a statement queued
// for kGroupWait starts one more group on another connection.
//
// PostgresOptions::groupWrites (khive.toml [[backends]] group_writes) turns it off: then
// Database::writeStatement runs each statement on its own.
//
// Thread-safe: the queue and the group counts are guarded by mu_.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <span>
#include <string_view>
#include <vector>

#include "backends/postgres/pg_conn.h"

namespace khive::postgres {

class Database;

class WriteGroups {
 public:
  // The most statements in one group.
  static constexpr std::size_t kMaxGroup = 64;
  // A statement queued this long while the groups in flight are held up starts one more group.
  static constexpr std::chrono::milliseconds kGroupWait{20};
  // How long a group's leader waits for the writers of the last group to queue again, so that
  // concurrent writers share one commit instead of alternating in two half-size groups.
  static constexpr std::chrono::microseconds kFillWait{150};

  // Groups run on connections of `db` (Database::acquire); a statement run on its own goes
  // through Database::run, with its retries.
  explicit WriteGroups(Database& db) : db_(db) {}
  WriteGroups(const WriteGroups&) = delete;
  WriteGroups& operator=(const WriteGroups&) = delete;

  // Runs the statement in a group with the statements of concurrent callers and returns its
  // result once committed (or throws its own error). `merged`: its multi-row form, if any.
  Result run(std::string_view capability, std::string_view operation, std::string_view sql, const Params& params,
             const MergedForm* merged);
  // Element n: the groups of n statements run so far (index 0 unused).
  std::vector<std::uint64_t> groupSizes();

 private:
  struct Pending;
  void runGroup(std::span<Pending* const> group) noexcept;

  Database& db_;
  // Groups in flight at once (besides the lone-writer exception above). One: with two, the
  // writers split into smaller groups whose commits overlap poorly, which is no faster and
  // costs more CPU on a small server.
  static constexpr int kConcurrency = 1;
  std::mutex mu_;
  std::deque<Pending*> queue_;  // guarded by mu_: statements waiting for a group
  int groups_ = 0;              // guarded by mu_: groups in flight
  // Guarded by mu_: callers in or queued behind the last group when it ended; the leader
  // waiting for the queue to reach fillTarget_ (kFillWait), if any.
  std::size_t expectWriters_ = 0;
  std::size_t fillTarget_ = 0;
  Pending* filling_ = nullptr;
  int lone_ = 0;  // guarded by mu_: groups in flight of one statement
  std::array<std::uint64_t, kMaxGroup + 1> sizes_{};  // guarded by mu_: groups run, by size
};

}  // namespace khive::postgres
