// Word vectors (khive/retrieval/word_vectors.h): the text format, khive's binary form, SIF.
//
// Binary form (native little-endian), every section starting at a multiple of 64 bytes:
//   header     magic "KHWVEC02", u32 dims, u32 components k, u64 words, u64 table slots (a power
//              of two), u64 word bytes, f64 a, f64 Zipf offset q, f64 Zipf exponent s, f64
//              sentence length L, f64 Zipf normaliser Z, f32 mean vector norm, f32 0, u64
//              fingerprint (of the parameters and components), u64 0 x4
//   components f32 [k x dims], the largest eigenvalue first
//   vectors    f32 [words x dims], row r = the word of frequency rank r
//   offsets    u32 [words + 1] into the word bytes
//   table      u32 [slots]: rank + 1 of the word hashing there (linear probing), 0 empty
//   words      the words' bytes, concatenated
// The file is memory-mapped read-only; its size must be exactly what the header implies.

#include "khive/retrieval/word_vectors.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>

#include "khive/core/error.h"

namespace khive::retrieval {

namespace {
constexpr char kMagic[8] = {'K', 'H', 'W', 'V', 'E', 'C', '0', '2'};
constexpr std::size_t kMagicPrefix = 6;  // "KHWVEC": khive's binary form of any version
constexpr std::size_t kAlign = 64;

struct Header {
  char magic[8];
  std::uint32_t dims;
  std::uint32_t components;
  std::uint64_t words;
  std::uint64_t slots;
  std::uint64_t wordBytes;
  double a, zipfOffset, zipfExponent, sentenceLength, zipfNorm;
  float meanNorm;
  float reserved0;
  std::uint64_t fingerprint;
  std::uint64_t reserved1[4];
};
static_assert(sizeof(Header) == 128);
static_assert(std::endian::native == std::endian::little, "the binary form is read as native little-endian");

std::size_t aligned(std::size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

std::uint64_t fnv1a(std::string_view s, std::uint64_t h = 0xcbf29ce484222325ull) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

template <typename T>
std::uint64_t fnv1a(std::span<const T> values, std::uint64_t h) {
  return fnv1a(std::string_view(reinterpret_cast<const char*>(values.data()), values.size_bytes()), h);
}

// Offsets of the sections for a header.
struct Layout {
  std::size_t component, vectors, offsets, table, words, total;
  explicit Layout(const Header& h) {
    component = sizeof(Header);
    vectors = aligned(component + std::size_t{h.components} * h.dims * sizeof(float));
    offsets = aligned(vectors + h.words * h.dims * sizeof(float));
    table = aligned(offsets + (h.words + 1) * sizeof(std::uint32_t));
    words = aligned(table + h.slots * sizeof(std::uint32_t));
    total = words + h.wordBytes;
  }
};

int componentCount(const SifParams& p, int dims) { return std::clamp(p.components, 1, std::max(1, dims / 4)); }

std::string hex(std::uint64_t v) { return fmt::format("{:016x}", v); }

// Eigenvalues and eigenvectors (columns of `vectors`) of the symmetric n x n matrix `a`
// (row-major) by cyclic Jacobi rotations.
void jacobiEigen(std::vector<double> a, std::size_t n, std::vector<double>& values, std::vector<double>& vectors) {
  vectors.assign(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i) vectors[i * n + i] = 1.0;
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0, diag = 0;
    for (std::size_t p = 0; p < n; ++p) {
      diag += a[p * n + p] * a[p * n + p];
      for (std::size_t q = p + 1; q < n; ++q) off += a[p * n + q] * a[p * n + q];
    }
    if (off <= 1e-30 * diag || off == 0) break;
    for (std::size_t p = 0; p < n; ++p)
      for (std::size_t q = p + 1; q < n; ++q) {
        const double apq = a[p * n + q];
        if (apq == 0) continue;
        const double theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const double t = (theta >= 0 ? 1.0 : -1.0) / (std::abs(theta) + std::sqrt(theta * theta + 1));
        const double cs = 1 / std::sqrt(t * t + 1), sn = t * cs;
        for (std::size_t k = 0; k < n; ++k) {
          const double akp = a[k * n + p], akq = a[k * n + q];
          a[k * n + p] = cs * akp - sn * akq;
          a[k * n + q] = sn * akp + cs * akq;
        }
        for (std::size_t k = 0; k < n; ++k) {
          const double apk = a[p * n + k], aqk = a[q * n + k];
          a[p * n + k] = cs * apk - sn * aqk;
          a[q * n + k] = sn * apk + cs * aqk;
        }
        for (std::size_t k = 0; k < n; ++k) {
          const double vkp = vectors[k * n + p], vkq = vectors[k * n + q];
          vectors[k * n + p] = cs * vkp - sn * vkq;
          vectors[k * n + q] = sn * vkp + cs * vkq;
        }
      }
  }
  values.resize(n);
  for (std::size_t i = 0; i < n; ++i) values[i] = a[i * n + i];
}

// The top k eigenvectors (unit, the largest eigenvalue first) of the symmetric d x d matrix `c`
// (row-major), by jacobiEigen on the whole matrix. Each is signed so that its largest
// coordinate is positive. Returns k rows of d floats.
std::vector<float> topEigenvectors(const std::vector<double>& c, std::size_t d, std::size_t k) {
  k = std::min(k, d);
  std::vector<double> values, vectors;
  jacobiEigen(c, d, values, vectors);
  std::vector<std::size_t> order(d);
  for (std::size_t i = 0; i < d; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return values[x] > values[y]; });
  std::vector<float> out(k * d);
  for (std::size_t i = 0; i < k; ++i) {
    const std::size_t col = order[i];
    double n = 0;
    std::size_t big = 0;
    for (std::size_t t = 0; t < d; ++t) {
      const double u = vectors[t * d + col];
      n += u * u;
      if (std::abs(u) > std::abs(vectors[big * d + col])) big = t;
    }
    const double scale = (vectors[big * d + col] < 0 ? -1.0 : 1.0) / std::sqrt(n);
    for (std::size_t t = 0; t < d; ++t) out[i * d + t] = static_cast<float>(scale * vectors[t * d + col]);
  }
  return out;
}

[[noreturn]] void fail(ErrorCode code, const std::string& why) { throw Error(code, "embedding", "open", why); }
}  // namespace

