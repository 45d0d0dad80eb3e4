#include "backends/sqlite/vector_index.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/impl/HNSW.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/impl/DistanceComputer.h>
#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <map>
#include <mutex>

#include "backends/sqlite/sql_build.h"
#include "khive/core/error.h"

namespace khive::sqlite {

namespace {
constexpr std::string_view kCap = "vectors";

// The canonical blob is little-endian float32; on a little-endian host that is the in-memory
// layout and a memcpy reads it.
static_assert(std::endian::native == std::endian::little, "vector blobs are read as native little-endian floats");

std::uint64_t nsKindKey(std::uint32_t ns, std::uint32_t kind) { return (std::uint64_t{ns} << 32) | kind; }

// Admits internal ids that are live and pass the namespace/kind masks, or that are set in the
// bitmap of a property filter (evaluated by SQLite, which already applied namespace and kind).
class FilterSelector final : public faiss::IDSelector {
 public:
  FilterSelector(const std::vector<std::uint8_t>& alive, const std::vector<std::uint32_t>& nsOf,
                 const std::vector<std::uint32_t>& kindOf, const std::vector<std::uint8_t>& nsAllowed,
                 const std::vector<std::uint8_t>* kindAllowed, const std::vector<std::uint8_t>* bitmap)
      : alive_(alive), nsOf_(nsOf), kindOf_(kindOf), nsAllowed_(nsAllowed), kindAllowed_(kindAllowed), bitmap_(bitmap) {}

  bool is_member(idx_t id) const override {
    auto i = static_cast<std::size_t>(id);
    if (bitmap_) return (*bitmap_)[i] != 0;
    if (!alive_[i] || !nsAllowed_[nsOf_[i]]) return false;
    return !kindAllowed_ || (*kindAllowed_)[kindOf_[i]];
  }

