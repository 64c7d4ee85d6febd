#include "broker/store/store_open.h"

#include "broker/store/pg_store.h"
#include "broker/store/sqlite_store.h"
#include "core/text.h"
#include "core/utf8.h"

namespace sigil::broker {

namespace {

constexpr std::size_t kMaxLocationBytes = 4096;

// A location comes from the command line or sigild.json and is shown in messages and logs: it
// must be text, without control characters, and of a bounded size (the redaction runs a regex).
Result<void> CheckLocationText(const std::string& location) {
  if (location.size() > kMaxLocationBytes) {
    return Fail(Code::kInvalidArgument, "store location is longer than " + std::to_string(kMaxLocationBytes) + " bytes");
  }
  if (auto bad = FindInvalidUtf8(location)) {
    return Fail(Code::kInvalidArgument, "store location is not valid UTF-8 (byte " + std::to_string(*bad) + ")");
  }
  for (std::size_t i = 0; i < location.size(); ++i) {
    const auto c = static_cast<unsigned char>(location[i]);
    if (c < 0x20 || c == 0x7f) {
      return Fail(Code::kInvalidArgument, "store location contains a control character (byte " + std::to_string(i) + ")");
    }
  }
  return Ok();
}

}  // namespace

Result<StoreLocation> ResolveStoreLocation(const std::string& location, const std::string& data_dir) {
  SIGIL_RETURN_IF_ERROR(CheckLocationText(location));
  // `shown` goes into messages: escaped, so no byte of it can forge a log line.
  const auto shown = [](const std::string& text) { return EscapeForDisplay(text, kMaxLocationBytes); };
  if (location.empty()) return StoreLocation{StoreBackend::kSqlite, data_dir + "/store.db", shown(data_dir + "/store.db")};
  if (location.rfind("sqlite:", 0) == 0) {
    std::string path = location.substr(7);
    if (path.empty()) return Fail(Code::kInvalidArgument, "store location 'sqlite:' names no file");
    if (path[0] != '/') path = data_dir + "/" + path;
    return StoreLocation{StoreBackend::kSqlite, path, shown(path)};
  }
  if (location.rfind("postgresql://", 0) == 0 || location.rfind("postgres://", 0) == 0) {
    return StoreLocation{StoreBackend::kPostgres, location, shown(RedactStoreUrl(location))};
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
