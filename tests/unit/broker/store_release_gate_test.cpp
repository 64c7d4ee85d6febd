// Policies with memory at the store (Store::AppendRelease): a release's records and its gate
// (use counters over sliding windows, spent tokens) in one transaction. Two connections to one
// store stand in for two brokers of a fleet. Runs on both backends (store_harness.h).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "broker/audit/audit_chain.h"
#include "tests/support/matchers.h"
#include "tests/unit/broker/two_brokers.h"

namespace sigil::broker {
namespace {

constexpr std::int64_t kHour = 3600 * 1000;

class ReleaseGateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(OpenTwoBrokers(harness_, [this] { return now_.load(); }, a_, b_, log_a_, log_b_, audit_pub_));
    ASSERT_OK(log_a_->CreateTenant("acme", Bytes{1}, {}, GenesisEvent{"g", "admin:test", "tenant created", ""}));
  }

  static ReleaseGate Gate(std::string token, std::vector<ReleaseCounter> counters, bool spend = false) {
    ReleaseGate g;
    g.token_id = std::move(token);
    g.spend_token = spend;
    g.token_expires_ms = 10 * kHour;
    g.counters = std::move(counters);
    return g;
  }
  static ReleaseCounter Counter(std::string id, std::int64_t max, std::int64_t window_ms, std::int64_t uses = 1) {
    return ReleaseCounter{std::move(id), window_ms, max, uses, "at most " + std::to_string(max) + " releases of key 'k'"};
  }
  static AuditEvent Allow(const std::string& key) {
    AuditEvent e{"r", "workload:w", "release", key, 1, "allow", "policy allowed", "", "", "dev", ""};
    return e;
  }
  // Releases `keys` through `log` under `gate`; returns the refusal (nullopt if released) and
  // checks what was appended: one allow record per key, or one deny record for a refusal.
  std::optional<Error> Release(AuditLog& log, const ReleaseGate& gate, const std::vector<std::string>& keys = {"k"}) {
    std::vector<AuditEvent> allowed;
    for (const auto& k : keys) allowed.push_back(Allow(k));
    std::optional<Error> refusal;
    auto deny = [](const Error& why) {
      return AuditEvent{"r", "workload:w", "release", "k", 1, "deny", why.message(), "", "", "dev", ""};
    };
    auto rows = log.AppendRelease("acme", gate, allowed, deny, &refusal);
    EXPECT_TRUE(rows.has_value()) << rows.error().message();
    if (!rows) return Error(Code::kInternal, "not written");
    EXPECT_EQ(rows->size(), refusal ? 1u : keys.size());
    for (const AuditRow& r : *rows) {
      EXPECT_NE(r.record.find(refusal ? R"("decision":"deny")" : R"("decision":"allow")"), std::string::npos) << r.record;
    }
    return refusal;
  }
  void ExpectOneChainOf(std::uint64_t records) {
    ASSERT_OK_AND_ASSIGN(auto rows, a_->ListAudit("acme"));
    ASSERT_OK_AND_ASSIGN(auto cp, b_->GetCheckpoint("acme"));
    AuditVerifyReport report = VerifyAuditChain("acme", rows, cp, audit_pub_);
    EXPECT_TRUE(report.ok) << report.problem;
    EXPECT_EQ(report.records, records + 1);  // and the genesis record
  }

  StoreHarness harness_;
  std::unique_ptr<Store> a_, b_;
  std::unique_ptr<AuditLog> log_a_, log_b_;
  Bytes audit_pub_;
  std::atomic<std::int64_t> now_{1'000'000};
};

TEST_F(ReleaseGateStoreTest, ALimitAllowsMaxReleasesInItsWindowThenRefusesWithARecord) {
  const auto gate = Gate("t1", {Counter("c", 2, kHour)});
  EXPECT_FALSE(Release(*log_a_, gate));
  now_ += 1000;
  EXPECT_FALSE(Release(*log_b_, gate));  // counted across brokers
  now_ += 1000;
  auto third = Release(*log_a_, gate);
  ASSERT_TRUE(third);
  EXPECT_EQ(third->code(), Code::kPolicyDenied);
  EXPECT_EQ(third->message().rfind(kReleaseLimitTag, 0), 0u) << third->message();
  EXPECT_NE(third->message().find("2 counted in the window"), std::string::npos) << third->message();
  // The oldest use (at 1,000,000) leaves the hour-long window 3,598 s from now (1,002,000).
  EXPECT_NE(third->message().find("leaves the window in 3598 s"), std::string::npos) << third->message();
  ExpectOneChainOf(3);
}

TEST_F(ReleaseGateStoreTest, TheWindowSlidesAndARefusalCountsNothing) {
  const auto gate = Gate("t1", {Counter("c", 1, kHour)});
  EXPECT_FALSE(Release(*log_a_, gate));
  now_ += kHour - 1;  // still inside: (now - window, now] holds the first use
  EXPECT_TRUE(Release(*log_b_, gate));
  now_ += 1;  // the first use leaves the window; the refusal was not counted
  EXPECT_FALSE(Release(*log_b_, gate));
  EXPECT_TRUE(Release(*log_a_, gate));
  ExpectOneChainOf(4);
}

