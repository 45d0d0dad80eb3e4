#pragma once
// Rank fusion: combines ranked candidate lists from several signals (text, dense vector,
// sparse vector) into one ranking. Pure functions over values: thread-safe.

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "khive/core/uuid.h"

namespace khive::retrieval {

enum class Signal { Text, Vector, Sparse };

enum class FusionStrategy {
  Rrf,         // reciprocal rank fusion: sum over signals of w / (k + rank)
  Weighted,    // weighted mean of the signals' [0,1] scores (a missing signal counts 0)
  // Score-based fusion: each signal's scores rescaled over its own candidates, then the
  // weighted mean (a missing signal counts 0). Relative: min-max, best 1 and worst 0.
  // Distribution (DBSF): mean +- 3 standard deviations mapped to [0,1], clamped.
  Relative,
  Distribution,
  TextOnly,    // one signal alone, scored by that signal
  VectorOnly,
  SparseOnly,
};

struct FusionOptions {
  FusionStrategy strategy = FusionStrategy::Rrf;
  double rrfK = 60;  // > 0; 60 is the constant of Cormack et al. (2009)
  double textWeight = 1.0;    // >= 0; used by Rrf and Weighted
  double vectorWeight = 1.0;
  double sparseWeight = 1.0;
};

// One signal's candidates, best first. rank is 1-based; score in [0,1].
struct Candidate {
  Uuid subjectId;
  std::string ns;
  std::string kind;
  double score = 0;
  int rank = 0;
};
struct CandidateStream {
  Signal signal = Signal::Text;
  std::vector<Candidate> items;
};

// Where a fused subject stood in each signal that found it (nullopt: not found by that signal).
struct SignalRanks {
  std::optional<int> text;
  std::optional<int> vector;
  std::optional<int> sparse;
  std::optional<double> textScore;
  std::optional<double> vectorScore;
  std::optional<double> sparseScore;
};

struct FusedCandidate {
  Uuid subjectId;
  std::string ns;
  std::string kind;
  double score = 0;  // in [0,1]
  SignalRanks signals;
};

// Fuses the streams. Scores are normalised into [0,1]: RRF divides by the score a subject
// ranked first by every given stream would get, the score-based strategies by the sum of the
// given streams' weights. A single-signal strategy uses only the stream of its signal. The result is sorted
// by score (descending), ties by subject id, so it is deterministic. InvalidInput for rrfK <= 0
// or a negative weight.
std::vector<FusedCandidate> fuse(std::span<const CandidateStream> streams, const FusionOptions& options);

// The signal a single-signal strategy uses, or nullopt for the fusing ones.
std::optional<Signal> singleSignal(FusionStrategy strategy) noexcept;

// "rrf", "weighted", "relative", "distribution", "text", "vector", "sparse"; nullopt for
// another name.
std::optional<FusionStrategy> fusionStrategyNamed(std::string_view name) noexcept;
std::string_view fusionStrategyName(FusionStrategy strategy) noexcept;

}  // namespace khive::retrieval
