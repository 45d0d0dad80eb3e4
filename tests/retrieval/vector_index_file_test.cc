// The persisted vector index of the SQLite backend (vector_index.h, vector_index_file.cc): a
// new process loads the file instead of rebuilding; a file that is stale catches up from the
// change log; one that is truncated, damaged, torn by a kill during the save, or belongs to a
// restored database is detected and rebuilt. Every search is checked against exact answers.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "backends/sqlite/retrieval_stores.h"
#include "backends/sqlite/vector_index.h"
#include "clustered_data.h"
#include "khive/backends/sqlite.h"

namespace khive::sqlite {
namespace {

namespace fs = std::filesystem;

std::string freshPath() {
  static int n = 0;
  auto dir = fs::temp_directory_path() / fmt::format("khive-vindex-{}", ::getpid());
  fs::create_directories(dir);
  return (dir / fmt::format("v-{}.sqlite", n++)).string();
}

std::unique_ptr<storage::Backend> open(const std::string& path) {
  backends::SqliteOptions o;
  o.path = path;
  return backends::openSqlite(o);
}

// The dataset and the records stored from it, with exact answers.
struct Fixture {
  testing::ClusteredData data;
  std::vector<storage::VectorRecord> recs;
  std::map<Uuid, std::size_t> indexOf;
  std::vector<std::uint8_t> deleted;

