#pragma once
// Word vectors and SIF sentence vectors: the built-in offline engine (`kind = "static"`).
//
// A sentence vector is the SIF embedding of Arora, Liang and Ma (2017, "A simple but
// tough-to-beat baseline for sentence embeddings"): the average of the sentence's word vectors,
// each weighted a / (a + p(w)), minus its projection on a common component u:
//
//   v(s) = (1/|s|) sum_w a / (a + p(w)) vec(w);   v(s) -= (u . v(s)) u
//
// p(w) is a Zipf estimate from the word's rank in the file (word files list words most
// frequent first): p(r) = 1 / (r * H_N), H_N the N-th harmonic number. u is the first
// principal component (uncentred, as in the paper) of the SIF vectors of sentences of
// kSifSentenceLength words drawn from that distribution, computed exactly from the vocabulary
// (no sampling): E[s s^T] = (1 - 1/L) m m^T + (1/L) sum_w p(w) c(w)^2 vec(w) vec(w)^T, with
// m = sum_w p(w) c(w) vec(w) and c(w) = a / (a + p(w)). It is computed once, when a word file
// is converted (or loaded from text), and stored in khive's binary form.
//
// Files: the word2vec/GloVe text format (one "word v1 ... vD" per line, optionally a first
// line "N D"), or khive's binary form (see word_vectors.cc), which is memory-mapped so that
// opening it costs no parsing: a lookup reads a hash slot, the word and its vector.
//
// Tokens: the text lower-cased (ASCII) and split at every character that is not a letter, a
// digit or a non-ASCII byte. A token that is not in the file gets a fixed pseudo-random vector
// derived from its bytes (the same in every process), weighted like the rarest word, so two
// texts sharing an unknown name still meet.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace khive::retrieval {

inline constexpr double kSifA = 1e-3;            // the a of a / (a + p(w))
inline constexpr int kSifSentenceLength = 10;    // L of the sentences the component is computed over

// Immutable after construction: thread-safe.
class WordVectors {
 public:
  // Opens a binary file (mapped) or parses a text file (NotFound for a missing file,
  // InvalidInput naming the line for a malformed one).
  static std::shared_ptr<const WordVectors> open(const std::string& path);
  // Parses a text file and writes the binary form to `out` (atomically: a temporary file then
  // rename). Returns the number of words.
  static std::size_t convert(const std::string& textPath, const std::string& out);
  // "-" reads standard input.
  static std::shared_ptr<const WordVectors> parseText(const std::string& textPath);

  ~WordVectors();
  WordVectors(const WordVectors&) = delete;
  WordVectors& operator=(const WordVectors&) = delete;

  int dims() const noexcept { return dims_; }
  std::size_t size() const noexcept { return words_; }
  // The 0-based frequency rank of the word, or -1.
  std::int64_t rank(std::string_view word) const noexcept;
  std::span<const float> vector(std::size_t rank) const noexcept {
    return {vectors_ + rank * static_cast<std::size_t>(dims_), static_cast<std::size_t>(dims_)};
  }
  std::string_view word(std::size_t rank) const noexcept;
  std::span<const float> commonComponent() const noexcept { return {component_.data(), component_.size()}; }
  // The common component u for sentences of `sentenceLength` words weighted with `a` (the
  // stored one is estimateComponent(kSifA, kSifSentenceLength)).
  std::vector<float> estimateComponent(double a, double sentenceLength) const;
  // p(w) of the word at `rank`: 1 / ((rank + 1) * H_N).
  double probability(std::size_t rank) const noexcept;

  // The SIF sentence vector of `text` (all zeros when the text has no token).
  std::vector<float> sentenceVector(std::string_view text, double a = kSifA, bool removeComponent = true) const;

  // The tokens of a text as the engine sees them.
  static std::vector<std::string> tokens(std::string_view text);

 private:
  WordVectors() = default;
  void computeComponent();
  void buildTable();
  void unknownVector(std::string_view token, std::span<float> out) const;

  int dims_ = 0;
  std::size_t words_ = 0;
  double harmonic_ = 1;
  float meanNorm_ = 1;
  std::vector<float> component_;
  // The data: either in owned_ (text) or in the mapping.
  const float* vectors_ = nullptr;
  const std::uint32_t* wordOffsets_ = nullptr;  // words_ + 1 offsets into wordBytes_
  const char* wordBytes_ = nullptr;
  const std::uint32_t* table_ = nullptr;  // open addressing: rank + 1, 0 empty
  std::uint64_t tableMask_ = 0;
  std::vector<float> ownedVectors_;
  std::vector<std::uint32_t> ownedOffsets_;
  std::string ownedBytes_;
  std::vector<std::uint32_t> ownedTable_;
  void* map_ = nullptr;
  std::size_t mapBytes_ = 0;
};

}  // namespace khive::retrieval
