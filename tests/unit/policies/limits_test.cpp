// A rule's memory in the policy language (policies/README.md "Release limits"): `limits` and
// `single_use_token` are parsed, bounded and handed to the caller with the allowing decision.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "policies/policy.h"
#include "tests/support/matchers.h"

namespace sigil::policy {
namespace {

std::string PolicyWith(const std::string& rule_fields) {
  return R"({"version":1,"rules":[{"name":"r","keys":["llama*"],"when":{"claim":"debug","equals":false})" + rule_fields +
         "}]}";
}

attestation::Claims NoDebug() {
  attestation::Claims c;
  c.Set("debug", false);
  return c;
}

TEST(PolicyLimits, AreParsedAndGivenWithTheAllowingDecision) {
  ASSERT_OK_AND_ASSIGN(Policy p, ParsePolicy(PolicyWith(R"(, "limits": [
      {"max": 10, "per_seconds": 3600},
      {"max": 2, "per_seconds": 86400, "per_claim": "platform.id"}], "single_use_token": true)"), "p.json"));
  ASSERT_EQ(p.rules()[0].limits.size(), 2u);
  Decision d = Evaluate(p, NoDebug(), "llama3", MapReferenceSets());
  ASSERT_TRUE(d.allow) << d.reason;
  ASSERT_EQ(d.limits.size(), 2u);
  EXPECT_EQ(d.limits[0].max, 10);
  EXPECT_EQ(d.limits[0].per_seconds, 3600);
  EXPECT_EQ(d.limits[0].per_claim, "");
  EXPECT_EQ(d.limits[0].path, "$.rules[0].limits[0]");
  EXPECT_EQ(d.limits[1].max, 2);
  EXPECT_EQ(d.limits[1].per_claim, "platform.id");
  EXPECT_TRUE(d.single_use_token);
}

TEST(PolicyLimits, ADenialOrARuleWithoutMemoryCarriesNone) {
  ASSERT_OK_AND_ASSIGN(Policy p, ParsePolicy(PolicyWith(R"(, "limits": [{"max": 1, "per_seconds": 60}])"), "p.json"));
  attestation::Claims debug;
  debug.Set("debug", true);
  Decision denied = Evaluate(p, debug, "llama3", MapReferenceSets());
  EXPECT_FALSE(denied.allow);
  EXPECT_TRUE(denied.limits.empty());
  ASSERT_OK_AND_ASSIGN(Policy plain, ParsePolicy(PolicyWith(R"(, "single_use_token": false)"), "p.json"));
  Decision d = Evaluate(plain, NoDebug(), "llama3", MapReferenceSets());
  ASSERT_TRUE(d.allow);
  EXPECT_TRUE(d.limits.empty());
  EXPECT_FALSE(d.single_use_token);
}

struct Bad {
  const char* fields;
  const char* message;
};

class PolicyLimitsRefused : public ::testing::TestWithParam<Bad> {};

TEST_P(PolicyLimitsRefused, WithFileAndPath) {
  auto r = ParsePolicy(PolicyWith(GetParam().fields), "acme.json");
  EXPECT_CODE(r, Code::kInvalidArgument);
  EXPECT_THAT(r.error().message(), ::testing::HasSubstr(GetParam().message));
  EXPECT_THAT(r.error().message(), ::testing::StartsWith("acme.json: $.rules[0]"));
}

INSTANTIATE_TEST_SUITE_P(
    Table, PolicyLimitsRefused,
    ::testing::Values(
        Bad{R"(, "limits": {})", "$.rules[0].limits: expected an array of limits, got an object"},
        Bad{R"(, "limits": [])", "$.rules[0].limits: must list at least one limit"},
        Bad{R"(, "limits": [1])", "$.rules[0].limits[0]: a limit must be an object, got an integer"},
        Bad{R"(, "limits": [{"per_seconds": 60}])", "$.rules[0].limits[0]: missing field 'max'"},
        Bad{R"(, "limits": [{"max": 1}])", "$.rules[0].limits[0]: missing field 'per_seconds'"},
        Bad{R"(, "limits": [{"max": 0, "per_seconds": 60}])", "$.rules[0].limits[0].max: 0 is out of range (1 to 100000 releases)"},
        Bad{R"(, "limits": [{"max": 100001, "per_seconds": 60}])", "$.rules[0].limits[0].max: 100001 is out of range"},
        Bad{R"(, "limits": [{"max": -1, "per_seconds": 60}])", "$.rules[0].limits[0].max: -1 is out of range"},
        Bad{R"(, "limits": [{"max": 1.5, "per_seconds": 60}])", "$.rules[0].limits[0].max: expected an integer number of releases"},
        Bad{R"(, "limits": [{"max": "1", "per_seconds": 60}])", "$.rules[0].limits[0].max: expected an integer number of releases, got a string"},
        Bad{R"(, "limits": [{"max": 1, "per_seconds": 31622401}])", "$.rules[0].limits[0].per_seconds: 31622401 is out of range (1 to 31622400 seconds)"},
        Bad{R"(, "limits": [{"max": 1, "per_seconds": 60, "per_claim": ""}])", "$.rules[0].limits[0].per_claim: invalid claim name"},
        Bad{R"(, "limits": [{"max": 1, "per_seconds": 60, "per_claim": "a b"}])", "$.rules[0].limits[0].per_claim: invalid claim name"},
        Bad{R"(, "limits": [{"max": 1, "per_seconds": 60, "per_claim": 7}])", "$.rules[0].limits[0].per_claim: expected a claim name, got an integer"},
        Bad{R"(, "limits": [{"max": 1, "per_seconds": 60, "per": "measurement"}])", "$.rules[0].limits[0]: unknown field 'per'"},
        Bad{R"(, "limits": [{"max": 1, "per_seconds": 60}, {"max": 5, "per_seconds": 60}])",
            "$.rules[0].limits[1]: repeats the window and claim of $.rules[0].limits[0]"},
        Bad{R"(, "limits": [{"max":1,"per_seconds":1},{"max":1,"per_seconds":2},{"max":1,"per_seconds":3},
                {"max":1,"per_seconds":4},{"max":1,"per_seconds":5},{"max":1,"per_seconds":6},{"max":1,"per_seconds":7},
                {"max":1,"per_seconds":8},{"max":1,"per_seconds":9}])", "9 limits, more than the limit of 8"},
        Bad{R"(, "single_use_token": "yes")", "$.rules[0].single_use_token: expected true or false, got a string"},
        Bad{R"(, "single_use_token": 1)", "$.rules[0].single_use_token: expected true or false, got an integer"}));

}  // namespace
}  // namespace sigil::policy
