#include "khive/retrieval/fusion.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <unordered_map>

#include "khive/core/error.h"

namespace khive::retrieval {

namespace {
double weightOf(Signal s, const FusionOptions& o) {
  switch (s) {
    case Signal::Text: return o.textWeight;
    case Signal::Vector: return o.vectorWeight;
    case Signal::Sparse: return o.sparseWeight;
  }
  return 0;
}

void record(SignalRanks& r, Signal s, const Candidate& c) {
  switch (s) {
    case Signal::Text:
      r.text = c.rank;
      r.textScore = c.score;
      return;
    case Signal::Vector:
      r.vector = c.rank;
      r.vectorScore = c.score;
      return;
    case Signal::Sparse:
      r.sparse = c.rank;
      r.sparseScore = c.score;
      return;
  }
}
}  // namespace

std::optional<Signal> singleSignal(FusionStrategy strategy) noexcept {
  switch (strategy) {
    case FusionStrategy::TextOnly: return Signal::Text;
    case FusionStrategy::VectorOnly: return Signal::Vector;
    case FusionStrategy::SparseOnly: return Signal::Sparse;
    case FusionStrategy::Rrf:
    case FusionStrategy::Weighted:
    case FusionStrategy::Relative:
    case FusionStrategy::Distribution: return std::nullopt;
  }
  return std::nullopt;
}

namespace {
constexpr std::pair<std::string_view, FusionStrategy> kNames[] = {
    {"rrf", FusionStrategy::Rrf},          {"weighted", FusionStrategy::Weighted},
    {"relative", FusionStrategy::Relative}, {"distribution", FusionStrategy::Distribution},
    {"text", FusionStrategy::TextOnly},    {"vector", FusionStrategy::VectorOnly},
    {"sparse", FusionStrategy::SparseOnly},
};

// The stream's scores rescaled for a score-based strategy: c -> [0,1].
std::function<double(double)> rescaler(const CandidateStream& s, FusionStrategy strategy) {
  if (s.items.empty()) return [](double x) { return x; };
  if (strategy == FusionStrategy::Relative) {
    auto [lo, hi] = std::minmax_element(s.items.begin(), s.items.end(),
                                        [](const auto& a, const auto& b) { return a.score < b.score; });
    const double min = lo->score, span = hi->score - lo->score;
    return [=](double x) { return span > 0 ? (x - min) / span : 1.0; };
  }
  if (strategy == FusionStrategy::Distribution) {
    double mean = 0, sq = 0;
    for (const auto& c : s.items) mean += c.score;
    mean /= static_cast<double>(s.items.size());
    for (const auto& c : s.items) sq += (c.score - mean) * (c.score - mean);
    const double sd = std::sqrt(sq / static_cast<double>(s.items.size()));
    return [=](double x) { return sd > 0 ? std::clamp((x - (mean - 3 * sd)) / (6 * sd), 0.0, 1.0) : 1.0; };
  }
  return [](double x) { return x; };
}
}  // namespace

std::optional<FusionStrategy> fusionStrategyNamed(std::string_view name) noexcept {
  for (const auto& [n, s] : kNames)
    if (n == name) return s;
  return std::nullopt;
}

std::string_view fusionStrategyName(FusionStrategy strategy) noexcept {
  for (const auto& [n, s] : kNames)
    if (s == strategy) return n;
  return "rrf";
}

std::vector<FusedCandidate> fuse(std::span<const CandidateStream> streams, const FusionOptions& o) {
  if (!(o.rrfK > 0) || !std::isfinite(o.rrfK)) {
    throw Error(ErrorCode::InvalidInput, "retrieval", "fuse", fmt::format("rrf_k must be > 0 (got {})", o.rrfK));
  }
  for (double w : {o.textWeight, o.vectorWeight, o.sparseWeight}) {
    if (!(w >= 0) || !std::isfinite(w)) {
      throw Error(ErrorCode::InvalidInput, "retrieval", "fuse", fmt::format("fusion weights must be >= 0 (got {})", w));
    }
  }
  const auto only = singleSignal(o.strategy);

  // The best score any subject could reach, for normalising into [0,1].
  double maxScore = 0;
  for (const auto& s : streams) {
    if (only && s.signal != *only) continue;
    const double w = only ? 1.0 : weightOf(s.signal, o);
    maxScore += o.strategy == FusionStrategy::Rrf ? w / (o.rrfK + 1) : w;
  }

  std::vector<FusedCandidate> out;
  std::unordered_map<Uuid, std::size_t> at;
  for (const auto& s : streams) {
    if (only && s.signal != *only) continue;
    const double w = only ? 1.0 : weightOf(s.signal, o);
    const auto rescale = rescaler(s, o.strategy);
    for (const auto& c : s.items) {
      auto [it, inserted] = at.try_emplace(c.subjectId, out.size());
      if (inserted) out.push_back({c.subjectId, c.ns, c.kind, 0.0, {}});
      auto& f = out[it->second];
      record(f.signals, s.signal, c);
      f.score += o.strategy == FusionStrategy::Rrf ? w / (o.rrfK + c.rank) : w * rescale(c.score);
    }
  }
  for (auto& f : out) f.score = maxScore > 0 ? std::clamp(f.score / maxScore, 0.0, 1.0) : 0.0;
  std::sort(out.begin(), out.end(), [](const FusedCandidate& a, const FusedCandidate& b) {
    return a.score != b.score ? a.score > b.score : a.subjectId < b.subjectId;
  });
  return out;
}

}  // namespace khive::retrieval
