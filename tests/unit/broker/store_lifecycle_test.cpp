// SQLite store schema migration: a version-1 data directory opens and upgrades in place.
#include <sqlite3.h>

#include <gtest/gtest.h>

#include "broker/store/sqlite_store.h"
#include "broker/store/store_open.h"
#include "core/text.h"
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
CREATE TABLE policies (
  tenant TEXT NOT NULL REFERENCES tenants(name), version INTEGER NOT NULL, text TEXT NOT NULL,
  created_at INTEGER NOT NULL, PRIMARY KEY (tenant, version));
INSERT INTO tenants VALUES ('old', x'0102', 1);
INSERT INTO key_versions VALUES ('old', 'm', 1, 'model-weights', 'enabled', x'aa', x'bbbbbbbbbbbbbbbbbbbbbbbb', 5);
INSERT INTO policies VALUES ('old', 1, '{"v":1}', 5);
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
    EXPECT_TRUE(k.mac.empty());  // untagged: refused by store_auth.h until tagged (--tag-existing-rows)
  }
  EXPECT_EQ(UserVersion(path), 9);
  ASSERT_OK_AND_ASSIGN(auto again, OpenSqliteStore(path));  // idempotent on an upgraded file
  EXPECT_OK(again->GetKeyVersion("old", "m", 1));
  // Migration 5: the published tree heads' table exists (empty) on the upgraded file.
  // Migration 8: the admin certificates' registry exists (empty) on the upgraded file.
  ASSERT_OK_AND_ASSIGN(auto certs, again->ListAdminCerts(""));
  EXPECT_TRUE(certs.empty());
  // Migration 9: a policy from before approvals is in force; a proposal is stored beside it.
  ASSERT_OK_AND_ASSIGN(PolicyRow in_force, again->GetPolicy("old"));
  EXPECT_EQ(in_force.version, 1);
  EXPECT_TRUE(in_force.active);
  ASSERT_OK_AND_ASSIGN(std::int64_t proposed, again->ProposePolicy("old", "{\"v\":2}"));
  EXPECT_EQ(proposed, 2);
  ASSERT_OK_AND_ASSIGN(auto approvals, again->ListPolicyApprovals("old", proposed));
  EXPECT_TRUE(approvals.empty());
  ASSERT_OK_AND_ASSIGN(auto head, again->GetTreeHead("old"));
  EXPECT_FALSE(head.has_value());
  // Migration 6: the tables of policies' memory exist: a gated release commits, and its spent
  // token is then refused.
  ReleaseGate gate;
  gate.token_id = "t";
  gate.spend_token = true;
  gate.token_expires_ms = 2000;
  gate.now_ms = 1000;
  gate.counters.push_back(ReleaseCounter{"c", 1000, 1, 1, "at most 1"});
  auto make = [](const std::optional<AuditRow>& h) -> Result<AuditRow> {
    return AuditRow{h ? h->seq + 1 : 1, "{}", std::string(64, 'a'), ""};
  };
  auto deny = [&](const std::optional<AuditRow>& h, const Error&) { return make(h); };
  auto sign = [](const AuditRow& r) -> Result<Checkpoint> { return Checkpoint{r.seq, r.hash, 1, "sig"}; };
  std::optional<Error> refused;
  ASSERT_OK(again->AppendRelease("old", gate, {make}, deny, sign, &refused));
  EXPECT_FALSE(refused.has_value());
  ASSERT_OK(again->AppendRelease("old", gate, {make}, deny, sign, &refused));
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->code(), Code::kReplay);
  // Migration 7: pending TPM enrolments are kept, and taken once.
  const auto now = std::chrono::system_clock::now();
  const std::int64_t expires_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>((now + std::chrono::minutes(5)).time_since_epoch()).count();
  ASSERT_OK(again->PutTpmEnrolment(
      TpmEnrolmentRow{std::string(32, 'a'), "old", Bytes{1}, Bytes{2}, Bytes{3}, Bytes(32, 4), expires_ms, Bytes{5}}, now, 10));
  ASSERT_OK_AND_ASSIGN(TpmEnrolmentRow taken, again->TakeTpmEnrolment(std::string(32, 'a')));
  EXPECT_EQ(taken.tenant, "old");
  EXPECT_CODE(again->TakeTpmEnrolment(std::string(32, 'a')), Code::kNotFound);
}

// The store location (sigild init --store, sigild.json): the three accepted forms, and text that
// cannot be a location refused with a message that quotes none of its bytes.
TEST(StoreLocation, AcceptedFormsAndTheirDisplay) {
  ASSERT_OK_AND_ASSIGN(auto def, ResolveStoreLocation("", "/d"));
  EXPECT_EQ(def.backend, StoreBackend::kSqlite);
  EXPECT_EQ(def.target, "/d/store.db");
  ASSERT_OK_AND_ASSIGN(auto rel, ResolveStoreLocation("sqlite:sub/s.db", "/d"));
  EXPECT_EQ(rel.target, "/d/sub/s.db");
  ASSERT_OK_AND_ASSIGN(auto abs, ResolveStoreLocation("sqlite:/var/lib/s.db", "/d"));
  EXPECT_EQ(abs.target, "/var/lib/s.db");
  ASSERT_OK_AND_ASSIGN(auto pg, ResolveStoreLocation("postgresql://u:hunter2@db.example/sigil?password=hunter2", "/d"));
  EXPECT_EQ(pg.backend, StoreBackend::kPostgres);
  EXPECT_EQ(pg.target, "postgresql://u:hunter2@db.example/sigil?password=hunter2");
  EXPECT_EQ(pg.shown.find("hunter2"), std::string::npos) << pg.shown;
  EXPECT_CODE(ResolveStoreLocation("sqlite:", "/d"), Code::kInvalidArgument);
  EXPECT_CODE(ResolveStoreLocation("mysql://x", "/d"), Code::kInvalidArgument);
}

TEST(StoreLocation, HostileTextIsRefusedWithoutEchoingIt) {
  const std::string cases[] = {
      std::string("sqlite:/tmp/a\nFAKE LOG LINE"),  // newline
      std::string("sqlite:/tmp/\x1b[2Jx"),          // terminal escape
      std::string("sqlite:/tmp/a\0b", 15),          // NUL
      std::string("postgresql://h/\x7f"),           // DEL
      std::string("sqlite:/tmp/\xff\xfe"),          // not UTF-8
      std::string("sqlite:/tmp/\xc0\xaf"),          // overlong encoding
      "postgresql://h/" + std::string(5000, 'a'),   // oversized (the redaction runs a regex)
  };
  for (const auto& text : cases) {
    auto r = ResolveStoreLocation(text, "/d");
    ASSERT_FALSE(r.has_value()) << EscapeForDisplay(text);
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
    for (char c : r.error().message()) {
      EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "message carries a raw byte: " << EscapeForDisplay(r.error().message());
    }
    EXPECT_EQ(r.error().message().find("FAKE"), std::string::npos);
  }
}

}  // namespace
}  // namespace sigil::broker
