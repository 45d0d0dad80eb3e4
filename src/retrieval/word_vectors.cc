// Word vectors (khive/retrieval/word_vectors.h): the text format, khive's binary form, SIF.
//
// Binary form (native little-endian), every section starting at a multiple of 64 bytes:
//   header     magic "KHWVEC01", u32 dims, u32 0, u64 words, u64 table slots (a power of two),
//              u64 word bytes, f32 mean vector norm, f32 0, u64 0 x2, then the common
//              component (f32 x dims)
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
constexpr char kMagic[8] = {'K', 'H', 'W', 'V', 'E', 'C', '0', '1'};
constexpr std::size_t kAlign = 64;

struct Header {
  char magic[8];
  std::uint32_t dims;
  std::uint32_t reserved0;
  std::uint64_t words;
  std::uint64_t slots;
  std::uint64_t wordBytes;
  float meanNorm;
  float reserved1;
  std::uint64_t reserved2[2];
};
static_assert(sizeof(Header) == 64);
static_assert(std::endian::native == std::endian::little, "the binary form is read as native little-endian");

std::size_t aligned(std::size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

// Offsets of the sections for a header.
struct Layout {
  std::size_t component, vectors, offsets, table, words, total;
  explicit Layout(const Header& h) {
    component = sizeof(Header);
    vectors = aligned(component + h.dims * sizeof(float));
    offsets = aligned(vectors + h.words * h.dims * sizeof(float));
    table = aligned(offsets + (h.words + 1) * sizeof(std::uint32_t));
    words = aligned(table + h.slots * sizeof(std::uint32_t));
    total = words + h.wordBytes;
  }
};

// H_N, the normaliser of the Zipf estimate.
double harmonic(std::size_t n) {
  double h = 0;
  for (std::size_t r = n; r >= 1; --r) h += 1.0 / static_cast<double>(r);
  return h;
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

double WordVectors::probability(std::size_t rank) const noexcept {
  return 1.0 / (static_cast<double>(rank + 1) * harmonic_);
}

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

std::vector<float> WordVectors::sentenceVector(std::string_view text, double a, bool removeComponent) const {
  const auto d = static_cast<std::size_t>(dims_);
  std::vector<double> acc(d, 0.0);
  std::vector<float> unknown(d);
  std::size_t n = 0;
  const double rarest = probability(words_ == 0 ? 0 : words_ - 1);
  for (const auto& tok : tokens(text)) {
    const std::int64_t r = rank(tok);
    std::span<const float> v;
    double p = rarest;
    if (r >= 0) {
      v = vector(static_cast<std::size_t>(r));
      p = probability(static_cast<std::size_t>(r));
    } else {
      unknownVector(tok, unknown);
      v = unknown;
    }
    const double c = a / (a + p);
    for (std::size_t j = 0; j < d; ++j) acc[j] += c * v[j];
    ++n;
  }
  std::vector<float> out(d, 0.0f);
  if (n == 0) return out;
  for (auto& x : acc) x /= static_cast<double>(n);
  if (removeComponent && component_.size() == d) {
    double proj = 0;
    for (std::size_t j = 0; j < d; ++j) proj += acc[j] * component_[j];
    for (std::size_t j = 0; j < d; ++j) acc[j] -= proj * component_[j];
  }
  for (std::size_t j = 0; j < d; ++j) out[j] = static_cast<float>(acc[j]);
  return out;
}

void WordVectors::computeComponent() {
  double normSum = 0;
  for (std::size_t r = 0; r < words_; ++r) {
    const auto v = vector(r);
    double norm = 0;
    for (float x : v) norm += static_cast<double>(x) * x;
    normSum += std::sqrt(norm);
  }
  meanNorm_ = words_ ? static_cast<float>(normSum / static_cast<double>(words_)) : 1.0f;
  component_ = estimateComponent(kSifA, kSifSentenceLength);
}

std::vector<float> WordVectors::estimateComponent(double a, double sentenceLength) const {
  const auto d = static_cast<std::size_t>(dims_);
  std::vector<double> m(d, 0.0), c(d * d, 0.0), row(d);
  for (std::size_t r = 0; r < words_; ++r) {
    const auto v = vector(r);
    const double p = probability(r);
    const double w = a / (a + p);
    for (std::size_t i = 0; i < d; ++i) {
      row[i] = w * v[i];
      m[i] += p * row[i];
    }
    for (std::size_t i = 0; i < d; ++i) {
      const double pi = p * row[i];
      double* ci = c.data() + i * d;
      for (std::size_t j = 0; j <= i; ++j) ci[j] += pi * row[j];
    }
  }
  const double l = sentenceLength;
  for (std::size_t i = 0; i < d; ++i)
    for (std::size_t j = 0; j <= i; ++j) {
      const double v = (1 - 1 / l) * m[i] * m[j] + c[i * d + j] / l;
      c[i * d + j] = v;
      c[j * d + i] = v;
    }
  // Power iteration from the mean direction (the component is close to it).
  std::vector<double> u = m, next(d);
  for (int it = 0; it < 200; ++it) {
    double norm = 0;
    for (double x : u) norm += x * x;
    norm = std::sqrt(norm);
    if (!(norm > 0)) break;
    for (auto& x : u) x /= norm;
    for (std::size_t i = 0; i < d; ++i) {
      double s = 0;
      for (std::size_t j = 0; j < d; ++j) s += c[i * d + j] * u[j];
      next[i] = s;
    }
    u.swap(next);
  }
  double norm = 0;
  for (double x : u) norm += x * x;
  norm = std::sqrt(norm);
  std::vector<float> out(d, 0.0f);
  if (norm > 0)
    for (std::size_t i = 0; i < d; ++i) out[i] = static_cast<float>(u[i] / norm);
  return out;
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

std::shared_ptr<const WordVectors> WordVectors::parseText(const std::string& textPath) {
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
  wv->harmonic_ = harmonic(wv->words_);
  wv->buildTable();
  wv->computeComponent();
  return wv;
}

std::size_t WordVectors::convert(const std::string& textPath, const std::string& out) {
  auto wv = parseText(textPath);
  Header h{};
  std::memcpy(h.magic, kMagic, sizeof kMagic);
  h.dims = static_cast<std::uint32_t>(wv->dims_);
  h.words = wv->words_;
  h.slots = wv->tableMask_ + 1;
  h.wordBytes = wv->ownedBytes_.size();
  h.meanNorm = wv->meanNorm_;
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
    put(wv->component_.data(), wv->component_.size() * sizeof(float));
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
  const bool binary = ::pread(fd, magic, sizeof magic, 0) == sizeof magic && std::memcmp(magic, kMagic, 8) == 0;
  if (!binary) {
    ::close(fd);
    return parseText(path);
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
  if (h.dims == 0 || h.dims > 16'384 || h.words == 0 || h.words >= 0xFFFFFFFFu ||
      std::popcount(h.slots) != 1 || h.slots < h.words || l.total != size)
    fail(ErrorCode::InvalidInput,
         fmt::format("{} is damaged or truncated ({} bytes, its header implies {}); convert the word vectors again",
                     path, size, l.total));
  const char* base = static_cast<const char*>(map);
  wv->dims_ = static_cast<int>(h.dims);
  wv->words_ = h.words;
  wv->meanNorm_ = h.meanNorm;
  const auto* comp = reinterpret_cast<const float*>(base + l.component);
  wv->component_.assign(comp, comp + h.dims);
  wv->vectors_ = reinterpret_cast<const float*>(base + l.vectors);
  wv->wordOffsets_ = reinterpret_cast<const std::uint32_t*>(base + l.offsets);
  wv->table_ = reinterpret_cast<const std::uint32_t*>(base + l.table);
  wv->tableMask_ = h.slots - 1;
  wv->wordBytes_ = base + l.words;
  if (wv->wordOffsets_[h.words] != h.wordBytes)
    fail(ErrorCode::InvalidInput, fmt::format("{} is damaged; convert the word vectors again", path));
  wv->harmonic_ = harmonic(h.words);
  return wv;
}

}  // namespace khive::retrieval
