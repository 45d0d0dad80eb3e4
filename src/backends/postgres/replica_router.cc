#include "backends/postgres/replica_router.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <thread>

#include "backends/postgres/database.h"

namespace khive::postgres {

namespace {
using SteadyClock = std::chrono::steady_clock;
constexpr std::string_view kCap = "sql";
// A replica that does not answer a connection attempt within this many seconds is down
// (libpq's connect_timeout, unless the URL sets its own).
constexpr std::string_view kConnectTimeoutSeconds = "2";

// `url` as libpq keywords, with connect_timeout added when it has none, and its host:port for
// messages. Error(InvalidInput) when libpq cannot parse it.
std::pair<std::string, std::string> replicaConninfo(const std::string& url) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(url.c_str(), &err);
  if (!opts) {
    std::string msg = err ? err : "unparsable connection string";
    if (err) PQfreemem(err);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    throw Error(ErrorCode::InvalidInput, std::string(kCap), "open",
                fmt::format("bad PostgreSQL replica connection string (backends.replicas): {}", msg));
  }
  std::string out, host, port;
  bool timeout = false;
  for (auto* o = opts; o->keyword; ++o) {
    if (!o->val) continue;
    const std::string_view k = o->keyword;
    if (k == "connect_timeout") timeout = true;
    if (k == "host") host = o->val;
    if (k == "port") port = o->val;
    out += fmt::format("{}={} ", o->keyword, quoteLiteral(o->val));
  }
  PQconninfoFree(opts);
  if (!timeout) out += fmt::format("connect_timeout={}", kConnectTimeoutSeconds);
  return {out, fmt::format("{}:{}", host.empty() ? "localhost" : host, port.empty() ? "5432" : port)};
}

std::string lsnText(std::uint64_t lsn) {
  return fmt::format("{:X}/{:X}", lsn >> 32, lsn & 0xffffffffu);
}
}  // namespace

struct ReplicaRouter::Replica {
  std::string name;  // host:port
  std::unique_ptr<Database> db;
  // Guarded by the router's mu_.
  std::uint64_t replayed = 0;             // pg_last_wal_replay_lsn() at the last probe
  SteadyClock::time_point probedAt{};     // never, at first
  SteadyClock::time_point downUntil{};    // skipped until then
  std::uint64_t behindLsn = 0;            // a read waited for this position in vain ...
  SteadyClock::time_point behindUntil{};  // ... so reads needing it skip the replica until then
  std::uint64_t lostSeen = 0;             // db->lostConnections() when last looked at
  std::string state = "not used yet";
};

ReplicaRouter::ReplicaRouter(Database& primary)
    : primary_(primary),
      wait_(primary.options().replicaWait),
      maxLag_(primary.options().replicaMaxLag),
      retry_(primary.options().replicaRetry) {
  if (wait_.count() < 0 || maxLag_.count() < 0 || retry_.count() < 0) {
    throw Error(ErrorCode::InvalidInput, std::string(kCap), "open",
                "replica wait, max lag and retry times must be >= 0 ms");
  }
  for (const auto& url : primary.options().replicas) {
    auto r = std::make_unique<Replica>();
    auto [conninfo, name] = replicaConninfo(url);
    r->name = std::move(name);
    r->db = std::unique_ptr<Database>(new Database(primary, conninfo));
    replicas_.push_back(std::move(r));
  }
  // The migrations that just ran on the primary are writes too: the first read waits for a
  // replica to have them.
  writes_ = 1;
}

ReplicaRouter::~ReplicaRouter() = default;

void ReplicaRouter::setReadBudget(const storage::ReadBudget& budget) {
  for (auto& r : replicas_) r->db->setReadBudget(budget);
}

std::uint64_t ReplicaRouter::requiredLsn(std::string_view capability, std::string_view operation) {
  const std::uint64_t writes = writes_.load(std::memory_order_acquire);
  {
    std::lock_guard lock(mu_);
    if (writes == seenWrites_) return required_;
    if (SteadyClock::now() < primaryDownUntil_) return required_;
  }
  // Read after `writes` was loaded: at or past the commit of every write it counts.
  std::uint64_t lsn = 0;
  try {
    auto lease = primary_.acquirePooled(capability, operation, true);
    // The insert position is where the next record starts: just past a page header when the
    // last record ended at a page boundary, where a standby's replay position stops. Minus
    // that header, it is the end of the last record either way.
    lsn = static_cast<std::uint64_t>(
        lease.conn()
            .exec("SELECT CASE WHEN l % s = 40 THEN l - 40 WHEN l % b = 24 THEN l - 24 ELSE l END FROM (SELECT "
                  "(pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::int8 AS l, "
                  "current_setting('wal_block_size')::int8 AS b, "
                  "pg_size_bytes(current_setting('wal_segment_size')) AS s) AS x",
                  {}, capability, operation)
            .getInt(0, 0));
  } catch (const Error& e) {
    if (e.code() != ErrorCode::Unavailable) throw;
    // The primary is gone: the replicas hold all of its writes they will ever get.
    std::lock_guard lock(mu_);
    primaryDownUntil_ = SteadyClock::now() + retry_;
    return required_;
  }
  std::lock_guard lock(mu_);
  seenWrites_ = std::max(seenWrites_, writes);
  required_ = std::max(required_, lsn);
  return required_;
}

void ReplicaRouter::markDown(Replica& r, const std::string& why) {
  // Under mu_.
  r.downUntil = SteadyClock::now() + retry_;
  r.probedAt = {};
  r.state = why;
}

