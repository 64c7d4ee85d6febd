// The one place a store is opened from its location: the "store" setting of sigild.json (or
// `sigild init --store`). Locations:
//   (empty)                      DATA/store.db, the embedded SQLite default
//   sqlite:PATH                  an SQLite file elsewhere (relative paths are under DATA)
//   postgresql://... postgres:// a shared PostgreSQL database (libpq connection URI)
#pragma once

#include <memory>
#include <string>

#include "broker/store/store.h"

namespace sigil::broker {

enum class StoreBackend { kSqlite, kPostgres };

struct StoreLocation {
  StoreBackend backend = StoreBackend::kSqlite;
  std::string target;  // the SQLite file path, or the libpq URI
  std::string shown;   // for messages: the path, or the URI without its password
};

Result<StoreLocation> ResolveStoreLocation(const std::string& location, const std::string& data_dir);
Result<std::unique_ptr<Store>> OpenStore(const StoreLocation& where, StoreOpen how = StoreOpen::kExisting);

}  // namespace sigil::broker
