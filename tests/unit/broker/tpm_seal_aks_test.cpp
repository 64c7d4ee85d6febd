// The store's per-tenant TPM AK registry and the durable TPM replay state (store.h), on the real
// backend under test (store_harness.h): round trip, tenant scoping, and a replay state that
// survives reopening the store.
#include <gtest/gtest.h>

#include "tests/support/matchers.h"
#include "tests/unit/broker/store_harness.h"

namespace sigil::broker {
namespace {

class TpmAkStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = harness_.Open(StoreOpen::kCreate);
    ASSERT_TRUE(s.has_value()) << s.error().message();
    store_ = std::move(*s);
    ASSERT_OK(CreateTenantForTest(*store_, "acme", Bytes{1}));
    ASSERT_OK(CreateTenantForTest(*store_, "bob", Bytes{2}));
  }
  void Reopen() {
    store_.reset();
    auto s = harness_.Open();
    ASSERT_TRUE(s.has_value()) << s.error().message();
    store_ = std::move(*s);
  }
  StoreHarness harness_;
  std::unique_ptr<Store> store_;
};

TEST_F(TpmAkStoreTest, AksAreScopedPerTenantAndRemovable) {
  TpmAkRow a{"acme", std::string(64, 'a'), "rack-1", Bytes{0x30, 0x01}, 10, Bytes{0x00, 0x0b, 0x42}};
  ASSERT_OK(store_->PutTpmAk(a));
  EXPECT_CODE(store_->PutTpmAk(a), Code::kAlreadyExists);
  TpmAkRow b = a;
  b.tenant = "bob";  // the same AK may be registered for another tenant, separately
  ASSERT_OK(store_->PutTpmAk(b));
  EXPECT_FALSE(store_->PutTpmAk(TpmAkRow{"nobody", "x", "", Bytes{1}, 0}).has_value());  // no such tenant
  Reopen();
  ASSERT_OK_AND_ASSIGN(auto acme, store_->ListTpmAks("acme"));
  ASSERT_EQ(acme.size(), 1u);
  EXPECT_EQ(acme[0].id, a.id);
  EXPECT_EQ(acme[0].name, "rack-1");
  EXPECT_EQ(acme[0].spki, a.spki);
  EXPECT_EQ(acme[0].created_at, 10);
  EXPECT_EQ(acme[0].tpm_name, a.tpm_name);
  ASSERT_OK(store_->DeleteTpmAk("acme", a.id));
  EXPECT_CODE(store_->DeleteTpmAk("acme", a.id), Code::kNotFound);
  ASSERT_OK_AND_ASSIGN(acme, store_->ListTpmAks("acme"));
  EXPECT_TRUE(acme.empty());
  ASSERT_OK_AND_ASSIGN(auto bob, store_->ListTpmAks("bob"));
  EXPECT_EQ(bob.size(), 1u);
}

TEST_F(TpmAkStoreTest, ReplayStateOnlyMovesForwardAndSurvivesReopen) {
  const std::string ak = std::string(64, 'f');
  ASSERT_OK(store_->AdvanceTpmClock(ak, TpmClockRow{5, 1, 1000}));
  EXPECT_CODE(store_->AdvanceTpmClock(ak, TpmClockRow{5, 1, 1000}), Code::kReplay);  // the same quote again
  EXPECT_CODE(store_->AdvanceTpmClock(ak, TpmClockRow{5, 1, 999}), Code::kReplay);
  EXPECT_CODE(store_->AdvanceTpmClock(ak, TpmClockRow{5, 0, 5000}), Code::kReplay);   // restartCount back
  EXPECT_CODE(store_->AdvanceTpmClock(ak, TpmClockRow{4, 9, 9000}), Code::kReplay);   // resetCount back
  ASSERT_OK(store_->AdvanceTpmClock(ak, TpmClockRow{5, 2, 10}));   // a Restart: clock may be lower
  ASSERT_OK(store_->AdvanceTpmClock(ak, TpmClockRow{6, 0, 3}));    // a Reset
  Reopen();
  EXPECT_CODE(store_->AdvanceTpmClock(ak, TpmClockRow{6, 0, 3}), Code::kReplay);
  EXPECT_CODE(store_->AdvanceTpmClock(ak, TpmClockRow{5, 9, 99999}), Code::kReplay);
  ASSERT_OK(store_->AdvanceTpmClock(ak, TpmClockRow{6, 0, 4}));
  // Unsigned 32-bit counters beyond INT32_MAX keep their order; other AKs are independent.
  ASSERT_OK(store_->AdvanceTpmClock(ak, TpmClockRow{0xfffffff0u, 0, 0}));
  EXPECT_CODE(store_->AdvanceTpmClock(ak, TpmClockRow{0x7fffffffu, 0, 0}), Code::kReplay);
  ASSERT_OK(store_->AdvanceTpmClock(std::string(64, 'e'), TpmClockRow{1, 0, 0}));
  EXPECT_CODE(store_->AdvanceTpmClock(ak, TpmClockRow{1, 0, 1ull << 63}), Code::kInvalidArgument);
}

}  // namespace
}  // namespace sigil::broker
