// The index file of a VectorSpaceIndex (vector_index.h): save and load.
//
// Layout (native little-endian):
//   header   magic "KHVIDX01", u32 format, u32 dims, u32 hnsw, u32 0, i64 applied seq,
//            u64 internal ids, i64 live, u64 payload bytes, u64 payload hash, u64 header hash
//   payload  model, field, namespace and kind names; per internal id: vid, subject, namespace,
//            kind, alive; the vectors; for HNSW the graph (levels, offsets, neighbours, entry
//            point, level probabilities).
// The payload hash covers every payload byte, the header hash the header before it, so a
// truncated, torn or otherwise damaged file is recognised and never used.

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>
#include <type_traits>

#include "backends/sqlite/vector_index.h"

namespace khive::sqlite {

namespace {
constexpr char kMagic[8] = {'K', 'H', 'V', 'I', 'D', 'X', '0', '1'};
constexpr std::uint32_t kFormat = 1;

struct Header {
  char magic[8];
  std::uint32_t format;
  std::uint32_t dims;
  std::uint32_t hnsw;
  std::uint32_t reserved;
  std::int64_t appliedSeq;
  std::uint64_t count;
  std::int64_t live;
  std::uint64_t payloadBytes;
  std::uint64_t payloadHash;
  std::uint64_t headerHash;
};
static_assert(std::is_trivially_copyable_v<Header> && sizeof(Header) == 72);

// A 64-bit hash over 32-byte blocks in four independent lanes (fast enough that checking a
// file of tens of megabytes costs milliseconds). Detects damage, not tampering.
std::uint64_t hashBytes(const char* p, std::size_t n) {
  constexpr std::uint64_t kMul = 0x9E3779B97F4A7C15ull;
  std::uint64_t lane[4] = {0x243F6A8885A308D3ull, 0x13198A2E03707344ull, 0xA4093822299F31D0ull, 0x082EFA98EC4E6C89ull};
  auto mix = [](std::uint64_t h, std::uint64_t w) {
    h ^= w;
    h *= kMul;
    return (h << 31) | (h >> 33);
  };
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    std::uint64_t w[4];
    std::memcpy(w, p + i, 32);
    for (int k = 0; k < 4; ++k) lane[k] = mix(lane[k], w[k]);
  }
  std::uint64_t h = n * kMul;
  for (int k = 0; k < 4; ++k) h = mix(h, lane[k]);
  for (; i < n; ++i) h = mix(h, static_cast<unsigned char>(p[i]));
  h ^= h >> 29;
  h *= kMul;
  return h ^ (h >> 32);
}

class Writer {
 public:
  template <class T>
  void pod(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    bytes(&v, sizeof v);
  }
  template <class T>
  void array(const std::vector<T>& v) {
    pod<std::uint64_t>(v.size());
    bytes(v.data(), v.size() * sizeof(T));
  }
  void str(const std::string& s) {
    pod<std::uint64_t>(s.size());
    bytes(s.data(), s.size());
  }
  void bytes(const void* p, std::size_t n) { buf.append(static_cast<const char*>(p), n); }
  std::string buf;
};

// Reads the payload; any read past the end marks it bad and yields zeros.
class Reader {
 public:
  Reader(const char* p, std::size_t n) : p_(p), n_(n) {}
  template <class T>
  T pod() {
    T v{};
    bytes(&v, sizeof v);
    return v;
  }
  template <class T>
  void array(std::vector<T>& v, std::uint64_t expected = ~0ull) {
    const auto n = pod<std::uint64_t>();
    if (bad || (expected != ~0ull && n != expected) || n > (n_ - at_) / sizeof(T)) {
      bad = true;
      return;
    }
    v.resize(n);
    bytes(v.data(), n * sizeof(T));
  }
  std::string str() {
    const auto n = pod<std::uint64_t>();
    if (bad || n > n_ - at_) {
      bad = true;
      return {};
    }
    std::string s(p_ + at_, n);
    at_ += n;
    return s;
  }
  void bytes(void* out, std::size_t n) {
    if (bad || n > n_ - at_) {
      bad = true;
      return;
    }
    std::memcpy(out, p_ + at_, n);
    at_ += n;
  }
  bool done() const { return !bad && at_ == n_; }
  bool bad = false;