WordVectors::~WordVectors() {
  if (map_) ::munmap(map_, mapBytes_);
}

std::vector<std::string> WordVectors::tokens(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80 || std::isalnum(c)) {
      cur += static_cast<char>(c < 0x80 ? std::tolower(c) : c);
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

std::int64_t WordVectors::rank(std::string_view word) const noexcept {
  if (words_ == 0) return -1;
  for (std::uint64_t slot = fnv1a(word) & tableMask_;; slot = (slot + 1) & tableMask_) {
    const std::uint32_t v = table_[slot];
    if (v == 0) return -1;
    if (this->word(v - 1) == word) return static_cast<std::int64_t>(v - 1);
  }
}

std::string_view WordVectors::word(std::size_t rank) const noexcept {
  return {wordBytes_ + wordOffsets_[rank], wordOffsets_[rank + 1] - wordOffsets_[rank]};
}

double WordVectors::zipf(std::size_t rank, const SifParams& p, double z) noexcept {
  return std::pow(static_cast<double>(rank + 1) + p.zipfOffset, -p.zipfExponent) / z;
}

double WordVectors::normaliser(const SifParams& p) const {
  double z = 0;
  for (std::size_t r = words_; r-- > 0;) z += zipf(r, p, 1.0);  // smallest terms first
  return z;
}

double WordVectors::probability(std::size_t rank) const noexcept { return zipf(rank, sif_, zipfNorm_); }

void WordVectors::unknownVector(std::string_view token, std::span<float> out) const {
  // splitmix64 from the token's hash: the same vector in every process and build.
  std::uint64_t state = fnv1a(token);
  auto next = [&] {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  };
  double norm = 0;
  for (auto& x : out) {
    x = static_cast<float>(static_cast<double>(next() >> 11) / 9007199254740992.0 - 0.5);
    norm += static_cast<double>(x) * x;
  }
  const float scale = norm > 0 ? static_cast<float>(meanNorm_ / std::sqrt(norm)) : 0.0f;
  for (auto& x : out) x *= scale;
}

std::vector<float> WordVectors::sentenceVector(std::string_view text) const {
  return sentenceVector(text, sif_, zipfNorm_, components_);
}

WordVectors::Variant WordVectors::variant(const SifParams& p, bool withComponents) const {
  Variant v{.params = p, .zipfNorm = normaliser(p), .components = {}};
  if (withComponents) v.components = estimateComponents(p);
  return v;
}

std::vector<float> WordVectors::sentenceVector(std::string_view text, const Variant& v) const {
  return sentenceVector(text, v.params, v.zipfNorm, v.components);
}

std::vector<float> WordVectors::sentenceVector(std::string_view text, const SifParams& p, double z,
                                               std::span<const float> components) const {
  const auto d = static_cast<std::size_t>(dims_);
  std::vector<double> acc(d, 0.0);
  std::vector<float> unknown(d);
  std::size_t n = 0;
  const double rarest = zipf(words_ == 0 ? 0 : words_ - 1, p, z);
  for (const auto& tok : tokens(text)) {
    const std::int64_t r = rank(tok);
    std::span<const float> v;
    double pw = rarest;
    if (r >= 0) {
      v = vector(static_cast<std::size_t>(r));
      pw = zipf(static_cast<std::size_t>(r), p, z);
    } else {
      unknownVector(tok, unknown);
      v = unknown;
    }
    const double c = p.a / (p.a + pw);
    for (std::size_t j = 0; j < d; ++j) acc[j] += c * v[j];
    ++n;
  }
  std::vector<float> out(d, 0.0f);
  if (n == 0) return out;
  for (auto& x : acc) x /= static_cast<double>(n);
  for (std::size_t off = 0; off + d <= components.size(); off += d) {
    const float* u = components.data() + off;
    double proj = 0;
    for (std::size_t j = 0; j < d; ++j) proj += acc[j] * u[j];
    for (std::size_t j = 0; j < d; ++j) acc[j] -= proj * u[j];
  }
  for (std::size_t j = 0; j < d; ++j) out[j] = static_cast<float>(acc[j]);
  return out;
}

std::uint64_t WordVectors::computeFingerprint() const {
  std::uint64_t h = fnv1a(std::span<const float>(components_), fnv1a(std::string_view(kMagic, 8)));
  const double params[] = {sif_.a, sif_.zipfOffset, sif_.zipfExponent, sif_.sentenceLength,
                           static_cast<double>(dims_), static_cast<double>(words_)};
  return fnv1a(std::span<const double>(params), h);
}

std::vector<float> WordVectors::estimateComponents(const SifParams& p) const {
  const auto d = static_cast<std::size_t>(dims_);
  const double z = normaliser(p);
  std::vector<double> m(d, 0.0), c(d * d, 0.0), row(d);
  for (std::size_t r = 0; r < words_; ++r) {
    const auto v = vector(r);
    const double pw = zipf(r, p, z);
    const double w = p.a / (p.a + pw);
    for (std::size_t i = 0; i < d; ++i) {
      row[i] = w * v[i];
      m[i] += pw * row[i];
    }
    for (std::size_t i = 0; i < d; ++i) {
      const double pi = pw * row[i];
      double* ci = c.data() + i * d;
      for (std::size_t j = 0; j <= i; ++j) ci[j] += pi * row[j];
    }
  }
  const double l = p.sentenceLength;
  for (std::size_t i = 0; i < d; ++i)
    for (std::size_t j = 0; j <= i; ++j) {
      const double v = (1 - 1 / l) * m[i] * m[j] + c[i * d + j] / l;
      c[i * d + j] = v;
      c[j * d + i] = v;
    }
  return topEigenvectors(c, d, static_cast<std::size_t>(componentCount(p, dims_)));
}

void WordVectors::buildTable() {
  std::uint64_t slots = 16;
  while (slots < words_ * 2 + 16) slots <<= 1;
  ownedTable_.assign(slots, 0);
  tableMask_ = slots - 1;
  for (std::size_t r = 0; r < words_; ++r) {
    std::uint64_t slot = fnv1a(word(r)) & tableMask_;
    while (ownedTable_[slot] != 0) slot = (slot + 1) & tableMask_;
    ownedTable_[slot] = static_cast<std::uint32_t>(r + 1);
  }
  table_ = ownedTable_.data();
}

std::shared_ptr<const WordVectors> WordVectors::parseText(const std::string& textPath, const SifParams& sif) {
  if (!(sif.a > 0) || !(sif.zipfExponent > 0) || !(sif.zipfOffset > -1) || !(sif.sentenceLength >= 1))
    fail(ErrorCode::InvalidInput,
         fmt::format("SIF parameters out of range (a {} > 0, Zipf exponent {} > 0, offset {} > -1, sentence length {} "
                     ">= 1)",
                     sif.a, sif.zipfExponent, sif.zipfOffset, sif.sentenceLength));
  std::ifstream file;
  std::istream* in = &std::cin;
  if (textPath != "-") {
    file.open(textPath, std::ios::binary);
    if (!file) fail(ErrorCode::NotFound, fmt::format("cannot open the word vector file {}", textPath));
    in = &file;
  }
  std::shared_ptr<WordVectors> wv(new WordVectors());
  std::string line;
  std::size_t lineNo = 0;
  std::vector<std::uint32_t> seen;  // hash table of the words so far, for duplicates
  std::uint64_t seenMask = (1u << 16) - 1;
  seen.assign(seenMask + 1, 0);
  wv->ownedOffsets_.push_back(0);
  while (std::getline(*in, line)) {
    ++lineNo;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const auto space = line.find(' ');
    if (space == std::string::npos || space == 0)
      fail(ErrorCode::InvalidInput, fmt::format("{} line {}: expected a word followed by its vector", textPath, lineNo));
    const std::string_view word(line.data(), space);
    std::vector<float> values;
    const char* p = line.c_str() + space;
    while (*p) {
      while (*p == ' ' || *p == '\t') ++p;
      if (!*p) break;
      char* end = nullptr;
      const float v = std::strtof(p, &end);
      if (end == p || !std::isfinite(v))
        fail(ErrorCode::InvalidInput,
             fmt::format("{} line {}: '{}' is not a number", textPath, lineNo, std::string(p, std::strcspn(p, " \t"))));
      values.push_back(v);
      p = end;
    }
    // word2vec's optional first line: "<words> <dims>".
    if (lineNo == 1 && values.size() == 1 && word.find_first_not_of("0123456789") == std::string_view::npos) continue;
    if (wv->dims_ == 0) {
      if (values.empty() || values.size() > 16'384)
        fail(ErrorCode::InvalidInput, fmt::format("{} line {}: a vector needs 1..16384 values", textPath, lineNo));
      wv->dims_ = static_cast<int>(values.size());
    } else if (values.size() != static_cast<std::size_t>(wv->dims_)) {
      fail(ErrorCode::InvalidInput, fmt::format("{} line {}: the vector of '{}' has {} values; earlier lines have {}",
                                                textPath, lineNo, word, values.size(), wv->dims_));
    }
    // A repeated word keeps its first (more frequent) rank.
    if (seen.size() < wv->words_ * 2 + 16) {
      seen.assign(seen.size() * 4, 0);
      seenMask = seen.size() - 1;
      for (std::size_t r = 0; r < wv->words_; ++r) {
        const std::string_view w(wv->ownedBytes_.data() + wv->ownedOffsets_[r],
                                 wv->ownedOffsets_[r + 1] - wv->ownedOffsets_[r]);
        std::uint64_t s = fnv1a(w) & seenMask;
        while (seen[s]) s = (s + 1) & seenMask;
        seen[s] = static_cast<std::uint32_t>(r + 1);
      }
    }
    bool duplicate = false;
    std::uint64_t s = fnv1a(word) & seenMask;
    for (; seen[s]; s = (s + 1) & seenMask) {
      const auto r = seen[s] - 1;
      if (std::string_view(wv->ownedBytes_.data() + wv->ownedOffsets_[r], wv->ownedOffsets_[r + 1] - wv->ownedOffsets_[r]) ==
          word) {
        duplicate = true;
        break;
      }
    }
    if (duplicate) continue;
    seen[s] = static_cast<std::uint32_t>(wv->words_ + 1);
    wv->ownedBytes_.append(word);
    wv->ownedOffsets_.push_back(static_cast<std::uint32_t>(wv->ownedBytes_.size()));
    wv->ownedVectors_.insert(wv->ownedVectors_.end(), values.begin(), values.end());
    ++wv->words_;
  }
  if (wv->words_ == 0) fail(ErrorCode::InvalidInput, fmt::format("{} holds no word vectors", textPath));
  wv->vectors_ = wv->ownedVectors_.data();
  wv->wordOffsets_ = wv->ownedOffsets_.data();
  wv->wordBytes_ = wv->ownedBytes_.data();
  wv->buildTable();
  double normSum = 0;
  for (std::size_t r = 0; r < wv->words_; ++r) {
    double norm = 0;
    for (float x : wv->vector(r)) norm += static_cast<double>(x) * x;
    normSum += std::sqrt(norm);
  }
  wv->meanNorm_ = static_cast<float>(normSum / static_cast<double>(wv->words_));
  wv->sif_ = sif;
  wv->sif_.components = componentCount(sif, wv->dims_);
  wv->components_ = wv->estimateComponents(wv->sif_);
  wv->zipfNorm_ = wv->normaliser(wv->sif_);
  wv->fingerprint_ = hex(wv->computeFingerprint());
  return wv;
}

std::size_t WordVectors::convert(const std::string& textPath, const std::string& out, const SifParams& sif) {
  auto wv = parseText(textPath, sif);
  Header h{};
  std::memcpy(h.magic, kMagic, sizeof kMagic);
  h.dims = static_cast<std::uint32_t>(wv->dims_);
  h.words = wv->words_;
  h.slots = wv->tableMask_ + 1;
  h.wordBytes = wv->ownedBytes_.size();
  h.meanNorm = wv->meanNorm_;
  h.components = static_cast<std::uint32_t>(wv->sif_.components);
  h.a = wv->sif_.a;
  h.zipfOffset = wv->sif_.zipfOffset;
  h.zipfExponent = wv->sif_.zipfExponent;
  h.sentenceLength = wv->sif_.sentenceLength;
  h.zipfNorm = wv->zipfNorm_;
  h.fingerprint = wv->computeFingerprint();
  const Layout l(h);
  const std::string tmp = out + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) fail(ErrorCode::Driver, fmt::format("cannot write {}", tmp));
    auto pad = [&](std::size_t to) {
      static const char zeros[kAlign] = {};
      f.write(zeros, static_cast<std::streamsize>(to - static_cast<std::size_t>(f.tellp())));
    };
    auto put = [&](const void* p, std::size_t n) { f.write(static_cast<const char*>(p), static_cast<std::streamsize>(n)); };
    put(&h, sizeof h);
    put(wv->components_.data(), wv->components_.size() * sizeof(float));
    pad(l.vectors);
    put(wv->ownedVectors_.data(), wv->ownedVectors_.size() * sizeof(float));
    pad(l.offsets);
    put(wv->ownedOffsets_.data(), wv->ownedOffsets_.size() * sizeof(std::uint32_t));
    pad(l.table);
    put(wv->ownedTable_.data(), wv->ownedTable_.size() * sizeof(std::uint32_t));
    pad(l.words);
    put(wv->ownedBytes_.data(), wv->ownedBytes_.size());
    f.flush();
    if (!f) fail(ErrorCode::Driver, fmt::format("writing {} failed", tmp));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, out, ec);
  if (ec) fail(ErrorCode::Driver, fmt::format("cannot rename {} to {}: {}", tmp, out, ec.message()));
  return wv->words_;
}

