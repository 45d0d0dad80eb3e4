#pragma once
// The reverse-dictionary benchmark of retrieval_bench (--only reverse): every WordNet 3.0
// synset is indexed by its lemma names only (text document title and the static engine's SIF
// vector of "dog, domestic dog, Canis familiaris"), and each of a fixed sample of synsets'
// definitions (the gloss up to its examples) is the query; the answer is that synset.
// Measures recall@10 and MRR@10 for text only, vector only and fused rankings.

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "khive/retrieval/hybrid_search.h"
#include "khive/retrieval/word_vectors.h"

namespace khive::bench {

struct Synset {
  std::string name;        // lemma names, ", "-joined, underscores as spaces
  std::string definition;  // the gloss without its quoted examples
};

// Reads data.noun, data.verb, data.adj and data.adv of a WordNet 3.0 directory.
inline std::vector<Synset> readWordnet(const std::string& dir) {
  std::vector<Synset> out;
  for (const char* pos : {"noun", "verb", "adj", "adv"}) {
    std::ifstream in(dir + "/data." + pos);
    if (!in) throw std::runtime_error("cannot read " + dir + "/data." + pos + " (apt install wordnet-base)");
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == ' ') continue;  // the licence header
      const auto bar = line.find(" | ");
      if (bar == std::string::npos) continue;
      std::istringstream f(line.substr(0, bar));
      std::string offset, lexfile, type, countHex;
      f >> offset >> lexfile >> type >> countHex;
      const int words = std::stoi(countHex, nullptr, 16);
      Synset s;
      for (int w = 0; w < words; ++w) {
        std::string word, lexId;
        f >> word >> lexId;
        if (auto paren = word.find('('); paren != std::string::npos) word.resize(paren);  // "long(a)"
        std::replace(word.begin(), word.end(), '_', ' ');
        s.name += (w ? ", " : "") + word;
      }
      std::string gloss = line.substr(bar + 3);
      if (auto quote = gloss.find('"'); quote != std::string::npos) gloss.resize(quote);
      while (!gloss.empty() && (gloss.back() == ' ' || gloss.back() == ';')) gloss.pop_back();
      s.definition = gloss;
      out.push_back(std::move(s));
    }
  }
  return out;
}

struct RankingQuality {
  double recallAt10 = 0;
  double mrr = 0;
  double medianMicros = 0;
};

// Loads the synsets as entities (name only), their text documents and vectors of `model`.
inline std::vector<khive::Uuid> loadReverseDictionary(khive::storage::Backend& db, const std::vector<Synset>& synsets,
                                                      const khive::retrieval::WordVectors& wv, const std::string& model) {
  std::vector<khive::Uuid> ids;
  std::vector<khive::Entity> ents;
  std::vector<khive::storage::TextDocument> docs;
  std::vector<khive::storage::VectorRecord> vecs;
  auto flush = [&] {
    db.entities().upsertEntities(ents);
    db.text().upsertDocuments(docs);
    db.vectors().insertVectors(vecs);
    ents.clear();
    docs.clear();
    vecs.clear();
  };
  for (const auto& s : synsets) {
    khive::Entity e;
    e.id = khive::Uuid::v7();
    e.ns = "wn";
    e.kind = "concept";
    e.name = s.name;
    ids.push_back(e.id);
    docs.push_back(khive::retrieval::textDocumentOf(e));
    khive::storage::VectorRecord v;
    v.subjectId = e.id;
    v.ns = "wn";
    v.kind = "concept";
    v.model = model;
    v.values = wv.sentenceVector(s.name);
    if (std::any_of(v.values.begin(), v.values.end(), [](float x) { return x != 0.0f; })) vecs.push_back(std::move(v));
    ents.push_back(std::move(e));
    if (ents.size() == 10'000) flush();
  }
  flush();
  return ids;
}

// The sample of query synsets: `n` indices drawn without replacement with a fixed seed,
// skipping the first `offset` of the draw (so offsets 0 and 1,000 give disjoint samples of 1,000).
inline std::vector<std::size_t> reverseDictionaryQueries(std::size_t synsets, std::size_t n, std::size_t offset = 0) {
  std::vector<std::size_t> all(synsets);
  for (std::size_t i = 0; i < synsets; ++i) all[i] = i;
  std::mt19937_64 rng(2017);
  std::shuffle(all.begin(), all.end(), rng);
  offset = std::min(offset, synsets);
  all.erase(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(offset));
  all.resize(std::min(n, all.size()));
  return all;
}

inline RankingQuality measureReverseDictionary(khive::storage::Backend& db, const std::vector<Synset>& synsets,
                                               const std::vector<khive::Uuid>& ids,
                                               const std::vector<std::size_t>& queries,
                                               const std::vector<std::vector<float>>& queryVectors,
                                               const std::string& model, const khive::retrieval::FusionOptions& fusion) {
  khive::retrieval::HybridSearch search(db);
  RankingQuality q;
  std::vector<double> lat;
  for (std::size_t i = 0; i < queries.size(); ++i) {
    khive::retrieval::HybridQuery h;
    h.namespaces = {"wn"};
    h.topK = 10;
    h.fusion = fusion;
    if (fusion.strategy != khive::retrieval::FusionStrategy::VectorOnly) h.text = synsets[queries[i]].definition;
    if (fusion.strategy != khive::retrieval::FusionStrategy::TextOnly) {
      h.vector = queryVectors[i];
      h.vectorModel = model;
    }
    const auto t0 = std::chrono::steady_clock::now();
    auto hits = search.search(h);
    lat.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    for (std::size_t r = 0; r < hits.size(); ++r)
      if (hits[r].subjectId == ids[queries[i]]) {
        q.recallAt10 += 1;
        q.mrr += 1.0 / static_cast<double>(r + 1);
        break;
      }
  }
  q.recallAt10 /= static_cast<double>(queries.size());
  q.mrr /= static_cast<double>(queries.size());
  std::sort(lat.begin(), lat.end());
  q.medianMicros = lat.empty() ? 0 : lat[lat.size() / 2];
  return q;
}

}  // namespace khive::bench

