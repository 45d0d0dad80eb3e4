#include "server/metrics.h"

#include <fmt/format.h>

namespace khive::server {

void Metrics::observe(const std::string& route, const std::string& method, int status, double seconds) {
  std::lock_guard lock(mu_);
  ++requests_[{route, method, status}];
  Histogram& h = latency_[route];
  for (std::size_t i = 0; i < kBuckets.size(); ++i)
    if (seconds <= kBuckets[i]) ++h.counts[i];
  ++h.count;
  h.sum += seconds;
}

std::string Metrics::render(const std::map<std::string, double>& gauges,
                            const std::vector<std::pair<std::string, storage::BackendStats>>& pools) {
  std::string out;
  out += "# HELP khive_http_requests_total HTTP requests by route template, method and status.\n";
  out += "# TYPE khive_http_requests_total counter\n";
  std::lock_guard lock(mu_);
  for (const auto& [key, n] : requests_) {
    const auto& [route, method, status] = key;
    out += fmt::format("khive_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{}\"}} {}\n", route, method, status, n);
  }
  out += "# HELP khive_http_request_duration_seconds Time from the request's arrival to the end of its response.\n";
  out += "# TYPE khive_http_request_duration_seconds histogram\n";
  for (const auto& [route, h] : latency_) {
    for (std::size_t i = 0; i < kBuckets.size(); ++i)
      out += fmt::format("khive_http_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n", route, kBuckets[i], h.counts[i]);
    out += fmt::format("khive_http_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n", route, h.count);
    out += fmt::format("khive_http_request_duration_seconds_sum{{route=\"{}\"}} {}\n", route, h.sum);
    out += fmt::format("khive_http_request_duration_seconds_count{{route=\"{}\"}} {}\n", route, h.count);
  }
  for (const auto& [name, value] : gauges) {
    out += fmt::format("# TYPE {} gauge\n{} {}\n", name, name, value);
  }
  if (pools.empty()) return out;
  const std::pair<const char*, int storage::BackendStats::*> poolGauges[] = {
      {"khive_pool_connections_in_use", &storage::BackendStats::connectionsInUse},
      {"khive_pool_connections_open", &storage::BackendStats::connectionsOpen},
      {"khive_pool_connections_waiting", &storage::BackendStats::waiting},
      {"khive_pool_size", &storage::BackendStats::poolSize}};
  for (const auto& [name, member] : poolGauges) {
    out += fmt::format("# TYPE {} gauge\n", name);
    for (const auto& [pool, s] : pools) out += fmt::format("{}{{pool=\"{}\"}} {}\n", name, pool, s.*member);
  }
  // Write group sizes over every pool, in power-of-two buckets up to the largest group.
  std::vector<std::uint64_t> sizes;
  for (const auto& [pool, s] : pools) {
    if (s.writeGroupSizes.size() > sizes.size()) sizes.resize(s.writeGroupSizes.size());
    for (std::size_t n = 0; n < s.writeGroupSizes.size(); ++n) sizes[n] += s.writeGroupSizes[n];
  }
  out += "# HELP khive_write_group_size Concurrent single-statement writes committed together in one transaction.\n";
  out += "# TYPE khive_write_group_size histogram\n";
  std::uint64_t count = 0, sum = 0;
  std::size_t bound = 1;
  for (std::size_t n = 1; n < sizes.size(); ++n) {
    count += sizes[n];
    sum += n * sizes[n];
    if (n == bound || n + 1 == sizes.size()) {
      out += fmt::format("khive_write_group_size_bucket{{le=\"{}\"}} {}\n", n, count);
      bound *= 2;
    }
  }
  out += fmt::format("khive_write_group_size_bucket{{le=\"+Inf\"}} {}\n", count);
  out += fmt::format("khive_write_group_size_sum {}\nkhive_write_group_size_count {}\n", sum, count);
  return out;
}

}  // namespace khive::server
