// Key-material destruction and server-side audit filtering, against the backend under test
// (store_harness.h).
#include <gtest/gtest.h>

#include "tests/support/matchers.h"
#include "tests/unit/broker/store_harness.h"

namespace sigil::broker {
namespace {

// Rekey (the erasure epoch's move) is all or nothing, and refuses when anything it replaces
// changed after it was read: the epoch record, a KEK, the set of tenants or of live versions.
TEST(StoreKeysAndQueries, RekeyIsOneCompareAndSwapOverEverythingItReplaces) {
  StoreHarness harness;
  ASSERT_OK_AND_ASSIGN(auto store, harness.Open(StoreOpen::kCreate));
  ASSERT_OK(CreateTenantForTest(*store, "t", Bytes{1}));
  ASSERT_OK(CreateTenantForTest(*store, "u", Bytes{2}));
  ASSERT_OK(store->PutMeta(kErasureChainShareMeta, Bytes{5}));
  for (std::uint32_t v = 1; v <= 2; ++v) {
    ASSERT_OK(store->PutKeyVersion(KeyVersionRow{"t", "k", "dataset", v, "enabled", Bytes{9}, Bytes(40, 0x10 + v), 1, 0}, Bytes{1}));
  }
  ASSERT_OK(store->PutKeyVersion(KeyVersionRow{"t", "other", "dataset", 1, "enabled", Bytes{9}, Bytes(40, 0x30), 1, 0}, Bytes{1}));
  // A first record where there is none (the upgrade), then moves from it.
  RekeyPlan upgrade;
  upgrade.epoch_to = Bytes{0, 0};
  upgrade.keks = {{"t", Bytes{1}, Bytes{11}}, {"u", Bytes{2}, Bytes{12}}};
  ASSERT_OK_AND_ASSIGN(int none, store->Rekey(upgrade));
  EXPECT_EQ(none, 0);
  ASSERT_OK_AND_ASSIGN(Bytes kek_t, store->GetTenantKek("t"));
  EXPECT_EQ(kek_t, Bytes{11});
  EXPECT_TRUE(IsRekeyConflict(store->Rekey(upgrade).error())) << "a record exists now";

  ASSERT_OK_AND_ASSIGN(KeyVersionRow v1, store->GetKeyVersion("t", "k", 1));
  ASSERT_OK_AND_ASSIGN(KeyVersionRow o1, store->GetKeyVersion("t", "other", 1));
  RekeyPlan destroy;
  destroy.epoch_from = Bytes{0, 0};
  destroy.epoch_to = Bytes{0, 1};
  destroy.keks = {{"t", Bytes{11}, Bytes{21}}, {"u", Bytes{12}, Bytes{22}}};
  KeyVersionRow v1_to = v1, o1_to = o1;
  v1_to.wrapped_private_key = Bytes(40, 0xa1);
  o1_to.wrapped_private_key = Bytes(40, 0xb1);
  destroy.versions = {{v1.wrapped_private_key, v1_to}, {o1.wrapped_private_key, o1_to}};
  destroy.destroy = RekeyPlan::Destroy{"t", "k", 2u, 99};

  auto expect_nothing_written = [&](const char* why) {
    ASSERT_OK_AND_ASSIGN(Bytes record, store->GetMeta(kErasureEpochMeta));
    EXPECT_EQ(record, (Bytes{0, 0})) << why;
    ASSERT_OK_AND_ASSIGN(KeyVersionRow v2, store->GetKeyVersion("t", "k", 2));
    EXPECT_EQ(v2.state, "enabled") << why;
    ASSERT_OK_AND_ASSIGN(Bytes kek_u, store->GetTenantKek("u"));
    EXPECT_EQ(kek_u, Bytes{12}) << why;
  };
  {
    RekeyPlan stale = destroy;
    stale.epoch_from = Bytes{0, 7};
    EXPECT_TRUE(IsRekeyConflict(store->Rekey(stale).error()));
    expect_nothing_written("stale epoch");
  }
  {
    RekeyPlan missing_tenant = destroy;
    missing_tenant.keks.pop_back();
    EXPECT_TRUE(IsRekeyConflict(store->Rekey(missing_tenant).error()));
    expect_nothing_written("a tenant it did not read");
  }
  {
    RekeyPlan stale_kek = destroy;
    stale_kek.keks[1].from = Bytes{2};
    EXPECT_TRUE(IsRekeyConflict(store->Rekey(stale_kek).error()));
    expect_nothing_written("a KEK changed since");
  }
  {
    RekeyPlan missing_version = destroy;
    missing_version.versions.pop_back();
    EXPECT_TRUE(IsRekeyConflict(store->Rekey(missing_version).error()));
    expect_nothing_written("a live version it would leave under the old KEK");
  }
  {
    RekeyPlan stale_version = destroy;
    stale_version.versions[0].from = Bytes(40, 0x77);
    EXPECT_TRUE(IsRekeyConflict(store->Rekey(stale_version).error()));
    expect_nothing_written("a version changed since");
  }
  // A tenant created, or a version added, under the retired epoch / KEK is refused.
  ASSERT_OK_AND_ASSIGN(int destroyed, store->Rekey(destroy));
  EXPECT_EQ(destroyed, 1);
  ASSERT_OK_AND_ASSIGN(Bytes record, store->GetMeta(kErasureEpochMeta));
  EXPECT_EQ(record, (Bytes{0, 1}));
  ASSERT_OK_AND_ASSIGN(KeyVersionRow v2, store->GetKeyVersion("t", "k", 2));
  EXPECT_EQ(v2.state, "destroyed");
  EXPECT_TRUE(v2.wrapped_private_key.empty());
  ASSERT_OK_AND_ASSIGN(KeyVersionRow v1_after, store->GetKeyVersion("t", "k", 1));
  EXPECT_EQ(v1_after.wrapped_private_key, Bytes(40, 0xa1));
  ASSERT_OK_AND_ASSIGN(kek_t, store->GetTenantKek("t"));
  EXPECT_EQ(kek_t, Bytes{21});
  EXPECT_CODE(store->GetMeta(kErasureChainShareMeta), Code::kNotFound);  // the join copy went with it
  EXPECT_TRUE(IsRekeyConflict(store->CreateTenant("w", Bytes{3}, Bytes{0, 0}, [](const std::optional<AuditRow>&) {
    return Result<AuditRow>(AuditRow{1, R"({"seq":1})", std::string(64, 'a'), ""});
  }, PlaceholderCheckpoints()).error()));
  EXPECT_CODE(store->GetTenantKek("w"), Code::kNotFound);
  EXPECT_TRUE(IsRekeyConflict(
      store->PutKeyVersion(KeyVersionRow{"t", "k", "dataset", 3, "enabled", Bytes{9}, Bytes(40, 3), 1, 0}, Bytes{11}).error()));
  EXPECT_CODE(store->GetKeyVersion("t", "k", 3), Code::kNotFound);
  EXPECT_CODE(store->PutKeyVersion(KeyVersionRow{"x", "k", "dataset", 1, "enabled", Bytes{9}, Bytes(40, 3), 1, 0}, Bytes{1}),
              Code::kNotFound);
  ASSERT_OK(store->PutKeyVersion(KeyVersionRow{"t", "k", "dataset", 3, "enabled", Bytes{9}, Bytes(40, 3), 1, 0}, Bytes{21}));
}

TEST(StoreKeysAndQueries, DestroyErasesOnlyTheChosenVersions) {
  StoreHarness harness;
  ASSERT_OK_AND_ASSIGN(auto store, harness.Open(StoreOpen::kCreate));
  ASSERT_OK(CreateTenantForTest(*store, "t", Bytes{1}));
  for (std::uint32_t v = 1; v <= 3; ++v) {
    ASSERT_OK(store->PutKeyVersion(KeyVersionRow{"t", "k", "dataset", v, "enabled", Bytes{9}, Bytes(40, 0x5a), 1, 0}, Bytes{1}));
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
  EXPECT_EQ(KeyUnusable(rows[0]).code(), Code::kKeyDestroyed);
  KeyVersionRow disabled_row = rows[0];
  disabled_row.state = "disabled";
  EXPECT_EQ(KeyUnusable(disabled_row).message().rfind("key_disabled:", 0), 0u);
  EXPECT_EQ(KeyUnusable(disabled_row).code(), Code::kKeyDisabled);
}

TEST(StoreKeysAndQueries, QueryAuditFiltersOnRecordFields) {
  StoreHarness harness;
  ASSERT_OK_AND_ASSIGN(auto store, harness.Open(StoreOpen::kCreate));
  const char* recs[] = {R"({"decision":"ok","key":"a","seq":1,"time_ms":100})",
                        R"({"decision":"deny","key":"a","seq":2,"time_ms":200})",
                        R"({"decision":"allow","key":"b","seq":3,"time_ms":300})",
                        R"({"decision":"deny","seq":4,"time_ms":400})"};
  for (std::uint64_t i = 0; i < 4; ++i) {
    ASSERT_OK(store->AppendAudit("t", [&](const std::optional<AuditRow>&) -> Result<AuditRow> {
      return AuditRow{i + 1, recs[i], "h"};
    }, PlaceholderCheckpoints()));
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