TEST_F(ReleaseGateStoreTest, CountersAreIndependentAndABatchCountsEachOfItsUses) {
  EXPECT_FALSE(Release(*log_a_, Gate("t1", {Counter("chip-a", 3, kHour, 2)}), {"k", "k"}));
  // Two more uses of chip-a would pass 3; chip-b is another window.
  auto over = Release(*log_a_, Gate("t1", {Counter("chip-a", 3, kHour, 2)}), {"k", "k"});
  ASSERT_TRUE(over);
  EXPECT_NE(over->message().find("this request releases it 2 times"), std::string::npos) << over->message();
  EXPECT_FALSE(Release(*log_b_, Gate("t1", {Counter("chip-b", 3, kHour, 2)}), {"k", "k"}));
  EXPECT_FALSE(Release(*log_b_, Gate("t1", {Counter("chip-a", 3, kHour, 1)})));
  // A batch is refused whole if any of its counters is full: nothing of it is counted.
  EXPECT_TRUE(Release(*log_a_, Gate("t1", {Counter("chip-b", 3, kHour, 1), Counter("chip-a", 3, kHour, 1)})));
  EXPECT_FALSE(Release(*log_a_, Gate("t1", {Counter("chip-b", 3, kHour, 1)})));
}

TEST_F(ReleaseGateStoreTest, ASpentTokenIsRefusedByEveryBrokerForAnyKey) {
  EXPECT_FALSE(Release(*log_a_, Gate("tok", {})));  // an ordinary release does not spend it
  EXPECT_FALSE(Release(*log_b_, Gate("tok", {}, /*spend=*/true)));
  for (AuditLog* log : {log_a_.get(), log_b_.get()}) {
    auto again = Release(*log, Gate("tok", {}));
    ASSERT_TRUE(again);
    EXPECT_EQ(again->code(), Code::kReplay);
    EXPECT_EQ(again->message().rfind(kTokenSpentTag, 0), 0u) << again->message();
  }
  EXPECT_FALSE(Release(*log_a_, Gate("other", {}, true)));  // other tokens are unaffected
  ExpectOneChainOf(5);
}

TEST_F(ReleaseGateStoreTest, AReleaseWhoseRecordCannotBeWrittenCountsAndSpendsNothing) {
  ReleaseGate gate = Gate("tok", {Counter("c", 1, kHour)}, true);
  gate.now_ms = now_;
  auto failing = [](const std::optional<AuditRow>&) -> Result<AuditRow> { return Fail(Code::kInternal, "record not made"); };
  auto deny = [](const std::optional<AuditRow>&, const Error&) -> Result<AuditRow> { return Fail(Code::kInternal, "no"); };
  std::optional<Error> refused;
  EXPECT_CODE(a_->AppendRelease("acme", gate, {failing}, deny, PlaceholderCheckpoints(), &refused), Code::kInternal);
  EXPECT_FALSE(Release(*log_b_, gate));  // neither counted nor spent by the failed one
  ExpectOneChainOf(1);
}

// Brokers racing on one counter: exactly `max` releases win, whichever broker makes them, and
// the log stays one chain with a record for every attempt.
TEST_F(ReleaseGateStoreTest, BrokersRacingOnOneLimitGrantExactlyMax) {
  constexpr int kEach = 15, kMax = 10;
  std::atomic<int> allowed{0}, limited{0};
  auto race = [&](AuditLog& log) {
    for (int i = 0; i < kEach; ++i) {
      auto r = Release(log, Gate("t", {Counter("shared", kMax, kHour)}));
      if (!r) ++allowed;
      else if (r->code() == Code::kPolicyDenied) ++limited;
    }
  };
  std::thread ta(race, std::ref(*log_a_)), tb(race, std::ref(*log_b_));
  ta.join();
  tb.join();
  EXPECT_EQ(allowed.load(), kMax);
  EXPECT_EQ(limited.load(), 2 * kEach - kMax);
  ExpectOneChainOf(2 * kEach);
}

// Spent tokens are forgotten an hour after they expire, as new ones are spent; until then they
// are refused.
TEST_F(ReleaseGateStoreTest, SpentTokensAreKeptUntilAnHourAfterTheyExpire) {
  ReleaseGate old = Gate("old", {}, true);
  old.token_expires_ms = now_ + 1000;
  EXPECT_FALSE(Release(*log_a_, old));
  now_ += 1000 + kHour - 1;
  EXPECT_FALSE(Release(*log_a_, Gate("new1", {}, true)));  // prunes tokens expired over an hour ago: not "old"
  EXPECT_TRUE(Release(*log_b_, Gate("old", {})));
  now_ += 2;
  EXPECT_FALSE(Release(*log_a_, Gate("new2", {}, true)));  // now "old" is forgotten
  EXPECT_FALSE(Release(*log_b_, Gate("old", {})));
}

}  // namespace
}  // namespace sigil::broker
