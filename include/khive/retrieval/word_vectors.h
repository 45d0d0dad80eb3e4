#pragma once
// Word vectors and SIF sentence vectors: the built-in offline engine (`kind = "static"`).
//
// A sentence vector is the SIF embedding of Arora, Liang and Ma (2017, "A simple but
// tough-to-beat baseline for sentence embeddings"): the average of the sentence's word vectors,
// each weighted a / (a + p(w)), minus its projection on the common components u_1..u_k:
//
//   v(s) = (1/|s|) sum_w a / (a + p(w)) vec(w);   v(s) -= sum_i (u_i . v(s)) u_i
//
// p(w) is a Zipf-Mandelbrot estimate from the word's rank in the file (word files list words
// most frequent first): p(r) = (r + q)^-s / Z for the 1-based rank r, Z = sum_r (r + q)^-s.
// u_1..u_k are the top k eigenvectors (uncentred principal components, as in the paper;
// removing more than one follows "all-but-the-top", Mu and Viswanath 2018) of the second
// moment of the SIF vectors of sentences of L words drawn from that distribution, computed
// exactly from the vocabulary (no sampling):
//
//   E[s s^T] = (1 - 1/L) m m^T + (1/L) sum_w p(w) c(w)^2 vec(w) vec(w)^T,
//   m = sum_w p(w) c(w) vec(w),  c(w) = a / (a + p(w)).
//
// The parameters (SifParams) and the components are fixed when a word file is converted (or
// loaded from text) and stored in khive's binary form, so queries and stored vectors always
// agree; fingerprint() identifies them.
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

// The SIF parameters of a word file; the defaults were chosen on the reverse-dictionary
// benchmark (docs/embedding.md). Value type: thread-compatible.
struct SifParams {
  double a = 1e-3;              // the a of a / (a + p(w))
  double zipfOffset = 0;        // q of p(r) = (r + q)^-s / Z
  double zipfExponent = 1;      // s
  double sentenceLength = 10;   // L of the sentences the components are computed over
  int components = 3;           // k common components removed (at most dims / 4, at least 1)
  bool operator==(const SifParams&) const = default;
};

// Immutable after construction: thread-safe.
class WordVectors {
 public:
  // Opens a binary file (mapped) or parses a text file (NotFound for a missing file,
  // InvalidInput naming the line for a malformed one).
  static std::shared_ptr<const WordVectors> open(const std::string& path);
  // Parses a text file and writes the binary form to `out` (atomically: a temporary file then
  // rename). Returns the number of words.
  static std::size_t convert(const std::string& textPath, const std::string& out, const SifParams& sif = {});
  // "-" reads standard input.
  static std::shared_ptr<const WordVectors> parseText(const std::string& textPath, const SifParams& sif = {});

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
  // The parameters the stored components were computed with.
  const SifParams& sif() const noexcept { return sif_; }
  // The stored common components: sif().components unit rows of dims() values, the largest
  // eigenvalue first.
  std::span<const float> components() const noexcept { return {components_.data(), components_.size()}; }
  // The common components for other parameters (benchmarks; the stored ones are
  // estimateComponents(sif())). The number is p.components capped to [1, dims / 4].
  std::vector<float> estimateComponents(const SifParams& p) const;
  // p(w) of the word at the 0-based `rank` under sif().
  double probability(std::size_t rank) const noexcept;
  // Identifies the SIF parameters, the components and the vocabulary's size and dimension (16
  // hex digits; a hash, not of the word vectors themselves).
  const std::string& fingerprint() const noexcept { return fingerprint_; }

  // The SIF sentence vector of `text` (all zeros when the text has no token).
  std::vector<float> sentenceVector(std::string_view text) const;
  // SIF with other parameters, for benchmarks of variants. Value type.
  struct Variant {
    SifParams params;
    double zipfNorm = 1;            // Z under params
    std::vector<float> components;  // rows of dims() values; none: the plain weighted average
  };
  // The variant of `p`, with its common components (estimateComponents(p)) or none.
  Variant variant(const SifParams& p, bool withComponents) const;
  std::vector<float> sentenceVector(std::string_view text, const Variant& v) const;

  // The tokens of a text as the engine sees them.
  static std::vector<std::string> tokens(std::string_view text);

 private:
  WordVectors() = default;
  std::uint64_t computeFingerprint() const;  // of sif_, components_, dims_ and words_
  void buildTable();
  void unknownVector(std::string_view token, std::span<float> out) const;
  // (r + q)^-s / Z for the 0-based rank, with z = Z of those parameters.
  static double zipf(std::size_t rank, const SifParams& p, double z) noexcept;
  std::vector<float> sentenceVector(std::string_view text, const SifParams& p, double z,
                                    std::span<const float> components) const;
  double normaliser(const SifParams& p) const;

  int dims_ = 0;
  std::size_t words_ = 0;
  SifParams sif_;
  double zipfNorm_ = 1;  // Z under sif_
  float meanNorm_ = 1;
  std::vector<float> components_;
  std::string fingerprint_;
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
