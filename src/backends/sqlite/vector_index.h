#pragma once
// The in-memory FAISS index of one vector space (embedding model + field), derived from the
// canonical rows in the `vectors` table. Private to the SQLite backend.
//
// Life cycle: built lazily from the table on the first search, then kept current from the
// `vector_changes` log: a search first compares the log's highest seq for the space with the
// seq the index has applied; if the log is ahead (this process, another process or a
// hard-delete trigger wrote), the new rows are added and removed rows tombstoned before
// searching. Large backlogs, too many tombstones or growth past the HNSW threshold trigger a
// full rebuild instead. Nothing is ever written to the index inside a write transaction, so a
// rolled-back write can never leave the index ahead of the table.

#include <atomic>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "backends/sqlite/connection.h"
#include "khive/core/uuid.h"
#include "khive/storage/vector_store.h"

namespace faiss {
struct Index;
}

namespace khive::sqlite {

// Tuning knobs, constant for the process. The values are the ones bench/retrieval_bench.cc
// measured (recall@10 >= 0.95 on 100k x 128 and 100k x 384 clustered data).
struct VectorIndexTuning {
  std::int64_t hnswThreshold = 20'000;  // spaces smaller than this use exact flat search
  int hnswM = 16;
  int efConstruction = 40;
  int efSearch = 128;
  int maxEfSearch = 2'048;
  // Exact scan over the filtered vectors when the filter admits at most this fraction of the
  // index, or when the scan touches at most exactScanFloats floats (1 ms-ish on one core).
  double exactSelectivity = 0.15;
  std::int64_t exactScanFloats = 2'000'000;
  double maxTombstoneRatio = 0.25;  // rebuild when this share of the index is deleted rows
};
const VectorIndexTuning& vectorIndexTuning();

// The change-log position of (model, field): the highest seq logged or pruned. An index that
// has applied less is stale.
std::int64_t latestVectorSeq(Conn& conn, const std::string& model, const std::string& field);

// Unit-normalises v in place; false for a zero vector.
bool normalize(std::span<float> v);

// Thread-safe: readers share the index, catch-up and rebuild take it exclusively.
class VectorSpaceIndex {
 public:
  VectorSpaceIndex(std::string model, std::string field, int dims);
  ~VectorSpaceIndex();
  VectorSpaceIndex(const VectorSpaceIndex&) = delete;
  VectorSpaceIndex& operator=(const VectorSpaceIndex&) = delete;

  // Top-k by cosine for a unit-length query, every filter applied inside the search. `conn`
  // must be in autocommit mode (not inside a write transaction): the index only ever applies
  // committed changes.
  std::vector<storage::VectorHit> search(Conn& conn, const storage::VectorSearchRequest& request,
                                         std::span<const float> unitQuery);
  // Drops the in-memory index and builds it again from the table.
  void rebuild(Conn& conn);

  struct State {
    std::string indexKind;  // "none" (not built yet), "flat", "hnsw"
    std::int64_t live = 0;
    std::int64_t appliedSeq = 0;
    // How searches were answered since construction (diagnostics and tests).
    std::int64_t graphSearches = 0;  // HNSW walk, filter inside via IDSelector
    std::int64_t exactScans = 0;     // exact scan over the admitted vectors
    std::int64_t shortFallbacks = 0; // HNSW came back with < k, exact scan answered instead
  };
  State state() const;
  int dims() const { return dims_; }

 private:
  struct Interner {
    std::unordered_map<std::string, std::uint32_t> ids;
    std::vector<std::string> names;
    std::uint32_t intern(const std::string& s);
  };
  struct Row {
    std::int64_t vid;
    Uuid subject;
    std::string ns;
    std::string kind;
    std::vector<float> unit;
  };

  std::int64_t latestSeq(Conn& conn) const;
  void syncLocked(Conn& conn, std::int64_t latest);
  void rebuildLocked(Conn& conn);
  void resetLocked(bool hnsw);
  void addLocked(std::vector<Row>& rows);
  void removeLocked(std::int64_t vid);
  const float* vectorData() const;

  // Constant after construction.
  const std::string model_;
  const std::string field_;
  const int dims_;

  std::atomic<std::int64_t> graphSearches_{0};
  std::atomic<std::int64_t> exactScans_{0};
  std::atomic<std::int64_t> shortFallbacks_{0};

  mutable std::shared_mutex mu_;
  // Everything below is guarded by mu_. Internal id i (FAISS label) describes one vector.
  bool built_ = false;
  bool hnsw_ = false;
  std::unique_ptr<faiss::Index> index_;
  std::int64_t appliedSeq_ = 0;
  std::vector<std::int64_t> vids_;       // internal -> vid
  std::vector<Uuid> subjects_;           // internal -> subject
  std::vector<std::uint32_t> nsOf_;      // internal -> interned namespace
  std::vector<std::uint32_t> kindOf_;    // internal -> interned kind
  std::vector<std::uint8_t> alive_;      // internal -> 0 once the row is deleted (tombstone)
  std::unordered_map<std::int64_t, std::uint32_t> internalOf_;  // live vid -> internal
  std::int64_t live_ = 0;
  Interner namespaces_;
  Interner kinds_;
  // Live vectors per (namespace, kind), to size a filter without scanning.
  std::unordered_map<std::uint64_t, std::int64_t> liveByNsKind_;
  // Internal ids per (namespace, kind), tombstones included, so an exact scan under a
  // namespace/kind filter visits only the admitted vectors.
  std::unordered_map<std::uint64_t, std::vector<std::uint32_t>> membersByNsKind_;
};

}  // namespace khive::sqlite
