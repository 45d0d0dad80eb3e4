#pragma once
// A VFS shim over SQLite's default VFS that gathers the writes of a WAL file into 128 KiB
// pwrite()s. See wal_vfs.cc.

namespace khive::sqlite {

// The shim's registered name (registered on first use; not the process default).
const char* walBufferingVfs();

}  // namespace khive::sqlite
