// What the SQLite backend opens: another program's SQLite file (or a file that is not SQLite)
// is refused and left byte for byte as it was; a read-only database serves reads and refuses
// writes with PermissionDenied, writing nothing. (The permission case, a file this user may
// not write, is driven through the khive binary in tests/cli/trust_test.sh.)
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "khive/backends/sqlite.h"
#include "khive/core/error.h"
#include "khive/core/uuid.h"

namespace khive {
namespace {

namespace fs = std::filesystem;

class SqliteOpenGuard : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("khive-open-guard-" + Uuid::v7().str());
    fs::create_directories(dir_);
    path_ = (dir_ / "k.db").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<storage::Backend> open(bool readOnly = false) {
    backends::SqliteOptions o;
    o.path = path_;
    o.readOnly = readOnly;
    return backends::openSqlite(o);
  }
  // The files of the directory with their bytes.
  std::map<std::string, std::string> snapshot() {
    std::map<std::string, std::string> out;
    for (const auto& f : fs::directory_iterator(dir_)) {
      std::ifstream in(f.path(), std::ios::binary);
      std::stringstream s;
      s << in.rdbuf();
      out[f.path().filename().string()] = s.str();
    }
    return out;
  }
  void sql(const char* text) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, text, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  Error openError(bool readOnly = false) {
    try {
      open(readOnly);
    } catch (const Error& e) {
      return e;
    }
    ADD_FAILURE() << "opened " << path_;
    return Error(ErrorCode::Driver, "", "", "");
  }

  fs::path dir_;
  std::string path_;
};

TEST_F(SqliteOpenGuard, AnotherProgramsDatabaseIsRefusedAndUntouched) {
  sql("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); CREATE TABLE orders (id INTEGER);"
      "INSERT INTO users VALUES (1, 'ada');");
  const auto before = snapshot();
  for (bool readOnly : {false, true}) {
    Error e = openError(readOnly);
    EXPECT_EQ(e.code(), ErrorCode::InvalidInput);
    EXPECT_NE(e.message().find("'" + path_ + "' is not a khive database: it has tables orders, users"),
              std::string::npos)
        << e.message();
    EXPECT_EQ(snapshot(), before) << "the file (and its directory) must stay as they were";
  }
}

TEST_F(SqliteOpenGuard, AFileThatIsNotSqliteIsRefusedAndUntouched) {
  std::ofstream(path_) << "name,age\nada,36\n" << std::string(4096, 'x');
  const auto before = snapshot();
  Error e = openError();
  EXPECT_EQ(e.code(), ErrorCode::InvalidInput);
  EXPECT_NE(e.message().find("is not a khive database: it is not an SQLite database file"), std::string::npos)
      << e.message();
  EXPECT_EQ(snapshot(), before);
}

TEST_F(SqliteOpenGuard, AnEmptyFileIsInitialised) {
  std::ofstream(path_).close();
  EXPECT_EQ(open()->info().schemaVersion, backends::sqliteSchemaVersion());
}

TEST_F(SqliteOpenGuard, ReadOnlyServesReadsAndRefusesWrites) {
  Entity e;
  e.id = Uuid::v7();
  e.ns = "ns1";
  e.kind = "concept";
  e.name = "kept";
  open()->entities().upsertEntity(e);
  const auto before = snapshot();
  {
    auto db = open(true);
    EXPECT_EQ(db->info().schemaVersion, backends::sqliteSchemaVersion());
    ASSERT_TRUE(db->entities().getEntity(e.id));
    EXPECT_EQ(db->entities().countEntities({.namespaces = {"ns1"}}), 1);
    EXPECT_EQ(db->sql().reader()->queryScalar("SELECT count(*) FROM entities"), storage::SqlValue(std::int64_t{1}));
    Entity other = e;
    other.id = Uuid::v7();
    try {
      db->entities().upsertEntity(other);
      FAIL() << "a write on a read-only database";
    } catch (const Error& err) {
      EXPECT_EQ(err.code(), ErrorCode::PermissionDenied);
      EXPECT_NE(err.message().find("database '" + path_ + "' is read-only (opened read-only)"), std::string::npos)
          << err.message();
    }
    EXPECT_THROW(db->sql().writer()->execute("DELETE FROM entities"), Error);
    EXPECT_EQ(db->entities().countEntities({.namespaces = {"ns1"}}), 1);
  }
  EXPECT_EQ(snapshot(), before) << "no byte written, no -shm or -wal file created";
}

TEST_F(SqliteOpenGuard, ReadOnlyWithoutASchemaIsAClearError) {
  std::ofstream(path_).close();
  Error e = openError(true);
  EXPECT_EQ(e.code(), ErrorCode::InvalidInput);
  EXPECT_NE(e.message().find("is read-only (opened read-only) and holds no khive schema yet"), std::string::npos)
      << e.message();
  EXPECT_EQ(fs::file_size(path_), 0u);
}

}  // namespace
}  // namespace khive
