// Store schema migration (a version-1 data directory opens and upgrades in place), key-material
// destruction and server-side audit filtering, against real SQLite files.
#include <sqlite3.h>

#include <gtest/gtest.h>

#include "broker/sqlite_store.h"
#include "tests/support/matchers.h"
#include "tests/support/temp_dir.h"

namespace sigil::broker {
namespace {

// The schema as shipped before migrations existed (user_version 0, no destroyed_at column).
constexpr const char* kV1Schema = R"sql(
CREATE TABLE tenants (name TEXT PRIMARY KEY, kek BLOB NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE key_versions (
  tenant TEXT NOT NULL REFERENCES tenants(name), name TEXT NOT NULL, version INTEGER NOT NULL,
  class TEXT NOT NULL, state TEXT NOT NULL, public_key BLOB NOT NULL, private_key BLOB NOT NULL,
  created_at INTEGER NOT NULL, PRIMARY KEY (tenant, name, version));
INSERT INTO tenants VALUES ('old', x'0102', 1);
INSERT INTO key_versions VALUES ('old', 'm', 1, 'model-weights', 'enabled', x'aa', x'bbbbbbbbbbbbbbbbbbbbbbbb', 5);
)sql";

std::int64_t UserVersion(const std::string& path) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, nullptr);
  std::int64_t v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
  sqlite3_finalize(s);
  sqlite3_close(db);
  return v;
}

TEST(StoreMigration, VersionOneFileUpgradesAndKeepsItsData) {
  testing::TempDir dir;
  const std::string path = dir.File("old.db");
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, kV1Schema, nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  ASSERT_EQ(UserVersion(path), 0);
  {
    ASSERT_OK_AND_ASSIGN(auto store, OpenSqliteStore(path));
    ASSERT_OK_AND_ASSIGN(KeyVersionRow k, store->GetKeyVersion("old", "m", 1));
    EXPECT_EQ(k.state, "enabled");
    EXPECT_EQ(k.destroyed_at, 0);
    EXPECT_EQ(k.wrapped_private_key.size(), 12u);
  }
  EXPECT_EQ(UserVersion(path), 2);
  ASSERT_OK_AND_ASSIGN(auto again, OpenSqliteStore(path));  // idempotent on an upgraded file
  EXPECT_OK(again->GetKeyVersion("old", "m", 1));
}

TEST(StoreLifecycle, DestroyErasesOnlyTheChosenVersions) {
  testing::TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto store, OpenSqliteStore(dir.File("s.db"), StoreOpen::kCreate));
  ASSERT_OK(store->CreateTenant("t", Bytes{1}));
  for (std::uint32_t v = 1; v <= 3; ++v) {
    ASSERT_OK(store->PutKeyVersion(KeyVersionRow{"t", "k", "dataset", v, "enabled", Bytes{9}, Bytes(40, 0x5a), 1, 0}));
  }
  ASSERT_OK_AND_ASSIGN(int one, store->DestroyKeyMaterial("t", "k", 2u, 77));
  EXPECT_EQ(one, 1);
  ASSERT_OK_AND_ASSIGN(KeyVersionRow v2, store->GetKeyVersion("t", "k", 2));
  EXPECT_EQ(v2.state, "destroyed");
  EXPECT_TRUE(v2.wrapped_private_key.empty());
  EXPECT_EQ(v2.destroyed_at, 77);
  EXPECT_EQ(v2.public_key, Bytes{9});  // metadata stays
  ASSERT_OK_AND_ASSIGN(KeyVersionRow v1, store->GetKeyVersion("t", "k", 1));
  EXPECT_EQ(v1.wrapped_private_key.size(), 40u);
  // Disable skips destroyed versions; destroy-all counts only the ones still holding material.
  ASSERT_OK_AND_ASSIGN(int disabled, store->SetKeyState("t", "k", "enabled", "disabled"));
  EXPECT_EQ(disabled, 2);
  ASSERT_OK_AND_ASSIGN(int rest, store->DestroyKeyMaterial("t", "k", std::nullopt, 78));
  EXPECT_EQ(rest, 2);
  ASSERT_OK_AND_ASSIGN(auto rows, store->ListKeyVersions("t"));
  for (const auto& r : rows) {
    EXPECT_EQ(r.state, "destroyed");
    EXPECT_TRUE(r.wrapped_private_key.empty());
  }
  EXPECT_EQ(KeyUnusable(rows[0]).message().rfind("key_destroyed:", 0), 0u);
}

TEST(StoreLifecycle, QueryAuditFiltersOnRecordFields) {
  testing::TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto store, OpenSqliteStore(dir.File("s.db"), StoreOpen::kCreate));
  const char* recs[] = {R"({"decision":"ok","key":"a","seq":1,"time_ms":100})",
                        R"({"decision":"deny","key":"a","seq":2,"time_ms":200})",
                        R"({"decision":"allow","key":"b","seq":3,"time_ms":300})",
                        R"({"decision":"deny","seq":4,"time_ms":400})"};
  for (std::uint64_t i = 0; i < 4; ++i) {
    ASSERT_OK(store->AppendAudit("t", [&](const std::optional<AuditRow>&) -> Result<std::pair<AuditRow, Checkpoint>> {
      return std::make_pair(AuditRow{i + 1, recs[i], "h"}, Checkpoint{i + 1, "h", 0, "s"});
    }));
  }
  auto seqs = [&](const AuditQuery& q) {
    std::vector<std::uint64_t> out;
    auto rows = store->QueryAudit("t", q);
    EXPECT_TRUE(rows.has_value());
    if (rows) for (const auto& r : *rows) out.push_back(r.seq);
    return out;
  };
  AuditQuery q;
  q.decision = "deny";
  EXPECT_EQ(seqs(q), (std::vector<std::uint64_t>{2, 4}));
  q = {};
  q.key = "a";
  EXPECT_EQ(seqs(q), (std::vector<std::uint64_t>{1, 2}));
  q = {};
  q.since_ms = 200;
  q.until_ms = 300;
  EXPECT_EQ(seqs(q), (std::vector<std::uint64_t>{2, 3}));
  q = {};
  q.after_seq = 1;
  q.limit = 2;
  EXPECT_EQ(seqs(q), (std::vector<std::uint64_t>{2, 3}));
  EXPECT_TRUE(seqs(AuditQuery{}).size() == 4);
  q = {};
  q.key = "a";
  EXPECT_TRUE(store->QueryAudit("other", q)->empty());
}

}  // namespace
}  // namespace sigil::broker
