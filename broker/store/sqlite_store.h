// The embedded default store: one SQLite database file in WAL mode with synchronous=FULL, so a
// committed audit record survives a crash. One connection guarded by a mutex.
#pragma once

#include <memory>
#include <string>

#include "broker/store/store.h"

namespace sigil::broker {

// Opens the database at `path` (creating it only with kCreate), refuses it if SQLite's integrity
// check fails or it can only be opened read-only (messages name the file and the recovery
// steps), applies the schema and its versioned migrations (PRAGMA user_version; older data
// directories upgrade in place), and turns on secure_delete so erased key material is zeroed in
// the file. At run time the store fails closed once SQLite reports the file damaged (every call
// but audit reads answers kUnavailable "store_corrupt: ..."), and CheckReady reports it, a
// failed write, or a nearly full file system.
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path, StoreOpen how = StoreOpen::kExisting);

}  // namespace sigil::broker