std::shared_ptr<const WordVectors> WordVectors::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    fail(ErrorCode::NotFound, fmt::format("cannot open the word vector file {}: {}", path, std::strerror(errno)));
  char magic[8] = {};
  const bool binary =
      ::pread(fd, magic, sizeof magic, 0) == sizeof magic && std::memcmp(magic, kMagic, kMagicPrefix) == 0;
  if (!binary) {
    ::close(fd);
    return parseText(path);
  }
  if (std::memcmp(magic, kMagic, sizeof magic) != 0) {
    ::close(fd);
    fail(ErrorCode::InvalidInput,
         fmt::format("{} is khive's binary word vector form of another version ({}, this build reads {}); convert it "
                     "again: bash scripts/static-model.sh for the default model, else khive-wordvectors convert, "
                     "then khive reindex",
                     path, std::string_view(magic, 8), std::string_view(kMagic, 8)));
  }
  struct stat st{};
  ::fstat(fd, &st);
  const auto size = static_cast<std::size_t>(st.st_size);
  void* map = size >= sizeof(Header) ? ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0) : MAP_FAILED;
  ::close(fd);
  if (map == MAP_FAILED) fail(ErrorCode::InvalidInput, fmt::format("cannot map the word vector file {}", path));
  std::shared_ptr<WordVectors> wv(new WordVectors());
  wv->map_ = map;
  wv->mapBytes_ = size;
  Header h;
  std::memcpy(&h, map, sizeof h);
  const Layout l(h);
  if (h.dims == 0 || h.dims > 16'384 || h.words == 0 || h.words >= 0xFFFFFFFFu || h.components == 0 ||
      h.components > h.dims || std::popcount(h.slots) != 1 || h.slots < h.words || l.total != size)
    fail(ErrorCode::InvalidInput,
         fmt::format("{} is damaged or truncated ({} bytes, its header implies {}); convert the word vectors again",
                     path, size, l.total));
  const char* base = static_cast<const char*>(map);
  wv->dims_ = static_cast<int>(h.dims);
  wv->words_ = h.words;
  wv->meanNorm_ = h.meanNorm;
  wv->sif_ = {.a = h.a,
              .zipfOffset = h.zipfOffset,
              .zipfExponent = h.zipfExponent,
              .sentenceLength = h.sentenceLength,
              .components = static_cast<int>(h.components)};
  wv->zipfNorm_ = h.zipfNorm;
  const auto* comp = reinterpret_cast<const float*>(base + l.component);
  wv->components_.assign(comp, comp + std::size_t{h.components} * h.dims);
  wv->vectors_ = reinterpret_cast<const float*>(base + l.vectors);
  wv->wordOffsets_ = reinterpret_cast<const std::uint32_t*>(base + l.offsets);
  wv->table_ = reinterpret_cast<const std::uint32_t*>(base + l.table);
  wv->tableMask_ = h.slots - 1;
  wv->wordBytes_ = base + l.words;
  if (wv->wordOffsets_[h.words] != h.wordBytes || wv->computeFingerprint() != h.fingerprint || !(h.zipfNorm > 0))
    fail(ErrorCode::InvalidInput, fmt::format("{} is damaged; convert the word vectors again", path));
  wv->fingerprint_ = hex(h.fingerprint);
  return wv;
}

}  // namespace khive::retrieval
