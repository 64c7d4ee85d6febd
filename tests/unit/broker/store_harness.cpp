#include "tests/unit/broker/store_harness.h"

#include <sqlite3.h>

#include <gtest/gtest.h>

#include <atomic>

namespace sigil::broker {
namespace {

// One server per test binary: initdb costs about a second, a database a few milliseconds.
// Members are destroyed in reverse order, so the server stops before its directory goes.
struct SharedServer {
  testing::TempDir dir;
  std::unique_ptr<testing::PostgresServer> server = testing::PostgresServer::Start(dir.path());
};

SharedServer& Shared() {
  static SharedServer shared;
  return shared;
}

}  // namespace

StoreBackend BackendUnderTest() {
#ifdef SIGIL_STORE_BACKEND_POSTGRES
  return StoreBackend::kPostgres;
#else
  return StoreBackend::kSqlite;
#endif
}

const char* BackendName(StoreBackend b) { return b == StoreBackend::kPostgres ? "PostgreSQL" : "SQLite"; }

testing::PostgresServer* StoreHarness::Server() {
  return BackendUnderTest() == StoreBackend::kPostgres ? Shared().server.get() : nullptr;
}

StoreHarness::StoreHarness() {
  if (BackendUnderTest() == StoreBackend::kSqlite) {
    location_ = StoreLocation{StoreBackend::kSqlite, dir_.File("store.db"), dir_.File("store.db")};
    return;
  }
  static std::atomic<int> next{0};
  database_ = "store" + std::to_string(next++);
  testing::PostgresServer* server = Server();
  if (server == nullptr) {
    ADD_FAILURE() << "PostgreSQL did not start";
    return;
  }
  const std::string url = server->CreateDatabase(database_);
  location_ = StoreLocation{StoreBackend::kPostgres, url, url};
}

Result<std::unique_ptr<Store>> StoreHarness::Open(StoreOpen how) const { return OpenStore(location_, how); }

void StoreHarness::Tamper(const std::string& sql) const {
  if (location_.backend == StoreBackend::kPostgres) {
    if (testing::PostgresServer* server = Server()) server->Psql(database_, sql);
    return;
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(location_.target.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

}  // namespace sigil::broker