 private:
  const std::vector<std::uint8_t>& alive_;
  const std::vector<std::uint32_t>& nsOf_;
  const std::vector<std::uint32_t>& kindOf_;
  const std::vector<std::uint8_t>& nsAllowed_;
  const std::vector<std::uint8_t>* kindAllowed_;
  const std::vector<std::uint8_t>* bitmap_;
};

// A deferred read transaction, so several SELECTs see one snapshot. Single-threaded.
class ReadSnapshot {
 public:
  explicit ReadSnapshot(Conn& conn) : conn_(conn) { conn_.exec("BEGIN", kCap, "index_sync"); }
  ~ReadSnapshot() {
    try {
      conn_.exec("COMMIT", kCap, "index_sync");
    } catch (const Error&) {
      // A read-only transaction has nothing to lose; ROLLBACK ends it just as well.
      sqlite3_exec(conn_.db(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
  }
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;

 private:
  Conn& conn_;
};

// Debian's libfaiss is built without SIMD: its inner product is the scalar reference loop,
// which dominated query time in bench/retrieval_bench.cc. This one keeps eight independent
// partial sums (so GCC vectorises it without -ffast-math) and is compiled twice, for AVX2 and
// for baseline x86-64, the loader picking the one the CPU supports.
__attribute__((target_clones("avx2", "default"))) float dot(const float* a, const float* b, std::size_t d) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  std::size_t j = 0;
  for (; j + 8 <= d; j += 8)
    for (std::size_t k = 0; k < 8; ++k) acc[k] += a[j + k] * b[j + k];
  float tail = 0;
  for (; j < d; ++j) tail += a[j] * b[j];
  return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail;
}

// Inner-product distances over IndexFlatIP storage with the dot() above.
class FastIpComputer final : public faiss::FlatCodesDistanceComputer {
 public:
  FastIpComputer(const faiss::IndexFlat& storage)
      : FlatCodesDistanceComputer(storage.codes.data(), storage.code_size),
        xb_(storage.get_xb()),
        d_(static_cast<std::size_t>(storage.d)) {}
  void set_query(const float* x) override { q_ = x; }
  float distance_to_code(const std::uint8_t* code) override {
    return dot(q_, reinterpret_cast<const float*>(code), d_);
  }
  float symmetric_dis(idx_t i, idx_t j) override {
    return dot(xb_ + static_cast<std::size_t>(i) * d_, xb_ + static_cast<std::size_t>(j) * d_, d_);
  }

 private:
  const float* xb_;
  std::size_t d_;
  const float* q_ = nullptr;
};

// IndexFlatIP whose distance computer (used by HNSW for building and searching) is FastIpComputer.
class FastFlatIP final : public faiss::IndexFlatIP {
 public:
  explicit FastFlatIP(int d) : faiss::IndexFlatIP(d) {}
  faiss::FlatCodesDistanceComputer* get_FlatCodesDistanceComputer() const override {
    return new FastIpComputer(*this);
  }
};

double scoreOf(float dot) { return std::clamp((1.0 + static_cast<double>(dot)) / 2.0, 0.0, 1.0); }
}  // namespace

std::int64_t latestVectorSeq(Conn& conn, const std::string& model, const std::string& field) {
  // The floor counts too: once rebuildVectorIndex has pruned the log, max(seq) alone could fall
  // below the seq an older index in another process holds and hide what it missed.
  auto stmt = conn.prepare(
      "SELECT max(coalesce((SELECT max(seq) FROM vector_changes WHERE model = ?1 AND field = ?2), 0), "
      "coalesce((SELECT floor_seq FROM vector_log_floor WHERE model = ?1 AND field = ?2), 0))",
      kCap, "search");
  stmt.bindText(1, model).bindText(2, field);
  stmt.step();
  return stmt.getInt(0);
}

const VectorIndexTuning& vectorIndexTuning() {
  static const VectorIndexTuning tuning;
  return tuning;
}

bool normalize(std::span<float> v) {
  double sum = 0;
  for (float x : v) sum += static_cast<double>(x) * x;
  if (!(sum > 0) || !std::isfinite(sum)) return false;
  const float inv = static_cast<float>(1.0 / std::sqrt(sum));
  for (float& x : v) x *= inv;
  return true;
}

std::uint32_t VectorSpaceIndex::Interner::intern(const std::string& s) {
  auto [it, inserted] = ids.try_emplace(s, static_cast<std::uint32_t>(names.size()));
  if (inserted) names.push_back(s);
  return it->second;
}

VectorSpaceIndex::VectorSpaceIndex(std::string model, std::string field, int dims, std::string file, bool readOnly)
    : model_(std::move(model)), field_(std::move(field)), dims_(dims), file_(std::move(file)), readOnly_(readOnly) {}

VectorSpaceIndex::~VectorSpaceIndex() = default;

VectorSpaceIndex::State VectorSpaceIndex::state() const {
  std::shared_lock lock(mu_);
  return {built_ ? (hnsw_ ? "hnsw" : "flat") : "none",
          live_,
          appliedSeq_,
          graphSearches_.load(),
          exactScans_.load(),
          shortFallbacks_.load(),
          fileLoads_,
          rebuilds_,
          fileSaves_,
          fileRejected_};
}

std::int64_t VectorSpaceIndex::latestSeq(Conn& conn) const {
  return latestVectorSeq(conn, model_, field_);
}

const float* VectorSpaceIndex::vectorData() const {
  if (hnsw_) {
    auto* h = static_cast<const faiss::IndexHNSW*>(index_.get());
    return static_cast<const faiss::IndexFlat*>(h->storage)->get_xb();
  }
  return static_cast<const faiss::IndexFlat*>(index_.get())->get_xb();
}

void VectorSpaceIndex::resetLocked(bool hnsw) {
  const auto& t = vectorIndexTuning();
  if (hnsw) {
    // IndexHNSW over FastFlatIP storage: the same structure as IndexHNSWFlat (IP), with the
    // vectorised distance computer. own_fields hands the storage to the index.
    auto idx = std::make_unique<faiss::IndexHNSW>(new FastFlatIP(dims_), t.hnswM);
    idx->own_fields = true;
    idx->is_trained = true;
    idx->hnsw.efConstruction = t.efConstruction;
    idx->hnsw.efSearch = t.efSearch;
    index_ = std::move(idx);
  } else {
    index_ = std::make_unique<FastFlatIP>(dims_);
  }
  hnsw_ = hnsw;
  vids_.clear();
  subjects_.clear();
  nsOf_.clear();
  kindOf_.clear();
  alive_.clear();
  internalOf_.clear();
  liveByNsKind_.clear();
  membersByNsKind_.clear();
  namespaces_ = {};
  kinds_ = {};
  live_ = 0;
}

void VectorSpaceIndex::addLocked(std::vector<Row>& rows) {
  if (rows.empty()) return;
  std::vector<float> data;
  data.reserve(rows.size() * static_cast<std::size_t>(dims_));
  for (auto& r : rows) {
    const auto internal = static_cast<std::uint32_t>(vids_.size());
    const auto ns = namespaces_.intern(r.ns);
    const auto kind = kinds_.intern(r.kind);
    vids_.push_back(r.vid);
    subjects_.push_back(r.subject);
    nsOf_.push_back(ns);
    kindOf_.push_back(kind);
    alive_.push_back(1);
    internalOf_.emplace(r.vid, internal);
    ++liveByNsKind_[nsKindKey(ns, kind)];
    membersByNsKind_[nsKindKey(ns, kind)].push_back(internal);
    ++live_;
    data.insert(data.end(), r.unit.begin(), r.unit.end());
  }
  index_->add(static_cast<faiss::Index::idx_t>(rows.size()), data.data());
}

void VectorSpaceIndex::removeLocked(std::int64_t vid) {
  auto it = internalOf_.find(vid);
  if (it == internalOf_.end()) return;
  const auto i = it->second;
  // HNSW cannot remove a node; the tombstone keeps it out of every result (the selector and
  // the exact scan both test alive_) until the next rebuild compacts it away.
  alive_[i] = 0;
  --liveByNsKind_[nsKindKey(nsOf_[i], kindOf_[i])];
  --live_;
  internalOf_.erase(it);
}

namespace {
void readRow(const Stmt& s, int firstCol, int dims, std::int64_t vid, std::vector<float>& unit, Uuid& subject,
             std::string& ns, std::string& kind) {
  subject = Uuid::parse(s.getTextView(firstCol));
  ns = s.getText(firstCol + 1);
  kind = s.getText(firstCol + 2);
  const void* blob = sqlite3_column_blob(s.raw(), firstCol + 3);
  const auto bytes = static_cast<std::size_t>(sqlite3_column_bytes(s.raw(), firstCol + 3));
  if (bytes != static_cast<std::size_t>(dims) * sizeof(float)) {
    throw Error(ErrorCode::IndexMaintenance, std::string(kCap), "index_sync",
                fmt::format("vector {} has {} bytes, expected {} for {} dimensions; the vectors table is damaged", vid,
                            bytes, dims * sizeof(float), dims));
  }
  unit.resize(static_cast<std::size_t>(dims));
  std::memcpy(unit.data(), blob, bytes);
  normalize(unit);
}
}  // namespace

void VectorSpaceIndex::rebuildLocked(Conn& conn) {
  ReadSnapshot snapshot(conn);
  const std::int64_t latest = latestSeq(conn);
  auto count = conn.prepare("SELECT count(*) FROM vectors WHERE model = ? AND field = ?", kCap, "index_sync");
  count.bindText(1, model_).bindText(2, field_);
  count.step();
  const std::int64_t n = count.getInt(0);
  resetLocked(n >= vectorIndexTuning().hnswThreshold);

  auto stmt = conn.prepare(
      "SELECT vid, subject_id, namespace, kind, embedding FROM vectors WHERE model = ? AND field = ? ORDER BY vid",
      kCap, "index_sync");
  stmt.bindText(1, model_).bindText(2, field_);
  std::vector<Row> rows;
  rows.reserve(static_cast<std::size_t>(n));
  while (stmt.step()) {
    Row r;
    r.vid = stmt.getInt(0);
    readRow(stmt, 1, dims_, r.vid, r.unit, r.subject, r.ns, r.kind);
    rows.push_back(std::move(r));
  }
  addLocked(rows);
  appliedSeq_ = latest;
  built_ = true;
  ++rebuilds_;
  unsaved_ = std::max<std::int64_t>(1, n);
  rebuiltUnsaved_ = true;
}

void VectorSpaceIndex::rebuild(Conn& conn) {
  {
    std::unique_lock lock(mu_);
    rebuildLocked(conn);
  }
  saveIfBehind();
}

void VectorSpaceIndex::prepare(Conn& conn) {
  {
    std::unique_lock lock(mu_);
    const std::int64_t latest = latestSeq(conn);
    if (!built_ || appliedSeq_ < latest) syncLocked(conn, latest);
    if (savedSeq_ != appliedSeq_) unsaved_ = std::max<std::int64_t>(unsaved_, 1);
  }
  saveIfBehind();
}

void VectorSpaceIndex::saveIfBehind() {
  if (file_.empty() || readOnly_) return;
  std::lock_guard saving(saveMu_);
  std::shared_lock lock(mu_);
  if (!built_ || unsaved_ == 0) return;
  saveLocked();
}

bool VectorSpaceIndex::loadAndCatchUpLocked(Conn& conn) {
  if (!loadLocked()) return false;
  bool ok = false;
  {
    ReadSnapshot snapshot(conn);
    const std::int64_t latest = latestSeq(conn);
    if (appliedSeq_ > latest) {
      fileRejected_ = fmt::format("the index file holds change-log position {} but the database is at {} (the database "
                                  "was replaced or restored)",
                                  appliedSeq_, latest);
    } else {
      ok = catchUpLocked(conn, latest) && matchesTableLocked(conn);
      if (!ok && fileRejected_.empty()) fileRejected_ = "the index file is too far behind the change log";
    }
  }
  if (!ok) {
    resetLocked(false);
    built_ = false;
    appliedSeq_ = 0;
    savedSeq_ = -1;
  } else {
    ++fileLoads_;
  }
  return ok;
}

bool VectorSpaceIndex::matchesTableLocked(Conn& conn) {
  // The live vids by count and sum, then the newest rows by subject and vector: a file of a
  // database that was replaced or diverged from a common backup differs there (vids are
  // assigned in order, so rows written after the common point are the newest).
  auto stmt = conn.prepare("SELECT count(*), coalesce(sum(vid), 0) FROM vectors WHERE model = ? AND field = ?", kCap,
                           "index_sync");
  stmt.bindText(1, model_).bindText(2, field_);
  stmt.step();
  const std::int64_t count = stmt.getInt(0);
  const std::int64_t sum = stmt.getInt(1);
  std::int64_t mine = 0;
  for (const auto& [vid, internal] : internalOf_) mine += vid;
  if (count != live_ || sum != mine) {
    fileRejected_ = fmt::format(
        "the index file caught up to {} live vectors (vid sum {}) but the table holds {} (vid sum {})", live_, mine,
        count, sum);
    return false;
  }
  // "+model" keeps SQLite off the vectors_space index, so it walks the rowids backwards.
  auto newest = conn.prepare(
      "SELECT vid, subject_id, namespace, kind, embedding FROM vectors WHERE +model = ? AND +field = ? ORDER BY vid "
      "DESC LIMIT 64",
      kCap, "index_sync");
  newest.bindText(1, model_).bindText(2, field_);
  const float* xb = vectorData();
  const auto d = static_cast<std::size_t>(dims_);
  while (newest.step()) {
    Row r;
    r.vid = newest.getInt(0);
    readRow(newest, 1, dims_, r.vid, r.unit, r.subject, r.ns, r.kind);
    auto it = internalOf_.find(r.vid);
    if (it == internalOf_.end() || subjects_[it->second] != r.subject ||
        std::memcmp(xb + it->second * d, r.unit.data(), d * sizeof(float)) != 0) {
      fileRejected_ = fmt::format("the index file differs from the table in the newest vectors (vid {})", r.vid);
      return false;
    }
  }
  return true;
}

void VectorSpaceIndex::syncLocked(Conn& conn, std::int64_t latest) {
  if (!built_ && !(!file_.empty() && loadAndCatchUpLocked(conn))) {
    rebuildLocked(conn);
    return;
  }
  if (!catchUpLocked(conn, latest)) rebuildLocked(conn);
}

bool VectorSpaceIndex::catchUpLocked(Conn& conn, std::int64_t latest) {
  if (latest <= appliedSeq_) return true;
  const auto& t = vectorIndexTuning();
  {
    auto floor = conn.prepare("SELECT floor_seq FROM vector_log_floor WHERE model = ? AND field = ?", kCap,
                              "index_sync");
    floor.bindText(1, model_).bindText(2, field_);
    if (floor.step() && floor.getInt(0) > appliedSeq_) return false;  // entries this index needed were pruned
  }
  auto backlog = conn.prepare(
      "SELECT count(*) FROM vector_changes WHERE model = ? AND field = ? AND seq > ? AND seq <= ?", kCap, "index_sync");
  backlog.bindText(1, model_).bindText(2, field_).bindInt(3, appliedSeq_).bindInt(4, latest);
  backlog.step();
  const std::int64_t pending = backlog.getInt(0);
  backlog.reset();
  if (pending > std::max<std::int64_t>(1'000, live_ / 2)) return false;

  // Apply the log in order. vids are never reused, so an add whose row is gone (deleted
  // later) is simply skipped, and its delete entry then finds nothing to tombstone.
  auto stmt = conn.prepare(
      "SELECT c.op, c.vid, v.subject_id, v.namespace, v.kind, v.embedding FROM vector_changes AS c "
      "LEFT JOIN vectors AS v ON c.op = 1 AND v.vid = c.vid "
      "WHERE c.model = ? AND c.field = ? AND c.seq > ? AND c.seq <= ? ORDER BY c.seq",
      kCap, "index_sync");
  stmt.bindText(1, model_).bindText(2, field_).bindInt(3, appliedSeq_).bindInt(4, latest);
  std::map<std::int64_t, Row> adds;
  while (stmt.step()) {
    const bool added = stmt.getInt(0) == 1;
    const std::int64_t vid = stmt.getInt(1);
    if (added) {
      if (stmt.isNull(2) || internalOf_.contains(vid)) continue;
      Row r;
      r.vid = vid;
      readRow(stmt, 2, dims_, vid, r.unit, r.subject, r.ns, r.kind);
      adds.emplace(vid, std::move(r));
    } else if (!adds.erase(vid)) {
      removeLocked(vid);
    }
  }
  stmt.reset();
  std::vector<Row> rows;
  rows.reserve(adds.size());
  for (auto& [vid, r] : adds) rows.push_back(std::move(r));

  const auto total = static_cast<std::int64_t>(vids_.size() + rows.size());
  const auto dead = total - (live_ + static_cast<std::int64_t>(rows.size()));
  const bool crossesThreshold = !hnsw_ && live_ + static_cast<std::int64_t>(rows.size()) >= t.hnswThreshold;
  if (crossesThreshold || (total > 0 && static_cast<double>(dead) / static_cast<double>(total) > t.maxTombstoneRatio &&
                           dead > 64))
    return false;
  addLocked(rows);
  appliedSeq_ = latest;
  unsaved_ += pending;
  return true;
}

std::vector<storage::VectorHit> VectorSpaceIndex::search(Conn& conn, const storage::VectorSearchRequest& r,
                                                         std::span<const float> q) {
  const auto& t = vectorIndexTuning();
  const std::int64_t latest = latestSeq(conn);
  bool behind = false;
  {
    std::shared_lock lock(mu_);
    behind = !built_ || appliedSeq_ < latest;
  }
  if (behind) {
    bool save = false;
    {
      std::unique_lock lock(mu_);
      if (!built_ || appliedSeq_ < latest) syncLocked(conn, latest);
      // A rebuild is saved at once; catch-ups once they add up to a share of the index, so
      // the next process does not replay (or rebuild from) a long log.
      save = rebuiltUnsaved_ || unsaved_ > std::max<std::int64_t>(1'000, live_ / 20);
    }
    if (save) saveIfBehind();
  }

  // Property predicates are JSON paths: SQLite evaluates them over the space's rows (already
  // narrowed by namespace and kind through the vectors_space index).
  std::optional<std::vector<std::int64_t>> propertyVids;
  if (!r.properties.empty()) {
    SqlBuilder b;
    b.text("SELECT vid FROM vectors WHERE model = ").param(r.model).text(" AND field = ").param(r.field);
    b.text(" AND namespace IN ").inList(r.namespaces);
    if (!r.kinds.empty()) b.text(" AND kind IN ").inList(r.kinds);
    appendPropertyPredicates(b, "properties", r.properties, kCap, "search");
    auto stmt = conn.prepare(b.sql, kCap, "search");
    stmt.bindAll(b.params);
    propertyVids.emplace();
    while (stmt.step()) propertyVids->push_back(stmt.getInt(0));
  }

  std::shared_lock lock(mu_);
  const auto n = vids_.size();
  if (n == 0 || live_ == 0) return {};

  std::vector<std::uint8_t> nsAllowed(namespaces_.names.size(), 0);
  for (const auto& ns : r.namespaces)
    if (auto it = namespaces_.ids.find(ns); it != namespaces_.ids.end()) nsAllowed[it->second] = 1;
  std::optional<std::vector<std::uint8_t>> kindAllowed;
  if (!r.kinds.empty()) {
    kindAllowed.emplace(kinds_.names.size(), 0);
    for (const auto& k : r.kinds)
      if (auto it = kinds_.ids.find(k); it != kinds_.ids.end()) (*kindAllowed)[it->second] = 1;
  }

  // How many vectors the filter admits, and (property filters) exactly which.
  std::int64_t matching = 0;
  std::optional<std::vector<std::uint8_t>> bitmap;
  std::vector<std::uint32_t> matchList;
  if (propertyVids) {
    bitmap.emplace(n, 0);
    for (auto vid : *propertyVids) {
      auto it = internalOf_.find(vid);
      if (it == internalOf_.end()) continue;  // written after the snapshot the index holds
      (*bitmap)[it->second] = 1;
      matchList.push_back(it->second);
    }
    matching = static_cast<std::int64_t>(matchList.size());
  } else {
    for (const auto& [key, count] : liveByNsKind_) {
      const auto ns = static_cast<std::uint32_t>(key >> 32);
      const auto kind = static_cast<std::uint32_t>(key & 0xFFFFFFFFu);
      if (nsAllowed[ns] && (!kindAllowed || (*kindAllowed)[kind])) matching += count;
    }
  }
  if (matching == 0) return {};
  const std::int64_t want = std::min<std::int64_t>(r.topK, matching);
  const bool admitsAll = !propertyVids && matching == live_ && live_ == static_cast<std::int64_t>(n);

  FilterSelector selector(alive_, nsOf_, kindOf_, nsAllowed, kindAllowed ? &*kindAllowed : nullptr,
                          bitmap ? &*bitmap : nullptr);
  std::vector<std::pair<float, std::uint32_t>> found;  // (dot, internal)

  const double selectivity = static_cast<double>(matching) / static_cast<double>(live_);
  const bool exact = !hnsw_ || selectivity <= t.exactSelectivity || matching * dims_ <= t.exactScanFloats;
  if (!exact) {
    // HNSW with the filter inside the graph walk. A selective filter starves the candidate
    // list, so efSearch grows with 1/selectivity; should the walk still come back short, the
    // exact scan below answers instead: k requested is k returned.
    faiss::SearchParametersHNSW params;
    const double ef = std::max<double>(t.efSearch, static_cast<double>(want)) / std::max(selectivity, 1e-3);
    params.efSearch = static_cast<int>(std::clamp<double>(ef, static_cast<double>(want), std::max<double>(t.maxEfSearch, want)));
    params.sel = admitsAll ? nullptr : &selector;
    std::vector<float> distances(static_cast<std::size_t>(want));
    std::vector<faiss::Index::idx_t> labels(static_cast<std::size_t>(want));
    index_->search(1, q.data(), want, distances.data(), labels.data(), &params);
    for (std::int64_t i = 0; i < want; ++i) {
      if (labels[i] >= 0) found.emplace_back(distances[i], static_cast<std::uint32_t>(labels[i]));
    }
    if (static_cast<std::int64_t>(found.size()) < want) {
      found.clear();
      ++shortFallbacks_;
    } else {
      ++graphSearches_;
    }
  }
  if (found.empty()) {
    ++exactScans_;
    const float* xb = vectorData();
    const auto d = static_cast<std::size_t>(dims_);
    auto score = [&](std::uint32_t i) { found.emplace_back(dot(q.data(), xb + i * d, d), i); };
    if (bitmap) {
      for (auto i : matchList) score(i);
    } else {
      for (const auto& [key, members] : membersByNsKind_) {
        if (!nsAllowed[key >> 32] || (kindAllowed && !(*kindAllowed)[key & 0xFFFFFFFFu])) continue;
        for (auto i : members)
          if (alive_[i]) score(i);
      }
    }
  }

  // Best first; equal scores by subject id, so the order is deterministic.
  auto better = [&](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first > b.first;
    return subjects_[a.second] < subjects_[b.second];
  };
  if (static_cast<std::int64_t>(found.size()) > want) {
    std::nth_element(found.begin(), found.begin() + want, found.end(), better);
    found.resize(static_cast<std::size_t>(want));
  }
  std::sort(found.begin(), found.end(), better);

  std::vector<storage::VectorHit> out;
  out.reserve(found.size());
  for (const auto& [ip, i] : found) {
    storage::VectorHit h;
    h.subjectId = subjects_[i];
    h.ns = namespaces_.names[nsOf_[i]];
    h.kind = kinds_.names[kindOf_[i]];
    h.score = scoreOf(ip);
    h.rank = static_cast<int>(out.size()) + 1;
    out.push_back(std::move(h));
  }
  return out;
}

}  // namespace khive::sqlite
