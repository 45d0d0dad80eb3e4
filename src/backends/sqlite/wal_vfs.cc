// SQLite appends a transaction to the WAL as two write() calls per page (a 24-byte frame
// header, then the page). A batch of random-key edges commits ~10,000 pages, so the writer made
// ~20,000 system calls per commit, each expensive on a virtual machine. This shim passes every
// call through to the default VFS, except that a WAL file's writes that continue the previous
// one are gathered in a 128 KiB buffer (the most the unix VFS writes in one call: seven
// frames of 16 KiB pages) and written with one pwrite().
//
// When the buffer reaches the file:
//   - at the end of every commit frame: a frame header whose "database size after commit" field
//     is non-zero marks the last frame of a transaction, and the buffer is written right after
//     that frame's page, before SQLite publishes the commit in the wal-index. So another
//     connection (or a checkpoint) never finds a committed frame that is not in the file, and
//     a failed write fails the commit, as without the shim;
//   - before any other call on the WAL file (read, sync, size, truncate, lock, file control,
//     close), so this connection reads back what it wrote and every sync covers every write;
//   - before a write that does not continue the buffered range, or does not fit.
// A process killed with frames still buffered loses only frames of a transaction that had not
// committed, which recovery ignores anyway.
#include "backends/sqlite/wal_vfs.h"

#include <sqlite3.h>

#include <cstdlib>
#include <cstring>
#include <mutex>

