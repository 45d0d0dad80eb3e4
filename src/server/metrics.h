#pragma once
// Request counters and latency histograms in the Prometheus text format (docs/serve.md,
// "Operations"). Labels are route templates, never ids, so their number is bounded.
//
// Thread-safe.

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "khive/storage/backend.h"

namespace khive::server {

class Metrics {
 public:
  void observe(const std::string& route, const std::string& method, int status, double seconds);
  // The exposition text; `gauges` are added as they are (name -> value), then the pools'
  // connections (in use, open, waiting, size; labelled by pool) and one histogram of the sizes
  // of the write groups of every pool.
  std::string render(const std::map<std::string, double>& gauges,
                     const std::vector<std::pair<std::string, storage::BackendStats>>& pools = {});

 private:
  static constexpr std::array<double, 14> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                      0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  struct Histogram {
    std::array<std::uint64_t, kBuckets.size()> counts{};
    std::uint64_t count = 0;
    double sum = 0;
  };
  std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests_;  // route, method, status
  std::map<std::string, Histogram> latency_;                                      // route
};

}  // namespace khive::server
