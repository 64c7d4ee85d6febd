// The embedded default store: one SQLite database file in WAL mode with synchronous=FULL, so a
// committed audit record survives a crash. One connection guarded by a mutex.
#pragma once

#include <memory>
#include <string>

#include "broker/store.h"

namespace sigil::broker {

// Opens (creating if needed) the database at `path`, applies the schema and its versioned
// migrations (PRAGMA user_version; older data directories upgrade in place), and turns on
// secure_delete so erased key material is zeroed in the file.
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path);

}  // namespace sigil::broker