namespace khive::sqlite {
namespace {

// The unix VFS writes at most 0x1ffff bytes per call (os_unix.c masks larger sizes).
constexpr int kBufferBytes = 0x1ffff;
constexpr int kFrameHeaderBytes = 24;
constexpr char kName[] = "khive-wal-buffering";

sqlite3_vfs* root = nullptr;  // the default VFS this one wraps; set once

struct File {
  sqlite3_file base;   // first: SQLite sees a File as a sqlite3_file
  sqlite3_file* real;  // the wrapped file, stored right after this struct
  bool wal;
  bool commitFrame;  // the last write was a commit frame's header: flush after its page
  char* buffer;      // allocated on the first buffered write
  sqlite3_int64 bufferStart;
  int bufferLength;
};

File* self(sqlite3_file* f) {
  return reinterpret_cast<File*>(f);
}
const sqlite3_io_methods* realMethods(File* f) {
  return f->real->pMethods;
}

int flush(File* f) {
  if (f->bufferLength == 0) return SQLITE_OK;
  const int n = f->bufferLength;
  f->bufferLength = 0;
  return realMethods(f)->xWrite(f->real, f->buffer, n, f->bufferStart);
}

int xClose(sqlite3_file* p) {
  File* f = self(p);
  int rc = flush(f);
  int rc2 = realMethods(f)->xClose(f->real);
  std::free(f->buffer);
  f->buffer = nullptr;
  return rc != SQLITE_OK ? rc : rc2;
}

// Writes the buffer, then makes the call on the wrapped file.
template <typename Call>
int afterFlush(sqlite3_file* p, Call call) {
  File* f = self(p);
  if (int rc = flush(f); rc != SQLITE_OK) return rc;
  return call(f->real, realMethods(f));
}

int xRead(sqlite3_file* p, void* out, int amount, sqlite3_int64 offset) {
  return afterFlush(p, [&](sqlite3_file* r, const sqlite3_io_methods* m) { return m->xRead(r, out, amount, offset); });
}

int xWrite(sqlite3_file* p, const void* data, int amount, sqlite3_int64 offset) {
  File* f = self(p);
  if (!f->wal) return realMethods(f)->xWrite(f->real, data, amount, offset);
  const bool commitHeader =
      amount == kFrameHeaderBytes &&
      (static_cast<const unsigned char*>(data)[4] | static_cast<const unsigned char*>(data)[5] |
       static_cast<const unsigned char*>(data)[6] | static_cast<const unsigned char*>(data)[7]) != 0;
  const bool continues =
      f->bufferLength > 0 && offset == f->bufferStart + f->bufferLength && f->bufferLength + amount <= kBufferBytes;
  if (!continues) {
    if (int rc = flush(f); rc != SQLITE_OK) return rc;
    if (!f->buffer) f->buffer = static_cast<char*>(std::malloc(kBufferBytes));
    if (!f->buffer || amount > kBufferBytes) {
      f->commitFrame = false;
      return realMethods(f)->xWrite(f->real, data, amount, offset);
    }
    f->bufferStart = offset;
  }
  std::memcpy(f->buffer + f->bufferLength, data, static_cast<std::size_t>(amount));
  f->bufferLength += amount;
  if (commitHeader) {
    f->commitFrame = true;
    return SQLITE_OK;
  }
  if (f->commitFrame) {
    f->commitFrame = false;
    return flush(f);  // the commit frame's page: the transaction is complete in the file
  }
  return SQLITE_OK;
}

int xTruncate(sqlite3_file* p, sqlite3_int64 size) {
  return afterFlush(p, [&](sqlite3_file* r, const sqlite3_io_methods* m) { return m->xTruncate(r, size); });
}
int xSync(sqlite3_file* p, int flags) {
  return afterFlush(p, [&](sqlite3_file* r, const sqlite3_io_methods* m) { return m->xSync(r, flags); });
}
int xFileSize(sqlite3_file* p, sqlite3_int64* size) {
  return afterFlush(p, [&](sqlite3_file* r, const sqlite3_io_methods* m) { return m->xFileSize(r, size); });
}
int xLock(sqlite3_file* p, int level) {
  return afterFlush(p, [&](sqlite3_file* r, const sqlite3_io_methods* m) { return m->xLock(r, level); });
}
int xUnlock(sqlite3_file* p, int level) {
  return afterFlush(p, [&](sqlite3_file* r, const sqlite3_io_methods* m) { return m->xUnlock(r, level); });
}

int xCheckReservedLock(sqlite3_file* p, int* out) {
  File* f = self(p);
  return realMethods(f)->xCheckReservedLock(f->real, out);
}

int xFileControl(sqlite3_file* p, int op, void* arg) {
  return afterFlush(p, [&](sqlite3_file* r, const sqlite3_io_methods* m) { return m->xFileControl(r, op, arg); });
}

int xSectorSize(sqlite3_file* p) {
  return realMethods(self(p))->xSectorSize(self(p)->real);
}
int xDeviceCharacteristics(sqlite3_file* p) {
  return realMethods(self(p))->xDeviceCharacteristics(self(p)->real);
}

int xShmMap(sqlite3_file* p, int page, int size, int extend, void volatile** out) {
  return realMethods(self(p))->xShmMap(self(p)->real, page, size, extend, out);
}
int xShmLock(sqlite3_file* p, int offset, int n, int flags) {
  return realMethods(self(p))->xShmLock(self(p)->real, offset, n, flags);
}
void xShmBarrier(sqlite3_file* p) {
  realMethods(self(p))->xShmBarrier(self(p)->real);
}
int xShmUnmap(sqlite3_file* p, int deleteFlag) {
  return realMethods(self(p))->xShmUnmap(self(p)->real, deleteFlag);
}
int xFetch(sqlite3_file* p, sqlite3_int64 offset, int amount, void** out) {
  return realMethods(self(p))->xFetch(self(p)->real, offset, amount, out);
}
int xUnfetch(sqlite3_file* p, sqlite3_int64 offset, void* page) {
  return realMethods(self(p))->xUnfetch(self(p)->real, offset, page);
}

const sqlite3_io_methods kMethods = {3,
                                     xClose,
                                     xRead,
                                     xWrite,
                                     xTruncate,
                                     xSync,
                                     xFileSize,
                                     xLock,
                                     xUnlock,
                                     xCheckReservedLock,
                                     xFileControl,
                                     xSectorSize,
                                     xDeviceCharacteristics,
                                     xShmMap,
                                     xShmLock,
                                     xShmBarrier,
                                     xShmUnmap,
                                     xFetch,
                                     xUnfetch};

int xOpen(sqlite3_vfs*, const char* name, sqlite3_file* p, int flags, int* outFlags) {
  File* f = self(p);
  f->base.pMethods = nullptr;  // SQLite calls no method of a file whose open failed
  f->real = reinterpret_cast<sqlite3_file*>(f + 1);
  f->wal = (flags & SQLITE_OPEN_WAL) != 0;
  f->commitFrame = false;
  f->buffer = nullptr;
  f->bufferStart = 0;
  f->bufferLength = 0;
  int rc = root->xOpen(root, name, f->real, flags, outFlags);
  if (rc != SQLITE_OK || !f->real->pMethods) {
    if (f->real->pMethods) f->real->pMethods->xClose(f->real);
    return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
  }
  // Only the io_methods this shim knows (version 3: shared memory and memory mapping).
  if (f->real->pMethods->iVersion < 3) {
    f->real->pMethods->xClose(f->real);
    return SQLITE_CANTOPEN;
  }
  f->base.pMethods = &kMethods;
  return SQLITE_OK;
}

int xDelete(sqlite3_vfs*, const char* name, int syncDir) {
  return root->xDelete(root, name, syncDir);
}
int xAccess(sqlite3_vfs*, const char* name, int flags, int* out) {
  return root->xAccess(root, name, flags, out);
}
int xFullPathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return root->xFullPathname(root, name, n, out);
}
void* xDlOpen(sqlite3_vfs*, const char* name) {
  return root->xDlOpen(root, name);
}
void xDlError(sqlite3_vfs*, int n, char* out) {
  root->xDlError(root, n, out);
}
void (*xDlSym(sqlite3_vfs*, void* handle, const char* symbol))(void) {
  return root->xDlSym(root, handle, symbol);
}
void xDlClose(sqlite3_vfs*, void* handle) {
  root->xDlClose(root, handle);
}
int xRandomness(sqlite3_vfs*, int n, char* out) {
  return root->xRandomness(root, n, out);
}
int xSleep(sqlite3_vfs*, int micros) {
  return root->xSleep(root, micros);
}
int xCurrentTime(sqlite3_vfs*, double* out) {
  return root->xCurrentTime(root, out);
}
int xGetLastError(sqlite3_vfs*, int n, char* out) {
  return root->xGetLastError(root, n, out);
}
int xCurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* out) {
  return root->xCurrentTimeInt64(root, out);
}

