// The store tests run against both backends from the same test code: each test binary is built
// once per backend (SIGIL_STORE_BACKEND_POSTGRES selects PostgreSQL; CMakeLists.txt), and a
// StoreHarness gives each test a fresh store of that backend: an SQLite file in a temporary
// directory, or a fresh database on one real PostgreSQL server started for the test binary
// (tests/support/postgres_server.h). Tamper() edits the backing rows directly, as someone with
// write access to the file or the database would.
#pragma once

#include <memory>
#include <string>

#include "broker/store/store.h"
#include "broker/store/store_open.h"
#include "tests/support/postgres_server.h"
#include "tests/support/temp_dir.h"

namespace sigil::broker {

StoreBackend BackendUnderTest();
// For tests that append raw rows: a checkpoint over the newest record with a placeholder signature.
inline Store::CheckpointSigner PlaceholderCheckpoints() {
  return [](const AuditRow& newest) -> Result<Checkpoint> { return Checkpoint{newest.seq, newest.hash, 1, "sig"}; };
}
const char* BackendName(StoreBackend b);
// Store::CreateTenant with a placeholder genesis record (not a real AuditLog one) and the
// placeholder checkpoint over it, for tests about other rows; AuditLog::CreateTenant writes the
// real one.
inline Result<AuditRow> CreateTenantForTest(Store& store, const std::string& tenant, ByteSpan kek) {
  return store.CreateTenant(
      tenant, kek, {},
      [&](const std::optional<AuditRow>&) -> Result<AuditRow> {
        return AuditRow{1, R"({"action":"tenant.genesis","seq":1,"tenant":")" + tenant + "\"}", std::string(64, 'a'), ""};
      },
      PlaceholderCheckpoints());
}

class StoreHarness {
 public:
  StoreHarness();
  // Another connection (or pool) to the same store: what a second broker of a fleet sees.
  Result<std::unique_ptr<Store>> Open(StoreOpen how = StoreOpen::kExisting) const;
  // Raw SQL on the store's own tables, outside the broker (fails the test on an SQL error).
  void Tamper(const std::string& sql) const;
  StoreBackend backend() const { return location_.backend; }
  const StoreLocation& location() const { return location_; }
  // PostgreSQL: the shared server (to stop and restart it); nullptr for SQLite.
  static testing::PostgresServer* Server();

 private:
  testing::TempDir dir_;
  StoreLocation location_;
  std::string database_;
};

}  // namespace sigil::broker
