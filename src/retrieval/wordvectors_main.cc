// khive-wordvectors: converts word vectors in the word2vec/GloVe text format into the binary
// form the static engine maps (khive/retrieval/word_vectors.h).
//   khive-wordvectors convert IN.txt|- OUT.kwv
//   khive-wordvectors embed FILE TEXT...      prints the SIF vector of each TEXT (a check)

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdio>
#include <string>

#include "khive/core/error.h"
#include "khive/retrieval/word_vectors.h"

int main(int argc, char** argv) {
  using khive::retrieval::WordVectors;
  const std::string cmd = argc > 1 ? argv[1] : "";
  try {
    if (cmd == "convert" && argc == 4) {
      const auto n = WordVectors::convert(argv[2], argv[3]);
      const auto wv = WordVectors::open(argv[3]);
      const auto& p = wv->sif();
      fmt::print(stderr, "khive-wordvectors: {} words written to {} (SIF a={:g}, Zipf-Mandelbrot q={:g} s={:g}, {} "
                 "components of {}-word sentences removed; fingerprint {})\n",
                 n, argv[3], p.a, p.zipfOffset, p.zipfExponent, p.components, p.sentenceLength, wv->fingerprint());
      return 0;
    }
    if (cmd == "embed" && argc >= 4) {
      auto wv = WordVectors::open(argv[2]);
      for (int i = 3; i < argc; ++i) fmt::print("{}\n", fmt::join(wv->sentenceVector(argv[i]), " "));
      return 0;
    }
  } catch (const khive::Error& e) {
    fmt::print(stderr, "khive-wordvectors: {}\n", e.message());
    return 1;
  }
  fmt::print(stderr,
             "usage: khive-wordvectors convert IN.txt|- OUT.kwv   (word2vec/GloVe text -> khive binary form)\n"
             "       khive-wordvectors embed FILE TEXT...\n");
  return 2;
}