bool ReplicaRouter::probe(Replica& r, Lease& lease, std::string_view capability, std::string_view operation) {
  // Replay lag: nothing received is left to replay, or else the age of the last transaction
  // replayed (what a reader of this replica is missing at most).
  auto res = lease.conn().exec(
      "SELECT pg_is_in_recovery(), coalesce((pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::int8, 0), "
      "CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0 "
      "ELSE coalesce((extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()) * 1000)::int8, 0) END",
      {}, capability, operation);
  const bool recovering = res.getBool(0, 0);
  const auto replayed = static_cast<std::uint64_t>(res.getInt(0, 1));
  const std::int64_t lagMs = res.getInt(0, 2);
  std::lock_guard lock(mu_);
  r.probedAt = SteadyClock::now();
  r.replayed = replayed;
  if (!recovering) {
    markDown(r, "not in recovery (promoted or not a standby): not used as a replica");
    return false;
  }
  if (lagMs > maxLag_.count()) {
    markDown(r, fmt::format("replay lags {} ms, more than replica_max_lag_ms ({})", lagMs, maxLag_.count()));
    return false;
  }
  r.state = fmt::format("ok, replayed {}", lsnText(replayed));
  return true;
}

Lease ReplicaRouter::acquireRead(std::string_view capability, std::string_view operation) {
  const std::uint64_t need = requiredLsn(capability, operation);
  const auto deadline = SteadyClock::now() + wait_;
  std::vector<Replica*> order;
  bool behind = false;  // a replica was up but had not replayed `need`
  {
    std::lock_guard lock(mu_);
    const auto now = SteadyClock::now();
    const std::size_t n = replicas_.size(), first = next_++ % n;
    for (std::size_t i = 0; i < n; ++i) {
      Replica* r = replicas_[(first + i) % n].get();
      if (const auto lost = r->db->lostConnections(); lost != r->lostSeen) {
        r->lostSeen = lost;
        markDown(*r, "lost a connection");
      }
      if (now < r->downUntil) continue;
      if (need > r->replayed && need >= r->behindLsn && r->behindLsn && now < r->behindUntil) {
        behind = true;
        continue;
      }
      order.push_back(r);
    }
    // Those known to have replayed far enough first: they need no wait.
    std::stable_partition(order.begin(), order.end(), [need](const Replica* r) { return r->replayed >= need; });
  }
  bool waited = false;
  for (Replica* r : order) {
    std::optional<Lease> lease;
    try {
      lease.emplace(r->db->acquirePooled(capability, operation, true));
      for (int poll = 0;; ++poll) {
        bool due = false, short_ = false;
        {
          std::lock_guard lock(mu_);
          due = SteadyClock::now() - r->probedAt >= kProbeEvery;
          short_ = r->replayed < need;
        }
        if (!due && !short_) break;  // usable as it is
        if (!probe(*r, *lease, capability, operation)) {
          lease.reset();
          break;
        }
        {
          std::lock_guard lock(mu_);
          short_ = r->replayed < need;
        }
        if (!short_) break;
        const auto now = SteadyClock::now();
        if (now >= deadline) {
          std::lock_guard lock(mu_);
          r->behindLsn = need;
          r->behindUntil = now + retry_;
          behind = true;
          lease.reset();
          break;
        }
        waited = true;
        std::this_thread::sleep_for(
            std::min<SteadyClock::duration>(deadline - now, std::chrono::milliseconds(1 << std::min(poll, 4))));
      }
    } catch (const Error& e) {
      lease.reset();
      r->db->dropIdle();
      std::lock_guard lock(mu_);
      r->lostSeen = r->db->lostConnections();
      markDown(*r, e.message());
      continue;
    }
    if (lease) {
      std::lock_guard lock(mu_);
      ++stats_.replicaReads;
      if (waited) ++stats_.waited;
      return std::move(*lease);
    }
  }
  if (behind) {
    std::lock_guard lock(mu_);
    ++stats_.fellBack;
  }
  return primaryRead(capability, operation);
}

Lease ReplicaRouter::primaryRead(std::string_view capability, std::string_view operation) {
  auto anyReplica = [&]() -> std::optional<Lease> {
    // Any replica that answers, lagging or not: better than no read at all.
    for (auto& r : replicas_) {
      try {
        auto lease = r->db->acquirePooled(capability, operation, true);
        std::lock_guard lock(mu_);
        ++stats_.replicaReads;
        return lease;
      } catch (const Error&) {
        r->db->dropIdle();
      }
    }
    return std::nullopt;
  };
  bool primaryDown = false;
  {
    std::lock_guard lock(mu_);
    primaryDown = SteadyClock::now() < primaryDownUntil_;
  }
  if (primaryDown) {
    if (auto lease = anyReplica()) return std::move(*lease);
  }
  try {
    auto lease = primary_.acquirePooled(capability, operation, true);
    std::lock_guard lock(mu_);
    ++stats_.primaryReads;
    return lease;
  } catch (const Error& e) {
    if (e.code() != ErrorCode::Unavailable) throw;
    {
      std::lock_guard lock(mu_);
      primaryDownUntil_ = SteadyClock::now() + retry_;
    }
    if (auto lease = anyReplica()) return std::move(*lease);
    throw;
  }
}

ReplicaRouter::Stats ReplicaRouter::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

std::vector<std::string> ReplicaRouter::problems() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  const auto now = SteadyClock::now();
  for (const auto& r : replicas_) {
    if (now < r->downUntil) {
      out.push_back(fmt::format("replica {} skipped for now (reads go elsewhere): {}", r->name, r->state));
    }
  }
  return out;
}

}  // namespace khive::postgres