namespace khive::bench {

// Vector-only recall@10 of the reverse dictionary by exact search in memory, for SIF variants:
// the weight parameter a, and which common components are removed: none, the word file's top k
// for sentences of L words under Zipf or Zipf-Mandelbrot frequencies, or the first principal
// component of the indexed names' own SIF vectors (a corpus component). Prints one line each.
inline void sweepSif(const std::vector<Synset>& synsets, const khive::retrieval::WordVectors& wv,
                     const std::vector<std::size_t>& queries) {
  using khive::retrieval::SifParams;
  const auto d = static_cast<std::size_t>(wv.dims());
  auto unit = [](std::vector<float>& v) {
    double n = 0;
    for (float x : v) n += static_cast<double>(x) * x;
    if (n > 0)
      for (auto& x : v) x = static_cast<float>(x / std::sqrt(n));
  };
  const SifParams stored = wv.sif();
  fmt::print("  stored: a={:g} q={:g} s={:g} L={:g} k={} (fingerprint {})\n", stored.a, stored.zipfOffset,
             stored.zipfExponent, stored.sentenceLength, stored.components, wv.fingerprint());
  struct Variant {
    std::string name;
    double q = 0, s = 1, l = 10;
    int k = 0;          // 0: no component removed
    bool corpus = false;
  };
  const std::vector<Variant> variants = {
      {"none"},
      {"word file, Zipf, L=10, k=1", 0, 1, 10, 1},
      {"word file, Zipf, L=10, k=2", 0, 1, 10, 2},
      {"word file, Zipf, L=10, k=3", 0, 1, 10, 3},
      {"word file, Zipf, L=10, k=4", 0, 1, 10, 4},
      {"word file, Zipf, L=2, k=3", 0, 1, 2, 3},
      {"word file, Zipf-Mandelbrot q=2.7, L=10, k=3", 2.7, 1, 10, 3},
      {"corpus, k=1", 0, 1, 10, 1, true},
  };
  for (double a : {3e-4, 1e-3, 3e-3}) {
    for (const auto& var : variants) {
      const SifParams p{.a = a, .zipfOffset = var.q, .zipfExponent = var.s, .sentenceLength = var.l, .components = var.k};
      auto sif = wv.variant(p, var.k > 0 && !var.corpus);
      std::vector<std::vector<float>> docs;
      docs.reserve(synsets.size());
      for (const auto& syn : synsets) docs.push_back(wv.sentenceVector(syn.name, sif));
      if (var.corpus) {  // power iteration on the uncentred second moment of the documents
        std::vector<double> u(d, 1.0), next(d);
        for (int it = 0; it < 30; ++it) {
          std::fill(next.begin(), next.end(), 0.0);
          for (const auto& v : docs) {
            double dot = 0;
            for (std::size_t j = 0; j < d; ++j) dot += v[j] * u[j];
            for (std::size_t j = 0; j < d; ++j) next[j] += dot * v[j];
          }
          double n = 0;
          for (double x : next) n += x * x;
          for (std::size_t j = 0; j < d; ++j) u[j] = next[j] / std::sqrt(n);
        }
        sif.components.assign(u.begin(), u.end());
      }
      if (!sif.components.empty())
        for (std::size_t i = 0; i < synsets.size(); ++i) docs[i] = wv.sentenceVector(synsets[i].name, sif);
      std::vector<float> matrix;
      matrix.reserve(docs.size() * d);
      for (auto& v : docs) {
        unit(v);
        matrix.insert(matrix.end(), v.begin(), v.end());
      }
      double found = 0;
      for (auto qi : queries) {
        auto q = wv.sentenceVector(synsets[qi].definition, sif);
        unit(q);
        const float* row = matrix.data() + qi * d;
        float target = 0;
        for (std::size_t j = 0; j < d; ++j) target += row[j] * q[j];
        std::size_t better = 0;
        for (std::size_t i = 0; i < docs.size() && better < 10; ++i) {
          const float* r = matrix.data() + i * d;
          float dot = 0;
          for (std::size_t j = 0; j < d; ++j) dot += r[j] * q[j];
          if (dot > target) ++better;
        }
        found += better < 10 ? 1 : 0;
      }
      fmt::print("  SIF a={:<6g} {:<45} vector-only recall@10 {:.4f}\n", a, var.name,
                 found / static_cast<double>(queries.size()));
      std::fflush(stdout);
    }
  }
}

}  // namespace khive::bench
