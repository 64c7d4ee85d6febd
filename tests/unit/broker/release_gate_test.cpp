// BuildReleaseGate: which sliding windows a release request counts against, and whether it
// spends its token, from the decisions that allowed its artifacts.
#include "broker/api/release_gate.h"

#include <gtest/gtest.h>

#include "tests/support/matchers.h"

namespace sigil::broker {
namespace {

policy::Decision Allowing(std::vector<policy::ReleaseLimit> limits, bool single_use = false) {
  policy::Decision d;
  d.allow = true;
  d.rule = "r";
  d.limits = std::move(limits);
  d.single_use_token = single_use;
  return d;
}

policy::ReleaseLimit Limit(std::int64_t max, std::int64_t seconds, std::string per_claim = "") {
  return policy::ReleaseLimit{"$.rules[0].limits[0]", max, seconds, std::move(per_claim)};
}

attestation::Claims Chip(const std::string& id) {
  attestation::Claims c;
  c.Set("platform.id", id);
  c.Set("measurement", std::string("m1"));
  return c;
}

TEST(ReleaseGate, CountsEachArtifactOncePerWindowAndKeepsTheSmallerMax) {
  const auto hourly = Allowing({Limit(10, 3600), Limit(2, 86400, "platform.id")});
  const auto tighter = Allowing({Limit(4, 3600)}, /*single_use=*/true);
  ASSERT_OK_AND_ASSIGN(ReleaseGate g, BuildReleaseGate({{"llama", &hourly}, {"llama", &tighter}, {"mistral", &hourly}},
                                                       Chip("chip-a"), "jti-1", 5000));
  EXPECT_EQ(g.token_id, "jti-1");
  EXPECT_EQ(g.token_expires_ms, 5000);
  EXPECT_TRUE(g.spend_token);  // one single-use rule spends it for the whole request
  // llama/hour (used twice, max 4), llama/day/chip-a (once), mistral/hour, mistral/day/chip-a.
  ASSERT_EQ(g.counters.size(), 4u);
  int twice = 0;
  for (const ReleaseCounter& c : g.counters) {
    EXPECT_EQ(c.id.size(), 64u);
    if (c.uses == 2) {
      ++twice;
      EXPECT_EQ(c.max, 4);
      EXPECT_EQ(c.window_ms, 3600 * 1000);
      EXPECT_EQ(c.what, "rule 'r': at most 4 releases of key 'llama' per 3600 s");
    } else {
      EXPECT_EQ(c.uses, 1);
    }
  }
  EXPECT_EQ(twice, 1);
}

TEST(ReleaseGate, ACounterPerClaimIsKeptApartByItsValueAndType) {
  const auto per_chip = Allowing({Limit(1, 60, "platform.id")});
  ASSERT_OK_AND_ASSIGN(ReleaseGate a, BuildReleaseGate({{"k", &per_chip}}, Chip("chip-a"), "t", 1));
  ASSERT_OK_AND_ASSIGN(ReleaseGate a2, BuildReleaseGate({{"k", &per_chip}}, Chip("chip-a"), "other-token", 1));
  ASSERT_OK_AND_ASSIGN(ReleaseGate b, BuildReleaseGate({{"k", &per_chip}}, Chip("chip-b"), "t", 1));
  ASSERT_OK_AND_ASSIGN(ReleaseGate other_key, BuildReleaseGate({{"k2", &per_chip}}, Chip("chip-a"), "t", 1));
  EXPECT_EQ(a.counters.at(0).id, a2.counters.at(0).id);  // the token is not part of it
  EXPECT_NE(a.counters.at(0).id, b.counters.at(0).id);
  EXPECT_NE(a.counters.at(0).id, other_key.counters.at(0).id);
  EXPECT_FALSE(a.spend_token);
  // The string "1" and the integer 1 are different identities.
  const auto per_n = Allowing({Limit(1, 60, "n")});
  attestation::Claims s, i;
  s.Set("n", std::string("1"));
  i.Set("n", std::int64_t{1});
  ASSERT_OK_AND_ASSIGN(ReleaseGate gs, BuildReleaseGate({{"k", &per_n}}, s, "t", 1));
  ASSERT_OK_AND_ASSIGN(ReleaseGate gi, BuildReleaseGate({{"k", &per_n}}, i, "t", 1));
  EXPECT_NE(gs.counters.at(0).id, gi.counters.at(0).id);
}

TEST(ReleaseGate, ALimitPerAClaimTheWorkloadLacksRefuses) {
  const auto per_ak = Allowing({Limit(1, 60, "tpm.ak")});
  auto g = BuildReleaseGate({{"k", &per_ak}}, Chip("chip-a"), "t", 1);
  EXPECT_CODE(g, Code::kPolicyDenied);
  EXPECT_EQ(g.error().message().rfind(kReleaseLimitTag, 0), 0u) << g.error().message();
  EXPECT_NE(g.error().message().find("'tpm.ak'"), std::string::npos) << g.error().message();
}

TEST(ReleaseGate, NoMemoryNoCounters) {
  const auto plain = Allowing({});
  ASSERT_OK_AND_ASSIGN(ReleaseGate g, BuildReleaseGate({{"k", &plain}}, Chip("c"), "t", 1));
  EXPECT_TRUE(g.counters.empty());
  EXPECT_FALSE(g.spend_token);
  EXPECT_EQ(g.token_id, "t");  // still checked against spent tokens
}

}  // namespace
}  // namespace sigil::broker
