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
//
// Persistence (file databases): the index is saved to a file beside the database
// (vectorIndexFile) after a rebuild or a large catch-up, and the first search of a new process
// loads that file instead of rebuilding. The file records the change-log seq it holds and a
// checksum; it is written to a temporary file and renamed over the old one, so a crash leaves
// the old file or the new one, never a torn one. A file that is missing, unreadable, torn,
// truncated, of another space or dimension, or ahead of the database (a restored backup) is
// ignored and the index rebuilt from the table; one that is behind catches up from the change
// log like an index in memory. After catching up, the index's live vids (count and sum) must
// equal the table's, or it is rebuilt: a file never answers for rows it does not hold.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
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
  // `file`: where the index is persisted; empty for none (in-memory databases). With
  // `readOnly` the file is loaded but never written.
  VectorSpaceIndex(std::string model, std::string field, int dims, std::string file = {}, bool readOnly = false);
  ~VectorSpaceIndex();
  VectorSpaceIndex(const VectorSpaceIndex&) = delete;
  VectorSpaceIndex& operator=(const VectorSpaceIndex&) = delete;

  // Top-k by cosine for a unit-length query, every filter applied inside the search. `conn`
  // must be in autocommit mode (not inside a write transaction): the index only ever applies
  // committed changes.
  std::vector<storage::VectorHit> search(Conn& conn, const storage::VectorSearchRequest& request,
                                         std::span<const float> unitQuery);
  // Drops the in-memory index and builds it again from the table (and saves it).
  void rebuild(Conn& conn);
  // Brings the index up to date with the change log (loading the file or building it when
  // there is no index in memory yet) and saves it when the file is behind.
  void prepare(Conn& conn);

  struct State {
    std::string indexKind;  // "none" (not built yet), "flat", "hnsw"
    std::int64_t live = 0;
    std::int64_t appliedSeq = 0;
    // How searches were answered since construction (diagnostics and tests).
    std::int64_t graphSearches = 0;  // HNSW walk, filter inside via IDSelector
    std::int64_t exactScans = 0;     // exact scan over the admitted vectors
    std::int64_t shortFallbacks = 0; // HNSW came back with < k, exact scan answered instead
    // The index file: how the index in memory came to be, and what was wrong with a file
    // that was not used ("" when none was rejected).
    std::int64_t fileLoads = 0;   // built from the file (then caught up from the log)
    std::int64_t rebuilds = 0;    // built from the table
    std::int64_t fileSaves = 0;
    std::string fileRejected;
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
  // Applies the log from appliedSeq_ to `latest`; false when a rebuild is due instead (the
  // log was pruned past the index, the backlog is large, too many tombstones, or the index
  // outgrows flat search).
  bool catchUpLocked(Conn& conn, std::int64_t latest);
  // Loads the file and catches it up in one read snapshot, checking it against the table;
  // false (index unbuilt) when the file cannot be used.
  bool loadAndCatchUpLocked(Conn& conn);
  void rebuildLocked(Conn& conn);
  void resetLocked(bool hnsw);
  void addLocked(std::vector<Row>& rows);
  void removeLocked(std::int64_t vid);
  const float* vectorData() const;
  // The index file (vector_index_file.cc). loadLocked replaces the index with the file's and
  // returns true, or leaves it unbuilt and records why in fileRejected_. saveLocked writes
  // the index as it is (shared lock suffices) and never throws: the file is a cache.
  bool loadLocked();
  void saveLocked();
  void saveIfBehind();
  // False (and fileRejected_ set) unless the live vids equal the table's for the space.
  bool matchesTableLocked(Conn& conn);

  // Constant after construction.
  const std::string model_;
  const std::string field_;
  const int dims_;
  const std::string file_;
  const bool readOnly_;

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
  std::int64_t unsaved_ = 0;    // log entries applied since the index last matched the file
  bool rebuiltUnsaved_ = false; // rebuilt from the table and not saved since
  std::int64_t savedSeq_ = -1;  // the seq the file holds as far as this process knows; -1: unknown
  std::int64_t fileLoads_ = 0;
  std::int64_t rebuilds_ = 0;
  std::int64_t fileSaves_ = 0;
  std::string fileRejected_;
  std::mutex saveMu_;  // one save at a time (saves run under the shared lock)
};

// The file persisting the index of (model, field) for the database file `dbPath`:
// `<dbPath>-vectors/<model>.<field>.<hash>.kvi` (unsafe characters of the names replaced, the
// hash telling names apart that then look alike).
std::string vectorIndexFile(const std::string& dbPath, const std::string& model, const std::string& field);

}  // namespace khive::sqlite