sqlite3_vfs vfs{};

}  // namespace

const char* walBufferingVfs() {
  static std::once_flag once;
  static const char* name = nullptr;
  std::call_once(once, [] {
    root = sqlite3_vfs_find(nullptr);
    // The default VFS must offer the version-2 calls forwarded below.
    if (!root || root->iVersion < 2) return;
    vfs.iVersion = 2;
    vfs.szOsFile = static_cast<int>(sizeof(File)) + root->szOsFile;
    vfs.mxPathname = root->mxPathname;
    vfs.zName = kName;
    vfs.xOpen = xOpen;
    vfs.xDelete = xDelete;
    vfs.xAccess = xAccess;
    vfs.xFullPathname = xFullPathname;
    vfs.xDlOpen = xDlOpen;
    vfs.xDlError = xDlError;
    vfs.xDlSym = xDlSym;
    vfs.xDlClose = xDlClose;
    vfs.xRandomness = xRandomness;
    vfs.xSleep = xSleep;
    vfs.xCurrentTime = xCurrentTime;
    vfs.xGetLastError = xGetLastError;
    vfs.xCurrentTimeInt64 = xCurrentTimeInt64;
    if (sqlite3_vfs_register(&vfs, 0) == SQLITE_OK) name = kName;
  });
  return name;  // nullptr: use SQLite's default VFS
}

}  // namespace khive::sqlite
