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

std::string Metrics::render(const std::map<std::string, double>& gauges) {
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
  return out;
}

}  // namespace khive::server