 private:
  const char* p_;
  std::size_t n_;
  std::size_t at_ = 0;
};

bool writeAll(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

std::string safeName(const std::string& s) {
  std::string out;
  for (char c : s.substr(0, 48)) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '_';
  return out;
}
}  // namespace

std::string vectorIndexFile(const std::string& dbPath, const std::string& model, const std::string& field) {
  const std::string key = model + '\0' + field;
  return fmt::format("{}-vectors/{}.{}.{:08x}.kvi", dbPath, safeName(model), safeName(field),
                     hashBytes(key.data(), key.size()) & 0xFFFFFFFFu);
}

void VectorSpaceIndex::saveLocked() {
  Writer w;
  w.str(model_);
  w.str(field_);
  for (const Interner* in : {&namespaces_, &kinds_}) {
    w.pod<std::uint64_t>(in->names.size());
    for (const auto& name : in->names) w.str(name);
  }
  w.array(vids_);
  w.array(subjects_);
  w.array(nsOf_);
  w.array(kindOf_);
  w.array(alive_);
  const auto n = vids_.size();
  w.pod<std::uint64_t>(n * static_cast<std::size_t>(dims_));
  w.bytes(vectorData(), n * static_cast<std::size_t>(dims_) * sizeof(float));
  if (hnsw_) {
    const auto& h = static_cast<const faiss::IndexHNSW*>(index_.get())->hnsw;
    w.array(h.assign_probas);
    w.array(h.cum_nneighbor_per_level);
    w.array(h.levels);
    w.array(h.offsets);
    w.array(h.neighbors);
    w.pod<std::int32_t>(h.entry_point);
    w.pod<std::int32_t>(h.max_level);
  }

  Header hd{};
  std::memcpy(hd.magic, kMagic, sizeof kMagic);
  hd.format = kFormat;
  hd.dims = static_cast<std::uint32_t>(dims_);
  hd.hnsw = hnsw_ ? 1 : 0;
  hd.appliedSeq = appliedSeq_;
  hd.count = n;
  hd.live = live_;
  hd.payloadBytes = w.buf.size();
  hd.payloadHash = hashBytes(w.buf.data(), w.buf.size());
  hd.headerHash = hashBytes(reinterpret_cast<const char*>(&hd), offsetof(Header, headerHash));

  // Written to a temporary file of this process, flushed, then renamed over the file: readers
  // see the old file or the new one. A crash leaves at most the temporary file, which nothing
  // reads and the next save removes.
  std::error_code ec;
  const std::filesystem::path target(file_);
  std::filesystem::create_directories(target.parent_path(), ec);
  const std::string prefix = target.filename().string() + ".";
  for (const auto& e : std::filesystem::directory_iterator(target.parent_path(), ec)) {
    const auto name = e.path().filename().string();
    if (name.starts_with(prefix) && name.ends_with(".tmp")) {
      struct stat st{};
      // Another process's save in progress is young; one torn by a crash stays behind.
      if (::stat(e.path().c_str(), &st) == 0 && ::time(nullptr) - st.st_mtime > 600) std::filesystem::remove(e.path(), ec);
    }
  }
  const std::string tmp = fmt::format("{}.{}.{:x}.tmp", file_, ::getpid(), std::random_device{}());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  const bool ok = writeAll(fd, reinterpret_cast<const char*>(&hd), sizeof hd) &&
                  writeAll(fd, w.buf.data(), w.buf.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), file_.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return;
  }
  if (const int dir = ::open(target.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  savedSeq_ = appliedSeq_;
  unsaved_ = 0;
  rebuiltUnsaved_ = false;
  ++fileSaves_;
}

bool VectorSpaceIndex::loadLocked() {
  auto reject = [&](std::string why) {
    fileRejected_ = std::move(why);
    return false;
  };
  const int fd = ::open(file_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return reject(errno == ENOENT ? "" : fmt::format("cannot open {}: {}", file_, std::strerror(errno)));
  // Mapped, not read: the pages come straight from the page cache, nothing is zero-filled.
  struct stat st{};
  const std::size_t size = ::fstat(fd, &st) == 0 && st.st_size > 0 ? static_cast<std::size_t>(st.st_size) : 0;
  void* map = size ? ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
  ::close(fd);
  if (map == MAP_FAILED && size) return reject(fmt::format("cannot map {}: {}", file_, std::strerror(errno)));
  struct Unmap {
    void* p;
    std::size_t n;
    ~Unmap() {
      if (p != MAP_FAILED) ::munmap(p, n);
    }
  } unmap{map, size};
  const std::string_view data(map == MAP_FAILED ? nullptr : static_cast<const char*>(map), size);

  Header hd{};
  if (data.size() < sizeof hd) return reject(fmt::format("{} is truncated ({} bytes)", file_, data.size()));
  std::memcpy(&hd, data.data(), sizeof hd);
  if (std::memcmp(hd.magic, kMagic, sizeof kMagic) != 0 || hd.format != kFormat)
    return reject(fmt::format("{} is not a vector index file of this format", file_));
  if (hd.headerHash != hashBytes(data.data(), offsetof(Header, headerHash)))
    return reject(fmt::format("{} has a damaged header", file_));
  if (hd.payloadBytes != data.size() - sizeof hd)
    return reject(fmt::format("{} is truncated or torn ({} payload bytes, header says {})", file_,
                              data.size() - sizeof hd, hd.payloadBytes));
  const char* payload = data.data() + sizeof hd;
  if (hd.payloadHash != hashBytes(payload, hd.payloadBytes)) return reject(fmt::format("{} fails its checksum", file_));
  if (hd.dims != static_cast<std::uint32_t>(dims_))
    return reject(fmt::format("{} holds {}-dimensional vectors; the space has {}", file_, hd.dims, dims_));

  Reader r(payload, hd.payloadBytes);
  if (r.str() != model_ || r.str() != field_) return reject(fmt::format("{} belongs to another vector space", file_));
  resetLocked(hd.hnsw != 0);
  for (Interner* in : {&namespaces_, &kinds_}) {
    const auto names = r.pod<std::uint64_t>();
    for (std::uint64_t i = 0; i < names && !r.bad; ++i) in->intern(r.str());
  }
  const auto n = hd.count;
  r.array(vids_, n);
  r.array(subjects_, n);
  r.array(nsOf_, n);
  r.array(kindOf_, n);
  r.array(alive_, n);
  // The vectors go straight into the flat storage's codes.
  auto* flat = static_cast<faiss::IndexFlat*>(hnsw_ ? static_cast<faiss::IndexHNSW*>(index_.get())->storage
                                                    : index_.get());
  if (r.pod<std::uint64_t>() != n * static_cast<std::uint64_t>(dims_)) r.bad = true;
  if (!r.bad && n <= hd.payloadBytes) {
    flat->codes.resize(n * static_cast<std::size_t>(dims_) * sizeof(float));
    r.bytes(flat->codes.data(), flat->codes.size());
  }
  faiss::HNSW* graph = nullptr;
  if (hnsw_) {
    graph = &static_cast<faiss::IndexHNSW*>(index_.get())->hnsw;
    r.array(graph->assign_probas);
    r.array(graph->cum_nneighbor_per_level);
    r.array(graph->levels, n);
    r.array(graph->offsets, n + 1);
    r.array(graph->neighbors);
    graph->entry_point = r.pod<std::int32_t>();
    graph->max_level = r.pod<std::int32_t>();
  }
  bool consistent = r.done();
  for (std::uint64_t i = 0; consistent && i < n; ++i)
    consistent = nsOf_[i] < namespaces_.names.size() && kindOf_[i] < kinds_.names.size();
  if (graph && consistent)
    consistent = graph->offsets.back() == graph->neighbors.size() && (n == 0 || graph->entry_point < std::int64_t(n));
  if (!consistent) {
    resetLocked(false);
    return reject(fmt::format("{} is inconsistent with its header", file_));
  }

  live_ = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    const auto key = (std::uint64_t{nsOf_[i]} << 32) | kindOf_[i];
    membersByNsKind_[key].push_back(i);
    if (!alive_[i]) continue;
    internalOf_.emplace(vids_[i], i);
    ++liveByNsKind_[key];
    ++live_;
  }
  if (live_ != hd.live) {
    resetLocked(false);
    return reject(fmt::format("{} is inconsistent with its header", file_));
  }
  flat->ntotal = static_cast<faiss::Index::idx_t>(n);
  index_->ntotal = static_cast<faiss::Index::idx_t>(n);

  appliedSeq_ = hd.appliedSeq;
  savedSeq_ = hd.appliedSeq;
  built_ = true;
  unsaved_ = 0;
  rebuiltUnsaved_ = false;
  fileRejected_.clear();
  return true;
}

}  // namespace khive::sqlite
