// What several brokers sharing one store rely on, with two independent connections (pools) to
// the same store standing in for two brokers: a nonce is consumed exactly once whoever races for
// it, appends from both stay one verifiable chain, and a change made through one is what the
// other reads next. Runs on both backends (store_harness.h).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "broker/audit/audit_chain.h"
#include "tests/support/matchers.h"
#include "tests/unit/broker/two_brokers.h"

namespace sigil::broker {
namespace {

class StoreFleetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(OpenTwoBrokers(harness_, [this] { return ++clock_; }, a_, b_, log_a_, log_b_, audit_pub_));
    ASSERT_OK(log_a_->CreateTenant("acme", Bytes{1}, {}, GenesisEvent{"g", "admin:test", "tenant created", ""}));
  }
  // The tenant's chain as one store lists it, against the other's checkpoint: its genesis
  // record and `records` more.
  void ExpectOneChainOf(std::uint64_t records) {
    ++records;
    ASSERT_OK_AND_ASSIGN(auto rows, a_->ListAudit("acme"));
    ASSERT_OK_AND_ASSIGN(auto cp, b_->GetCheckpoint("acme"));
    AuditVerifyReport report = VerifyAuditChain("acme", rows, cp, audit_pub_);
    EXPECT_TRUE(report.ok) << report.problem;
    EXPECT_EQ(report.records, records);
  }

  StoreHarness harness_;
  std::unique_ptr<Store> a_, b_;
  std::unique_ptr<AuditLog> log_a_, log_b_;
  Bytes audit_pub_;
  std::atomic<std::int64_t> clock_{1000};
};

TEST_F(StoreFleetTest, ANonceIssuedByOneIsRedeemedExactlyOnceWhenBothRace) {
  const auto now = std::chrono::system_clock::now();
  constexpr int kNonces = 40;
  for (int i = 0; i < kNonces; ++i) {
    ASSERT_OK(a_->PutNonce(Bytes(32, static_cast<std::uint8_t>(i)), "acme", "dev", now + std::chrono::seconds(60), now, 4096));
  }
  std::vector<Code> from_a(kNonces), from_b(kNonces);
  auto race = [&](Store& s, std::vector<Code>& out) {
    for (int i = 0; i < kNonces; ++i) {
      auto r = s.ConsumeNonce(Bytes(32, static_cast<std::uint8_t>(i)), "acme", "dev", now);
      out[i] = r ? Code::kInternal : r.error().code();  // kInternal stands for "won" here
    }
  };
  std::thread ta(race, std::ref(*a_), std::ref(from_a));
  std::thread tb(race, std::ref(*b_), std::ref(from_b));
  ta.join();
  tb.join();
  for (int i = 0; i < kNonces; ++i) {
    const bool a_won = from_a[i] == Code::kInternal, b_won = from_b[i] == Code::kInternal;
    EXPECT_NE(a_won, b_won) << "nonce " << i << ": exactly one broker must win";
    EXPECT_EQ(a_won ? from_b[i] : from_a[i], Code::kReplay) << "nonce " << i;
  }
}

// The attest path: the nonce consumed and the outcome recorded in one transaction. Both racers
// get a record (one allow, one replay), and the nonce is used exactly once.
TEST_F(StoreFleetTest, ConsumingANonceWithItsRecordIsAtomicAcrossBrokers) {
  const auto now = std::chrono::system_clock::now();
  constexpr int kNonces = 20;
  for (int i = 0; i < kNonces; ++i) {
    ASSERT_OK(a_->PutNonce(Bytes(32, static_cast<std::uint8_t>(i)), "acme", "dev", now + std::chrono::seconds(60), now, 4096));
  }
  std::atomic<int> allowed{0}, replays{0};
  auto race = [&](AuditLog& log) {
    for (int i = 0; i < kNonces; ++i) {
      Bytes nonce(32, static_cast<std::uint8_t>(i));
      std::optional<Error> nonce_error;
      auto event_for = [&](const Error* why) {
        return AuditEvent{"r", "anonymous", "attest", "", 0, why ? "deny" : "allow", why ? why->message() : "", "", "", "dev", ""};
      };
      EXPECT_OK(log.AppendUsingNonce("acme", Store::NonceUse{nonce, "dev", now}, event_for, &nonce_error));
      if (!nonce_error) ++allowed;
      else if (nonce_error->code() == Code::kReplay) ++replays;
      else ADD_FAILURE() << nonce_error->message();
    }
  };
  std::thread ta(race, std::ref(*log_a_)), tb(race, std::ref(*log_b_));
  ta.join();
  tb.join();
  EXPECT_EQ(allowed.load(), kNonces);
  EXPECT_EQ(replays.load(), kNonces);
  ExpectOneChainOf(2u * kNonces);
}