  Fixture(std::size_t n, int dims, std::uint64_t seed) : data(testing::makeClustered(n, 20, dims, 10, seed)) {
    for (std::size_t i = 0; i < n; ++i) {
      storage::VectorRecord r;
      r.subjectId = Uuid::v7();
      r.ns = "ns1";
      r.kind = "concept";
      r.model = "m";
      r.values.assign(data.point(i).begin(), data.point(i).end());
      indexOf.emplace(r.subjectId, i);
      recs.push_back(std::move(r));
    }
    deleted.assign(n, 0);
  }
  storage::VectorSearchRequest req(std::size_t q, std::int64_t k = 10) const {
    storage::VectorSearchRequest r;
    r.query.assign(data.query(q).begin(), data.query(q).end());
    r.model = "m";
    r.topK = k;
    r.namespaces = {"ns1"};
    return r;
  }
  // The share of the exact top 10 (over the rows not deleted) that the search returns; 1.0
  // for a flat (exact) index.
  double recall(storage::Backend& db, std::size_t q) const {
    auto hits = db.vectors().searchVectors(req(q));
    auto truth = testing::exactTopK(data, data.query(q), 10, [&](std::size_t i) { return !deleted[i]; });
    std::set<std::size_t> got;
    for (const auto& h : hits) {
      auto it = indexOf.find(h.subjectId);
      if (it == indexOf.end() || deleted[it->second]) return -1;  // never a deleted or unknown subject
      got.insert(it->second);
    }
    double found = 0;
    for (auto t : truth) found += got.contains(t) ? 1 : 0;
    return found / static_cast<double>(truth.size());
  }
};

// The other process of KillDuringSaveThenSearchIsCorrect: this test program run again with
// KHIVE_TEST_SAVE_LOOP=<database>, rebuilding and saving the index until it is killed.
[[maybe_unused]] const bool saveLoop = [] {
  const char* path = std::getenv("KHIVE_TEST_SAVE_LOOP");
  if (!path) return false;
  auto db = open(path);
  for (;;) db->vectors().rebuildVectorIndex("m");
}();

VectorSpaceIndex::State stateOf(storage::Backend& db) {
  auto* index = dynamic_cast<SqliteVectorStore&>(db.vectors()).spaceIndex("m", "text");
  return index ? index->state() : VectorSpaceIndex::State{};
}

std::string indexFile(const std::string& path) { return vectorIndexFile(path, "m", "text"); }

// Copies a closed database with its WAL (a backup, or its restore over another database).
void copyDatabase(const std::string& from, const std::string& to) {
  for (const char* suffix : {"", "-wal", "-shm"}) {
    fs::remove(to + suffix);
    if (fs::exists(from + suffix)) fs::copy_file(from + suffix, to + suffix);
  }
}

TEST(SqliteVectorIndexFile, ANewProcessLoadsTheSavedIndex) {
  const auto path = freshPath();
  Fixture f(600, 16, 21);
  {
    auto db = open(path);
    db->vectors().insertVectors(f.recs);
    EXPECT_EQ(f.recall(*db, 0), 1.0);
    EXPECT_EQ(stateOf(*db).rebuilds, 1);
    EXPECT_EQ(stateOf(*db).fileSaves, 1) << "a rebuilt index is saved";
  }
  ASSERT_TRUE(fs::exists(indexFile(path)));
  auto db = open(path);
  for (std::size_t q = 0; q < 20; ++q) EXPECT_EQ(f.recall(*db, q), 1.0);
  auto st = stateOf(*db);
  EXPECT_EQ(st.fileLoads, 1);
  EXPECT_EQ(st.rebuilds, 0);
  EXPECT_EQ(st.fileRejected, "");
}

TEST(SqliteVectorIndexFile, TextOnlySearchNeverLoadsTheIndex) {
  const auto path = freshPath();
  Fixture f(100, 8, 22);
  {
    auto db = open(path);
    db->vectors().insertVectors(f.recs);
    db->vectors().prepareVectorIndex("m");
  }
  auto db = open(path);
  storage::TextDocument d;
  d.subjectId = f.recs[0].subjectId;
  d.ns = "ns1";
  d.kind = "concept";
  d.title = "alpha";
  db->text().upsertDocument(d);
  storage::TextQuery tq;
  tq.text = "alpha";
  tq.namespaces = {"ns1"};
  EXPECT_EQ(db->text().searchText(tq).size(), 1u);
  db->vectors().vectorInfo();  // doctor's view does not load it either
  EXPECT_EQ(stateOf(*db).indexKind, "none");
  EXPECT_EQ(stateOf(*db).fileLoads, 0);
}

TEST(SqliteVectorIndexFile, AStaleFileCatchesUpWithWritesOfAnotherProcess) {
  const auto path = freshPath();
  Fixture f(800, 16, 23);
  std::vector<storage::VectorRecord> first(f.recs.begin(), f.recs.begin() + 700);
  {
    auto a = open(path);
    a->vectors().insertVectors(first);
    a->vectors().prepareVectorIndex("m");
    EXPECT_EQ(stateOf(*a).fileSaves, 1);
  }
  {
    auto b = open(path);  // another process writes; it never searches, so the file stays behind
    b->vectors().insertVectors(std::vector(f.recs.begin() + 700, f.recs.end()));
    for (std::size_t i = 0; i < 50; ++i) {
      b->vectors().deleteVectors(f.recs[i * 3].subjectId);
      f.deleted[i * 3] = 1;
    }
  }
  auto c = open(path);
  for (std::size_t q = 0; q < 20; ++q) EXPECT_EQ(f.recall(*c, q), 1.0) << "query " << q;
  auto st = stateOf(*c);
  EXPECT_EQ(st.fileLoads, 1);
  EXPECT_EQ(st.rebuilds, 0);
  EXPECT_EQ(st.live, 750);
  // The new vectors are found: each of them is its own nearest neighbour.
  auto self = f.req(0);
  self.query = f.recs[750].values;
  EXPECT_EQ(c->vectors().searchVectors(self)[0].subjectId, f.recs[750].subjectId);
}

TEST(SqliteVectorIndexFile, TruncatedOrDamagedFilesAreRebuilt) {
  const auto path = freshPath();
  Fixture f(500, 16, 24);
  {
    auto db = open(path);
    db->vectors().insertVectors(f.recs);
    db->vectors().prepareVectorIndex("m");
  }
  const auto file = indexFile(path);
  const auto size = fs::file_size(file);
  auto damage = [&](auto how, const std::string& expected) {
    how();
    auto db = open(path);
    for (std::size_t q = 0; q < 10; ++q) EXPECT_EQ(f.recall(*db, q), 1.0);
    auto st = stateOf(*db);
    EXPECT_EQ(st.fileLoads, 0);
    EXPECT_EQ(st.rebuilds, 1);
    EXPECT_NE(st.fileRejected.find(expected), std::string::npos) << st.fileRejected;
    EXPECT_EQ(fs::file_size(file), size) << "the rebuilt index is saved again";
  };
  damage([&] { fs::resize_file(file, size / 2); }, "truncated");
  damage([&] { fs::resize_file(file, 10); }, "truncated");
  damage(
      [&] {
        std::fstream io(file, std::ios::in | std::ios::out | std::ios::binary);
        io.seekp(static_cast<std::streamoff>(size - 100));
        io.put('\x5a');
      },
      "checksum");
  damage([&] { std::ofstream(file, std::ios::trunc) << std::string(200, 'x'); }, "not a vector index file");
  // After all that, the file is good again and loads.
  auto db = open(path);
  EXPECT_EQ(f.recall(*db, 0), 1.0);
  EXPECT_EQ(stateOf(*db).fileLoads, 1);
}

// The database is replaced by an older copy (a restored backup): the file is ahead of it and
// must not be used; once writes to the restored database move its log past the file's
// position, the file's vids no longer match the table and it is still not used.
TEST(SqliteVectorIndexFile, AFileOfARestoredDatabaseIsNotUsed) {
  const auto path = freshPath();
  const auto backup = path + ".backup";
  Fixture f(600, 16, 25);
  {
    auto db = open(path);
    db->vectors().insertVectors(std::vector(f.recs.begin(), f.recs.begin() + 300));
  }
  copyDatabase(path, backup);
  {
    auto db = open(path);
    db->vectors().insertVectors(std::vector(f.recs.begin() + 300, f.recs.begin() + 400));
    db->vectors().prepareVectorIndex("m");
  }
  copyDatabase(backup, path);
  for (std::size_t i = 300; i < 600; ++i) f.deleted[i] = 1;  // not in the restored database
  {
    auto db = open(path);
    for (std::size_t q = 0; q < 10; ++q) EXPECT_EQ(f.recall(*db, q), 1.0);
    EXPECT_EQ(stateOf(*db).fileLoads, 0);
    EXPECT_NE(stateOf(*db).fileRejected.find("replaced or restored"), std::string::npos) << stateOf(*db).fileRejected;
  }
  // A diverged history at the same log position: the file of another copy of the backup that
  // added other rows (same vids, other subjects) is not used either.
  const auto other = freshPath();
  copyDatabase(backup, other);
  {
    auto db = open(other);
    db->vectors().insertVectors(std::vector(f.recs.begin() + 300, f.recs.begin() + 500));
    db->vectors().prepareVectorIndex("m");
  }
  copyDatabase(backup, path);
  {
    auto db = open(path);
    db->vectors().insertVectors(std::vector(f.recs.begin() + 400, f.recs.end()));
  }
  for (std::size_t i = 400; i < 600; ++i) f.deleted[i] = 0;
  fs::copy_file(indexFile(other), indexFile(path), fs::copy_options::overwrite_existing);
  auto db = open(path);
  for (std::size_t q = 0; q < 10; ++q) EXPECT_EQ(f.recall(*db, q), 1.0);
  EXPECT_EQ(stateOf(*db).fileLoads, 0);
  EXPECT_EQ(stateOf(*db).rebuilds, 1);
  EXPECT_NE(stateOf(*db).fileRejected.find("newest"), std::string::npos) << stateOf(*db).fileRejected;
}

// kill -9 while another process saves the index: a child rebuilds and saves in a loop; the
// parent kills it as soon as a temporary file shows a save in progress. Whatever is left on
// disk, a new process searches correctly, and in at least one round the kill tore a save.
TEST(SqliteVectorIndexFile, KillDuringSaveThenSearchIsCorrect) {
  const auto path = freshPath();
  Fixture f(20'001, 32, 26);  // 20,000 stored: at the HNSW threshold
  {
    auto db = open(path);
    db->vectors().insertVectors(std::vector(f.recs.begin(), f.recs.end() - 1));
    db->vectors().prepareVectorIndex("m");
  }
  const auto file = indexFile(path);
  const auto dir = fs::path(file).parent_path();
  int torn = 0;
  for (int round = 0; round < 6; ++round) {
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      // A fresh program (see saveLoop): OpenMP, which the HNSW build uses, does not survive fork.
      ::setenv("KHIVE_TEST_SAVE_LOOP", path.c_str(), 1);
      ::execl("/proc/self/exe", "save-loop", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    bool sawTmp = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!sawTmp && std::chrono::steady_clock::now() < deadline) {
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(dir, ec))
        if (e.path().extension() == ".tmp") sawTmp = true;
    }
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) torn += e.path().extension() == ".tmp" ? 1 : 0;
    // Every other round, the last vector is added by "another process" in between, so the
    // surviving file is also stale.
    if (round % 2 == 1) {
      auto db = open(path);
      db->vectors().insertVector(f.recs.back());
    } else if (round > 0) {
      auto db = open(path);
      db->vectors().deleteVectors(f.recs.back().subjectId);
    }
    f.deleted.back() = round % 2 == 1 ? 0 : 1;
    auto db = open(path);
    double sum = 0;
    for (std::size_t q = 0; q < 20; ++q) {
      const double r = f.recall(*db, q);
      EXPECT_GE(r, 0.0) << "round " << round << " query " << q << " returned a deleted subject";
      sum += r;
    }
    EXPECT_GE(sum / 20, 0.9) << "round " << round;
    auto st = stateOf(*db);
    EXPECT_EQ(st.indexKind, "hnsw");
    EXPECT_EQ(st.live, round % 2 == 1 ? 20'001 : 20'000);
    auto self = f.req(0);
    self.query = f.recs.back().values;
    const bool foundLast = db->vectors().searchVectors(self)[0].subjectId == f.recs.back().subjectId;
    EXPECT_EQ(foundLast, round % 2 == 1) << "round " << round;
  }
  EXPECT_GE(torn, 1) << "no kill landed inside a save";
}

}  // namespace
}  // namespace khive::sqlite
