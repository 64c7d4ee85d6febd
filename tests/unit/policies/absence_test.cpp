// Absent and mistyped claims are errors that deny, never false: `not` over them does not hold
// (it did, so a `not` rule over a claim a verifier does not emit admitted everyone). Errors
// propagate through allOf / anyOf unless the result does not depend on them (Kleene logic), and
// a policy says what absence means with the explicit `present` test.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "policies/policy.h"
#include "tests/support/matchers.h"
#include "tests/unit/policies/test_util.h"

namespace sigil::policy {
namespace {

using attestation::Claims;
using ::testing::HasSubstr;
using testing::MakeClaims;
using testing::OneRule;
using namespace std::string_literals;

bool Allows(const std::string& when, const Claims& claims) {
  auto p = OneRule(when);
  EXPECT_TRUE(p.has_value()) << (p ? "" : p.error().message());
  MapReferenceSets refs;
  refs.Add("revoked-hosts", "h-revoked");
  return p && Evaluate(*p, claims, "k", refs).allow;
}

TEST(Absence, NotOverAnAbsentClaimDoesNotHold) {
  EXPECT_FALSE(Allows(R"({"not":{"claim":"debug","equals":true}})", MakeClaims({})));
  EXPECT_FALSE(Allows(R"({"not":{"claim":"platform.id","in_reference":"revoked-hosts"}})",
                      MakeClaims({})));
  EXPECT_FALSE(Allows(R"({"not":{"claim":"n","gte":5}})", MakeClaims({})));
  EXPECT_FALSE(Allows(R"({"not":{"claim":"s","matches":"x.*"}})", MakeClaims({})));
  EXPECT_FALSE(Allows(R"({"not":{"not":{"not":{"claim":"x","in":["a"]}}}})", MakeClaims({})));
  // Present claims behave as before.
  EXPECT_TRUE(Allows(R"({"not":{"claim":"debug","equals":true}})", MakeClaims({{"debug", false}})));
  EXPECT_TRUE(Allows(R"({"not":{"claim":"platform.id","in_reference":"revoked-hosts"}})",
                     MakeClaims({{"platform.id", "h-good"s}})));
  EXPECT_FALSE(Allows(R"({"not":{"claim":"platform.id","in_reference":"revoked-hosts"}})",
                      MakeClaims({{"platform.id", "h-revoked"s}})));
}

TEST(Absence, NotOverAMistypedClaimDoesNotHold) {
  // "debug" as a string "true" is not the boolean true: an error, not "not true".
  EXPECT_FALSE(Allows(R"({"not":{"claim":"debug","equals":true}})", MakeClaims({{"debug", "true"s}})));
  EXPECT_FALSE(Allows(R"({"not":{"claim":"n","lte":3}})", MakeClaims({{"n", "9"s}})));
  EXPECT_FALSE(Allows(R"({"not":{"claim":"m","in_reference":"revoked-hosts"}})",
                      MakeClaims({{"m", std::int64_t{1}}})));
  // A value too long to run the pattern over is not "does not match" either.
  EXPECT_FALSE(Allows(R"({"not":{"claim":"s","matches":"a"}})", MakeClaims({{"s", std::string(2000, 'b')}})));
}

TEST(Absence, ErrorsPropagateOnlyWhenTheyDecide) {
  const Claims tdx = MakeClaims({{"tee", "tdx"s}, {"tdx.rtmr0", "r0"s}});
  // anyOf: one true alternative decides, whatever the erroneous one would be.
  EXPECT_TRUE(Allows(R"({"anyOf":[{"claim":"snp.vmpl","equals":0},{"claim":"tee","equals":"tdx"}]})", tdx));
  // allOf: one false child decides; so `not` of it holds. Per-TEE branches rely on this.
  EXPECT_TRUE(Allows(R"({"not":{"allOf":[{"claim":"tee","equals":"sev-snp"},{"claim":"snp.vmpl","gte":1}]}})", tdx));
  // Otherwise the error stands: allOf with an error and no false child, anyOf with no true one.
  EXPECT_FALSE(Allows(R"({"not":{"allOf":[{"claim":"tee","equals":"tdx"},{"claim":"snp.vmpl","gte":1}]}})", tdx));
  EXPECT_FALSE(Allows(R"({"not":{"anyOf":[{"claim":"tee","equals":"sev-snp"},{"claim":"snp.vmpl","gte":1}]}})", tdx));
  // The order of children never matters.
  EXPECT_TRUE(Allows(R"({"anyOf":[{"claim":"tee","equals":"tdx"},{"claim":"snp.vmpl","equals":0}]})", tdx));
}

TEST(Absence, PresentSaysWhatAbsenceMeans) {
  // "Not revoked, and a host without platform.id counts as not revoked": explicit.
  const std::string when = R"({"anyOf":[{"claim":"platform.id","present":false},
      {"not":{"claim":"platform.id","in_reference":"revoked-hosts"}}]})";
  EXPECT_TRUE(Allows(when, MakeClaims({})));
  EXPECT_TRUE(Allows(when, MakeClaims({{"platform.id", "h-good"s}})));
  EXPECT_FALSE(Allows(when, MakeClaims({{"platform.id", "h-revoked"s}})));
  // "present": true holds for any type; false only when absent.
  EXPECT_TRUE(Allows(R"({"claim":"x","present":true})", MakeClaims({{"x", std::int64_t{0}}})));
  EXPECT_FALSE(Allows(R"({"claim":"x","present":true})", MakeClaims({})));
  EXPECT_FALSE(Allows(R"({"claim":"x","present":false})", MakeClaims({{"x", false}})));
  EXPECT_TRUE(Allows(R"({"not":{"claim":"x","present":true}})", MakeClaims({})));
  // allOf [present, test] guards the test: false (not an error) when absent, so `not` holds.
  EXPECT_TRUE(Allows(R"({"not":{"allOf":[{"claim":"debug","present":true},{"claim":"debug","equals":true}]}})",
                     MakeClaims({})));
  auto bad = OneRule(R"({"claim":"x","present":"yes"})");
  EXPECT_CODE(bad, Code::kInvalidArgument);
  EXPECT_THAT(bad.error().message(), HasSubstr("$.rules[0].when.present: expected true"));
}

TEST(Absence, TraceAndExplainShowTheError) {
  ASSERT_OK_AND_ASSIGN(Policy p, OneRule(R"({"not":{"claim":"debug","equals":true}})"));
  const Decision d = Evaluate(p, MakeClaims({}), "k", MapReferenceSets());
  EXPECT_FALSE(d.allow);
  EXPECT_EQ(d.reason, "rule 'r': claim 'debug' is absent");
  ASSERT_EQ(d.trace.size(), 3u);
  for (const ClauseTrace& t : d.trace) {
    EXPECT_TRUE(t.error) << t.path;
    EXPECT_FALSE(t.result) << t.path;
  }
  const std::string text = Explain(d);
  EXPECT_THAT(text, HasSubstr("ERROR $.rules[0].when  not: the inner condition is an error"));
  EXPECT_THAT(text, HasSubstr("its condition is an error (an absent or mistyped claim), so it does not allow"));
}

}  // namespace
}  // namespace sigil::policy
