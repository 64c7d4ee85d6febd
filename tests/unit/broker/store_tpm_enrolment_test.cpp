// Pending TPM enrolments in the store (Store::PutTpmEnrolment / TakeTpmEnrolment), through the
// authenticating store as sigild uses it, on both backends (store_harness.h): a started
// enrolment is taken back as stored exactly once; of two stores (two brokers) racing to finish
// the same enrolments exactly one wins each; expired ones still answer (the caller refuses
// them) until pruned, and stop counting against the per-tenant bound; a row edited or inserted
// in the raw store is refused with an ALARM and is consumed all the same.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "broker/store/store_auth.h"
#include "tests/support/matchers.h"
#include "tests/unit/broker/store_harness.h"

namespace sigil::broker {
namespace {

using std::chrono::minutes;

std::int64_t Ms(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

class StoreTpmEnrolmentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto root = SecretBytes::Random(32);
    ASSERT_TRUE(root.has_value());
    root_ = std::make_unique<SecretBytes>(std::move(*root));
    a_ = Authenticated(StoreOpen::kCreate);
    b_ = Authenticated(StoreOpen::kExisting);
    ASSERT_TRUE(a_ && b_);
    ASSERT_OK(CreateTenantForTest(*a_, "acme", Bytes{1}));
    ASSERT_OK(CreateTenantForTest(*a_, "bob", Bytes{2}));
  }
  // Another broker's view of the store: its own connection (pool), the same root key.
  std::unique_ptr<Store> Authenticated(StoreOpen how) {
    auto backend = harness_.Open(how);
    EXPECT_TRUE(backend.has_value()) << backend.error().message();
    if (!backend) return nullptr;
    auto store = AuthenticateStore(std::move(*backend), *root_);
    EXPECT_TRUE(store.has_value());
    return store ? std::move(*store) : nullptr;
  }
  // An enrolment of `tenant` started at now_, expiring 5 minutes later.
  TpmEnrolmentRow Row(const std::string& id, const std::string& tenant = "acme") const {
    return TpmEnrolmentRow{id, tenant, Bytes{0x30, 0x82, 1}, Bytes{0x30, 0x59, 2}, Bytes{0, 0x0b, 3},
                           Bytes(32, 0x5e), Ms(now_ + minutes(5)), {}};
  }
  static std::string Id(int i) {
    std::string s = std::to_string(i);
    return std::string(32 - s.size(), '0') + s;
  }
  bool Postgres() const { return harness_.backend() == StoreBackend::kPostgres; }
  std::string Blob(const std::string& hex) const { return Postgres() ? "'\\x" + hex + "'" : "x'" + hex + "'"; }

