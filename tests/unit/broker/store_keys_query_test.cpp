// Key-material destruction and server-side audit filtering, against the backend under test
// (store_harness.h).
#include <gtest/gtest.h>

#include "tests/support/matchers.h"
#include "tests/unit/broker/store_harness.h"

namespace sigil::broker {
namespace {

TEST(StoreKeysAndQueries, DestroyErasesOnlyTheChosenVersions) {
  StoreHarness harness;
  ASSERT_OK_AND_ASSIGN(auto store, harness.Open(StoreOpen::kCreate));
  ASSERT_OK(CreateTenantForTest(*store, "t", Bytes{1}));
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
