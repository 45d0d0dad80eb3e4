#pragma once
// Seeded clustered vectors with exact ground truth, shared by the retrieval tests and
// bench/retrieval_bench.cc. Gaussian blobs around uniform random centres: the shape of real
// embedding sets (topical clusters), hard enough that an ANN index with too small a beam
// measurably loses recall.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace khive::testing {

// Row-major n x dims. Thread-compatible value type.
struct ClusteredData {
  int dims = 0;
  std::vector<float> points;   // n x dims
  std::vector<float> queries;  // q x dims
  std::vector<int> clusterOf;  // per point
  std::size_t size() const { return dims ? points.size() / static_cast<std::size_t>(dims) : 0; }
  std::span<const float> point(std::size_t i) const { return {points.data() + i * dims, static_cast<std::size_t>(dims)}; }
  std::span<const float> query(std::size_t i) const { return {queries.data() + i * dims, static_cast<std::size_t>(dims)}; }
};

inline ClusteredData makeClustered(std::size_t n, std::size_t nQueries, int dims, int clusters, std::uint64_t seed,
                                   float spread = 0.35f) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
  std::normal_distribution<float> noise(0.0f, spread);
  std::uniform_int_distribution<int> pick(0, clusters - 1);
  std::vector<float> centres(static_cast<std::size_t>(clusters) * dims);
  for (auto& c : centres) c = uni(rng);
  ClusteredData d;
  d.dims = dims;
  auto sample = [&](std::vector<float>& out, int& cluster) {
    cluster = pick(rng);
    for (int j = 0; j < dims; ++j) out.push_back(centres[static_cast<std::size_t>(cluster) * dims + j] + noise(rng));
  };
  d.points.reserve(n * dims);
  d.clusterOf.resize(n);
  for (std::size_t i = 0; i < n; ++i) sample(d.points, d.clusterOf[i]);
  int ignored = 0;
  for (std::size_t i = 0; i < nQueries; ++i) sample(d.queries, ignored);
  return d;
}

inline double cosine(std::span<const float> a, std::span<const float> b) {
  double dot = 0, na = 0, nb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    dot += static_cast<double>(a[i]) * b[i];
    na += static_cast<double>(a[i]) * a[i];
    nb += static_cast<double>(b[i]) * b[i];
  }
  return dot / std::sqrt(na * nb);
}

// Exact top-k point indices by cosine among the points `admit` accepts, best first.
template <class Admit>
std::vector<std::size_t> exactTopK(const ClusteredData& d, std::span<const float> q, std::size_t k, Admit admit) {
  std::vector<std::pair<double, std::size_t>> all;
  for (std::size_t i = 0; i < d.size(); ++i)
    if (admit(i)) all.emplace_back(cosine(q, d.point(i)), i);
  const auto m = std::min(k, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(m), all.end(),
                    [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < m; ++i) out.push_back(all[i].second);
  return out;
}

}  // namespace khive::testing