  StoreHarness harness_;
  std::unique_ptr<SecretBytes> root_;
  std::unique_ptr<Store> a_, b_;
  TimePoint now_ = std::chrono::system_clock::now();
};

TEST_F(StoreTpmEnrolmentTest, AStartedEnrolmentIsTakenBackAsStoredOnceAtAnyBroker) {
  const TpmEnrolmentRow row = Row(Id(1));
  ASSERT_OK(a_->PutTpmEnrolment(row, now_, 10));
  EXPECT_CODE(a_->PutTpmEnrolment(row, now_, 10), Code::kAlreadyExists);
  // Started at one broker, finished at the other.
  ASSERT_OK_AND_ASSIGN(TpmEnrolmentRow got, b_->TakeTpmEnrolment(row.id));
  EXPECT_EQ(got.id, row.id);
  EXPECT_EQ(got.tenant, "acme");
  EXPECT_EQ(got.ek, row.ek);
  EXPECT_EQ(got.ak_spki, row.ak_spki);
  EXPECT_EQ(got.ak_name, row.ak_name);
  EXPECT_EQ(got.secret_hash, row.secret_hash);
  EXPECT_EQ(got.expires_ms, row.expires_ms);
  EXPECT_EQ(got.mac.size(), 32u);
  EXPECT_CODE(b_->TakeTpmEnrolment(row.id), Code::kNotFound);
  EXPECT_CODE(a_->TakeTpmEnrolment(row.id), Code::kNotFound);
  EXPECT_CODE(a_->TakeTpmEnrolment(Id(2)), Code::kNotFound);
}

TEST_F(StoreTpmEnrolmentTest, OfTwoBrokersRacingToFinishExactlyOneWinsEach) {
  constexpr int kEnrolments = 40;
  for (int i = 0; i < kEnrolments; ++i) ASSERT_OK(a_->PutTpmEnrolment(Row(Id(i)), now_, 100));
  std::atomic<int> wins{0}, losses{0}, failures{0};
  auto finish_all = [&](Store& store) {
    for (int i = 0; i < kEnrolments; ++i) {
      auto r = store.TakeTpmEnrolment(Id(i));
      if (r) {
        ++wins;
      } else if (r.error().code() == Code::kNotFound) {
        ++losses;
      } else {
        ++failures;
      }
    }
  };
  std::thread ta([&] { finish_all(*a_); });
  std::thread tb([&] { finish_all(*b_); });
  ta.join();
  tb.join();
  EXPECT_EQ(wins.load(), kEnrolments);
  EXPECT_EQ(losses.load(), kEnrolments);
  EXPECT_EQ(failures.load(), 0);
}

TEST_F(StoreTpmEnrolmentTest, PendingEnrolmentsAreBoundedPerTenantAndExpiredOnesPruned) {
  ASSERT_OK(a_->PutTpmEnrolment(Row(Id(1)), now_, 2));
  ASSERT_OK(b_->PutTpmEnrolment(Row(Id(2)), now_, 2));
  // The bound holds across brokers, per tenant.
  EXPECT_CODE(a_->PutTpmEnrolment(Row(Id(3)), now_, 2), Code::kUnavailable);
  EXPECT_CODE(b_->PutTpmEnrolment(Row(Id(3)), now_, 2), Code::kUnavailable);
  ASSERT_OK(a_->PutTpmEnrolment(Row(Id(4), "bob"), now_, 2));
  // Once expired they no longer count, but are kept for a while: a late finish hears "expired"
  // from its caller, which sees expires_ms, rather than "unknown".
  const TimePoint later = now_ + minutes(6);
  ASSERT_OK(a_->PutTpmEnrolment(Row(Id(5)), later, 2));
  ASSERT_OK_AND_ASSIGN(TpmEnrolmentRow late, b_->TakeTpmEnrolment(Id(1)));
  EXPECT_LT(late.expires_ms, Ms(later));
  // Well past the grace period, the next start prunes them: gone.
  ASSERT_OK(a_->PutTpmEnrolment(Row(Id(6), "bob"), now_ + minutes(60), 2));
  EXPECT_CODE(b_->TakeTpmEnrolment(Id(2)), Code::kNotFound);
  EXPECT_CODE(b_->TakeTpmEnrolment(Id(4)), Code::kNotFound);
  EXPECT_CODE(b_->TakeTpmEnrolment(Id(5)), Code::kNotFound);
  EXPECT_OK(b_->TakeTpmEnrolment(Id(6)));
}

TEST_F(StoreTpmEnrolmentTest, AnEditedOrInsertedEnrolmentIsRefusedAndConsumed) {
  ASSERT_OK(a_->PutTpmEnrolment(Row(Id(1)), now_, 10));
  ASSERT_OK(a_->PutTpmEnrolment(Row(Id(2)), now_, 10));
  ASSERT_OK(a_->PutTpmEnrolment(Row(Id(3)), now_, 10));
  // Another AK swapped in: the finish would register it.
  harness_.Tamper("UPDATE tpm_enrolments SET ak_spki=" + Blob("3059ff") + " WHERE id='" + Id(1) + "'");
  EXPECT_CODE(b_->TakeTpmEnrolment(Id(1)), Code::kVerificationFailed);
  EXPECT_CODE(b_->TakeTpmEnrolment(Id(1)), Code::kNotFound);
  // The secret's hash replaced by one the writer knows the preimage of.
  harness_.Tamper("UPDATE tpm_enrolments SET secret_hash=" + Blob(std::string(64, '1')) + " WHERE id='" + Id(2) + "'");
  EXPECT_CODE(a_->TakeTpmEnrolment(Id(2)), Code::kVerificationFailed);
  // A valid row copied under another id, or to another tenant: the tag binds both.
  harness_.Tamper("INSERT INTO tpm_enrolments(id,tenant,ek,ak_spki,ak_name,secret_hash,expires_ms,mac) SELECT '" + Id(9) +
                  "',tenant,ek,ak_spki,ak_name,secret_hash,expires_ms,mac FROM tpm_enrolments WHERE id='" + Id(3) + "'");
  EXPECT_CODE(a_->TakeTpmEnrolment(Id(9)), Code::kVerificationFailed);
  harness_.Tamper("UPDATE tpm_enrolments SET tenant='bob' WHERE id='" + Id(3) + "'");
  EXPECT_CODE(a_->TakeTpmEnrolment(Id(3)), Code::kVerificationFailed);
  // An untagged row (inserted without the root key) likewise.
  harness_.Tamper("INSERT INTO tpm_enrolments(id,tenant,ek,ak_spki,ak_name,secret_hash,expires_ms,mac) VALUES('" + Id(7) +
                  "','acme'," + Blob("01") + "," + Blob("02") + "," + Blob("03") + "," + Blob(std::string(64, '0')) +
                  ",99999999999999," + Blob("") + ")");
  EXPECT_CODE(a_->TakeTpmEnrolment(Id(7)), Code::kVerificationFailed);
}

}  // namespace
}  // namespace sigil::broker