// A record that cannot be written leaves the nonce unused: nothing was recorded, so nothing used it.
TEST_F(StoreFleetTest, AFailedRecordLeavesTheNonceUnused) {
  const auto now = std::chrono::system_clock::now();
  const Bytes nonce(32, 0x42);
  ASSERT_OK(a_->PutNonce(nonce, "acme", "dev", now + std::chrono::seconds(60), now, 16));
  auto failing = [](const std::optional<AuditRow>&, const Error*) -> Result<AuditRow> {
    return Fail(Code::kInternal, "record not made");
  };
  EXPECT_CODE(a_->ConsumeNonceAndAppendAudit("acme", Store::NonceUse{nonce, "dev", now}, failing, PlaceholderCheckpoints(),
                                             nullptr), Code::kInternal);
  EXPECT_OK(b_->ConsumeNonce(nonce, "acme", "dev", now));
  ASSERT_OK_AND_ASSIGN(auto rows, a_->ListAudit("acme"));
  EXPECT_EQ(rows.size(), 1u);  // the genesis record alone
}

TEST_F(StoreFleetTest, AppendsFromBothStayOneLinearVerifiableChain) {
  constexpr int kEach = 40;
  auto append = [&](AuditLog& log, const char* who) {
    for (int i = 0; i < kEach; ++i) {
      AuditEvent ev{std::string(who) + std::to_string(i), "admin:test", "admin.test", "k", 1, "ok", "", "", "", "", ""};
      EXPECT_OK(log.Append("acme", ev));
    }
  };
  std::thread ta(append, std::ref(*log_a_), "a");
  std::thread tb(append, std::ref(*log_b_), "b");
  ta.join();
  tb.join();
  ExpectOneChainOf(2u * kEach);
}

TEST_F(StoreFleetTest, AChangeThroughOneIsWhatTheOtherReadsNext) {
  ASSERT_OK(a_->PutKeyVersion(KeyVersionRow{"acme", "m", "model-weights", 1, "enabled", Bytes{9}, Bytes(40, 1), 1, 0}, Bytes{1}));
  ASSERT_OK_AND_ASSIGN(KeyVersionRow seen, b_->GetKeyVersion("acme", "m", 1));
  EXPECT_EQ(seen.state, "enabled");
  ASSERT_OK_AND_ASSIGN(int changed, a_->SetKeyState("acme", "m", "enabled", "disabled"));
  EXPECT_EQ(changed, 1);
  ASSERT_OK_AND_ASSIGN(seen, b_->GetKeyVersion("acme", "m", 1));
  EXPECT_EQ(seen.state, "disabled");
  ASSERT_OK(a_->PutKeyVersion(KeyVersionRow{"acme", "m", "model-weights", 2, "enabled", Bytes{8}, Bytes(40, 2), 2, 0}, Bytes{1}));
  ASSERT_OK_AND_ASSIGN(KeyVersionRow latest, b_->LatestKeyVersion("acme", "m"));
  EXPECT_EQ(latest.version, 2u);  // a rotation at one broker
  ASSERT_OK(a_->PutPolicy("acme", "{\"v\":1}"));
  ASSERT_OK(b_->PutPolicy("acme", "{\"v\":2}"));
  ASSERT_OK_AND_ASSIGN(auto policy, a_->GetPolicy("acme"));
  EXPECT_EQ(policy.version, 2);
  EXPECT_EQ(policy.text, "{\"v\":2}");
  ASSERT_OK(a_->AddReference("acme", "engines", "aa"));
  ASSERT_OK_AND_ASSIGN(auto refs, b_->ListReferences("acme"));
  EXPECT_EQ(refs["engines"].count("aa"), 1u);
  // TPM replay state is shared: a quote accepted through one is a replay through the other.
  ASSERT_OK(a_->AdvanceTpmClock(std::string(64, 'a'), TpmClockRow{1, 0, 100}));
  EXPECT_CODE(b_->AdvanceTpmClock(std::string(64, 'a'), TpmClockRow{1, 0, 100}), Code::kReplay);
}

TEST_F(StoreFleetTest, PolicyVersionsStayDenseWhenBothWriteAtOnce) {
  auto put = [&](Store& s) {
    for (int i = 0; i < 20; ++i) EXPECT_OK(s.PutPolicy("acme", "{}"));
  };
  std::thread ta(put, std::ref(*a_));
  std::thread tb(put, std::ref(*b_));
  ta.join();
  tb.join();
  ASSERT_OK_AND_ASSIGN(auto policy, b_->GetPolicy("acme"));
  EXPECT_EQ(policy.version, 40);
}

}  // namespace
}  // namespace sigil::broker
