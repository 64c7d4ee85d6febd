// Proposed policy versions and their approvals (Store::ProposePolicy, ActivatePolicy,
// AddPolicyApproval), on each backend (store_harness.h), through the authenticating store as the
// broker uses it: a proposal is never the policy in force until activated, activation never goes
// back past a newer version, and a proposal flipped to "in force" in the raw store is refused.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "tests/unit/broker/authenticated_store_fixture.h"

namespace sigil::broker {
namespace {

class PolicyVersionsTest : public AuthenticatedStoreTest {
 protected:
  void SetUp() override {
    AuthenticatedStoreTest::SetUp();
    ASSERT_OK(store_->PutPolicy("acme", "{\"v\":1}"));
  }
};

TEST_F(PolicyVersionsTest, AProposalIsNotInForceUntilActivated) {
  ASSERT_OK_AND_ASSIGN(std::int64_t v2, store_->ProposePolicy("acme", "{\"v\":2}"));
  EXPECT_EQ(v2, 2);
  ASSERT_OK_AND_ASSIGN(PolicyRow in_force, store_->GetPolicy("acme"));
  EXPECT_EQ(in_force.version, 1);
  EXPECT_EQ(in_force.text, "{\"v\":1}");
  ASSERT_OK_AND_ASSIGN(PolicyRow proposal, store_->GetPolicyVersion("acme", 2));
  EXPECT_FALSE(proposal.active);
  EXPECT_EQ(proposal.text, "{\"v\":2}");
  EXPECT_CODE(store_->GetPolicyVersion("acme", 9), Code::kNotFound);

  ASSERT_OK(store_->ActivatePolicy("acme", 2));
  ASSERT_OK_AND_ASSIGN(in_force, store_->GetPolicy("acme"));
  EXPECT_EQ(in_force.version, 2);
  EXPECT_TRUE(in_force.active);
  EXPECT_CODE(store_->ActivatePolicy("acme", 2), Code::kAlreadyExists);  // already in force
  EXPECT_CODE(store_->ActivatePolicy("acme", 1), Code::kAlreadyExists);
  EXPECT_CODE(store_->ActivatePolicy("acme", 5), Code::kNotFound);
}

TEST_F(PolicyVersionsTest, AProposalOvertakenByANewerVersionInForceNeverGoesInForce) {
  ASSERT_OK_AND_ASSIGN(std::int64_t v2, store_->ProposePolicy("acme", "{\"v\":2}"));
  ASSERT_OK_AND_ASSIGN(std::int64_t v3, store_->ProposePolicy("acme", "{\"v\":3}"));
  ASSERT_OK(store_->ActivatePolicy("acme", v3));
  auto late = store_->ActivatePolicy("acme", v2);
  EXPECT_CODE(late, Code::kAlreadyExists);
  EXPECT_NE(late.error().message().find("superseded by version 3"), std::string::npos) << late.error().message();
  ASSERT_OK_AND_ASSIGN(PolicyRow in_force, store_->GetPolicy("acme"));
  EXPECT_EQ(in_force.version, 3);
  // A version stored in force directly is numbered after every proposal.
  ASSERT_OK(store_->PutPolicy("acme", "{\"v\":4}"));
  ASSERT_OK_AND_ASSIGN(in_force, store_->GetPolicy("acme"));
  EXPECT_EQ(in_force.version, 4);
}

TEST_F(PolicyVersionsTest, ApprovalsAreKeptPerVersionAndApproverOnce) {
  ASSERT_OK_AND_ASSIGN(std::int64_t v2, store_->ProposePolicy("acme", "{\"v\":2}"));
  const PolicyApprovalRow alice{v2, std::string(64, 'a'), Bytes{0x30, 1}, Bytes(64, 1), 100};
  const PolicyApprovalRow bob{v2, std::string(64, 'b'), Bytes{0x30, 2}, Bytes(64, 2), 101};
  ASSERT_OK(store_->AddPolicyApproval("acme", alice));
  EXPECT_CODE(store_->AddPolicyApproval("acme", alice), Code::kAlreadyExists);
  ASSERT_OK(store_->AddPolicyApproval("acme", bob));
  ASSERT_OK_AND_ASSIGN(auto rows, store_->ListPolicyApprovals("acme", v2));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].approver, alice.approver);
  EXPECT_EQ(rows[0].signature, alice.signature);
  EXPECT_EQ(rows[0].public_key, alice.public_key);
  EXPECT_EQ(rows[1].approver, bob.approver);
  ASSERT_OK_AND_ASSIGN(auto none, store_->ListPolicyApprovals("acme", 1));
  EXPECT_TRUE(none.empty());
}

TEST_F(PolicyVersionsTest, BrokersRacingToActivateOneProposalActivateItOnce) {
  ASSERT_OK_AND_ASSIGN(std::int64_t v2, store_->ProposePolicy("acme", "{\"v\":2}"));
  std::atomic<int> won{0}, lost{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto r = store_->ActivatePolicy("acme", v2);
      (r ? won : lost)++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(lost.load(), 3);
}

TEST_F(PolicyVersionsTest, AProposalFlippedInForceInTheRawStoreIsRefused) {
  ASSERT_OK_AND_ASSIGN(std::int64_t v2, store_->ProposePolicy("acme", "{\"allow\":\"everything\"}"));
  ASSERT_EQ(v2, 2);
  harness_.Tamper("UPDATE policies SET active=1 WHERE tenant='acme' AND version=2");
  EXPECT_CODE(store_->GetPolicy("acme"), Code::kVerificationFailed);
  EXPECT_CODE(store_->GetPolicyVersion("acme", 2), Code::kVerificationFailed);
}

TEST_F(PolicyVersionsTest, AnActivatedPolicyFlippedBackToAProposalIsRefused) {
  ASSERT_OK_AND_ASSIGN(std::int64_t v2, store_->ProposePolicy("acme", "{\"v\":2}"));
  ASSERT_OK(store_->ActivatePolicy("acme", v2));
  harness_.Tamper("UPDATE policies SET active=0 WHERE tenant='acme' AND version=2");
  EXPECT_CODE(store_->GetPolicyVersion("acme", 2), Code::kVerificationFailed);
  // Re-tagging needs the proposal's own tag.
  EXPECT_CODE(store_->ActivatePolicy("acme", 2), Code::kVerificationFailed);
}

}  // namespace
}  // namespace sigil::broker
