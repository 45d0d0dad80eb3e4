#pragma once
// The embedded SQLite backend: one file (or one in-memory database), no server.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "khive/core/clock.h"
#include "khive/storage/backend.h"

namespace khive::backends {

struct SqliteOptions {
  // A file path, or ":memory:" for a private in-memory database shared by this backend's
  // connections and gone when the backend is destroyed.
  std::string path = ":memory:";
  int readers = 4;  // read-only connections in the pool (file databases)
  // The writer connection's page cache, in MiB (1 to 1,048,576): the most memory the writer
  // keeps of the file's B-tree pages. A batch of edges with random keys rewrites pages all
  // over the edge table and its in-index; when those no longer fit, every batch reads them
  // back from the file and spills dirty pages to the WAL before its commit. The cache fills
  // only as pages are read, so a small database never uses it all. Readers are separate:
  // they map the file (readerMapMiB).
  int writerCacheMiB = kDefaultWriterCacheMiB;
  static constexpr int kDefaultWriterCacheMiB = 128;
  // How much of the file each reader maps, in MiB; SQLite maps no more than the file and caps
  // the map at its build's limit (2 GiB - 64 KiB for a stock build). A page inside the map is
  // read in place; one beyond it costs a pread() and a copy into the reader's page cache, which
  // on a graph larger than the map is most of a walk's time. The map takes address space, not
  // memory: the pages it reads are the operating system's file cache, shared by every reader
  // (they count towards the process's resident size as file pages). 0: no map.
  int readerMapMiB = kDefaultReaderMapMiB;
  static constexpr int kDefaultReaderMapMiB = 2048;
  std::chrono::milliseconds busyTimeout{5000};
  // How long a caller waits for the writer or a reader before Timeout/Pool errors.
  std::chrono::milliseconds checkoutTimeout{10000};
  // Not owned; must outlive the backend. nullptr = the system clock.
  const Clock* clock = nullptr;
  // Relations stored canonically besides the default symmetric ones.
  std::vector<std::string> extraSymmetricRelations;
  // Open a file database for reading only: nothing is written to it (no migration, no journal
  // mode change) and every write fails with PermissionDenied naming the file. A file this
  // process may not write, or whose directory it may not write, is opened so by itself.
  // When no process has it open (no -wal file) it is read as immutable: nothing is created
  // beside it, and a writer that starts later is not seen by this open.
  bool readOnly = false;
};

// Opens (creating if needed) and migrates the database. Throws Error(Conflict) for a database
// whose schema is newer than this build, Error(Driver) when the file cannot be opened, and
// Error(InvalidInput) for a file that is not a khive database (an SQLite file with tables but
// no khive migration ledger, or not an SQLite file at all), which is left untouched. A
// read-only database is not migrated: one whose schema is older than this build's is a
// Conflict, one without khive's schema (empty) is InvalidInput.
std::unique_ptr<storage::Backend> openSqlite(const SqliteOptions& options);

// The schema version this build writes.
int sqliteSchemaVersion();

}  // namespace khive::backends
