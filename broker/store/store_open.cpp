#include "broker/store/store_open.h"

#include "broker/store/pg_store.h"
#include "broker/store/sqlite_store.h"
#include "core/text.h"

namespace sigil::broker {

Result<StoreLocation> ResolveStoreLocation(const std::string& location, const std::string& data_dir) {
  if (location.empty()) return StoreLocation{StoreBackend::kSqlite, data_dir + "/store.db", data_dir + "/store.db"};
  if (location.rfind("sqlite:", 0) == 0) {
    std::string path = location.substr(7);
    if (path.empty()) return Fail(Code::kInvalidArgument, "store location 'sqlite:' names no file");
    if (path[0] != '/') path = data_dir + "/" + path;
    return StoreLocation{StoreBackend::kSqlite, path, path};
  }
  if (location.rfind("postgresql://", 0) == 0 || location.rfind("postgres://", 0) == 0) {
    return StoreLocation{StoreBackend::kPostgres, location, RedactStoreUrl(location)};
  }
  return Fail(Code::kInvalidArgument, "store location '" + EscapeForDisplay(RedactStoreUrl(location)) +
                                          "' is neither sqlite:PATH nor a postgresql:// URL");
}

Result<std::unique_ptr<Store>> OpenStore(const StoreLocation& where, StoreOpen how) {
  switch (where.backend) {
    case StoreBackend::kPostgres: return OpenPostgresStore(where.target, how);
    case StoreBackend::kSqlite: break;
  }
  return OpenSqliteStore(where.target, how);
}

}  // namespace sigil::broker
