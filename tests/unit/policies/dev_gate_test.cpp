// The dev TEE gate: evidence with tee == "dev" is admitted only by rules that name dev
// explicitly, in a non-negated position on every path that must hold.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "policies/policy.h"
#include "tests/support/matchers.h"
#include "tests/unit/policies/test_util.h"

namespace sigil::policy {
namespace {

using attestation::Claims;
using testing::MakeClaims;
using testing::OneRule;
using namespace std::string_literals;

MapReferenceSets Refs() {
  MapReferenceSets refs;
  refs.Add("engines", "m1");
  return refs;
}

Claims WithTee(const std::string& tee) {
  return MakeClaims({{"tee", tee}, {"debug", false}, {"measurement", "m1"s}});
}

struct GateCase {
  const char* name;
  const char* when;
  bool names_dev;
};

void PrintTo(const GateCase& c, std::ostream* os) { *os << c.name; }

std::string PrintName(const ::testing::TestParamInfo<GateCase>& info) { return info.param.name; }

class DevGateTest : public ::testing::TestWithParam<GateCase> {};

// Every `when` in the table holds for the dev claims; only the gate decides.
TEST_P(DevGateTest, AdmitsDevOnlyWhenNamedExplicitly) {
  const GateCase& c = GetParam();
  ASSERT_OK_AND_ASSIGN(Policy p, OneRule(c.when, "gate"));
  EXPECT_EQ(p.rules()[0].names_dev_tee, c.names_dev);
  const Decision d = Evaluate(p, WithTee("dev"), "k", Refs());
  EXPECT_EQ(d.allow, c.names_dev) << d.reason;
  if (!c.names_dev) {
    EXPECT_EQ(d.reason, "rule 'gate' does not name the dev TEE explicitly");
    ASSERT_EQ(d.trace.size(), 1u);  // the condition is not evaluated
    EXPECT_THAT(d.trace[0].detail, ::testing::HasSubstr("does not name the dev TEE explicitly"));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, DevGateTest,
    ::testing::Values(
        GateCase{"MeasurementOnly", R"({"claim":"measurement","in_reference":"engines"})", false},
        GateCase{
            "DebugAndMeasurement",
            R"({"allOf":[{"claim":"debug","equals":false},{"claim":"measurement","in_reference":"engines"}]})",
            false},
        GateCase{"TopLevelEqualsDev", R"({"claim":"tee","equals":"dev"})", true},
        GateCase{
            "AllOfWithEqualsDev",
            R"({"allOf":[{"claim":"tee","equals":"dev"},{"claim":"measurement","in_reference":"engines"}]})",
            true},
        GateCase{
            "AllOfWithInDev",
            R"({"allOf":[{"claim":"measurement","in_reference":"engines"},{"claim":"tee","in":["sev-snp","dev"]}]})",
            true},
        GateCase{
            "NestedAllOf",
            R"({"allOf":[{"allOf":[{"claim":"tee","equals":"dev"}]},{"claim":"debug","equals":false}]})",
            true},
        GateCase{
            "AnyOfEveryBranchNamesDev",
            R"({"anyOf":[{"allOf":[{"claim":"tee","equals":"dev"},{"claim":"debug","equals":false}]},
                              {"claim":"tee","in":["dev","tdx"]}]})",
            true},
        GateCase{
            "AnyOfOneBranchWithoutDev",
            R"({"anyOf":[{"claim":"tee","equals":"dev"},{"claim":"measurement","in_reference":"engines"}]})",
            false},
        GateCase{
            "DevInsideAnyOfUnderAllOf",
            R"({"allOf":[{"anyOf":[{"claim":"tee","equals":"dev"},{"claim":"debug","equals":false}]},
                              {"claim":"measurement","in_reference":"engines"}]})",
            false},
        GateCase{
            "NegatedOtherTee",
            R"({"allOf":[{"not":{"claim":"tee","equals":"sev-snp"}},{"claim":"measurement","in_reference":"engines"}]})",
            false},
        GateCase{"DoubleNegatedDev", R"({"not":{"not":{"claim":"tee","equals":"dev"}}})", false},
        GateCase{"MatchesDevDoesNotCount", R"({"claim":"tee","matches":"dev"})", false},
        GateCase{"OtherClaimEqualsDev",
                 R"({"allOf":[{"claim":"env","in":["dev","x"]},{"claim":"debug","equals":false}]})",
                 false}),
    PrintName);

TEST(DevGate, NegatedDevNeverCountsAndNeverAdmits) {
  ASSERT_OK_AND_ASSIGN(Policy p, OneRule(R"({"not":{"claim":"tee","equals":"dev"}})", "not-dev"));
  EXPECT_FALSE(p.rules()[0].names_dev_tee);
  EXPECT_FALSE(Evaluate(p, WithTee("dev"), "k", Refs()).allow);
  EXPECT_TRUE(Evaluate(p, WithTee("sev-snp"), "k", Refs()).allow);
}

TEST(DevGate, NamingDevDoesNotAdmitOtherTees) {
  ASSERT_OK_AND_ASSIGN(Policy p, OneRule(R"({"claim":"tee","equals":"dev"})"));
  EXPECT_TRUE(Evaluate(p, WithTee("dev"), "k", Refs()).allow);
  EXPECT_FALSE(Evaluate(p, WithTee("sev-snp"), "k", Refs()).allow);
}

TEST(DevGate, OnlyTheExactDevValueIsGated) {
  ASSERT_OK_AND_ASSIGN(Policy p, OneRule(R"({"claim":"measurement","in_reference":"engines"})"));
  EXPECT_TRUE(Evaluate(p, WithTee("sev-snp"), "k", Refs()).allow);
  EXPECT_TRUE(Evaluate(p, WithTee("tdx"), "k", Refs()).allow);
  EXPECT_FALSE(Evaluate(p, WithTee("dev"), "k", Refs()).allow);
}

TEST(DevGate, ALaterRuleThatNamesDevCanAdmit) {
  ASSERT_OK_AND_ASSIGN(Policy p, ParsePolicy(R"({"version":1,"rules":[
      {"name":"prod","keys":["*"],"when":{"claim":"measurement","in_reference":"engines"}},
      {"name":"demo","keys":["demo-*"],"when":{"allOf":[{"claim":"tee","equals":"dev"},
                                                         {"claim":"measurement","in_reference":"engines"}]}}]})",
                                             "t.json"));
  Decision d = Evaluate(p, WithTee("dev"), "demo-x", Refs());
  EXPECT_TRUE(d.allow);
  EXPECT_EQ(d.rule, "demo");
  d = Evaluate(p, WithTee("dev"), "prod-x", Refs());
  EXPECT_FALSE(d.allow);
  EXPECT_EQ(d.reason, "rule 'prod' does not name the dev TEE explicitly");
  d = Evaluate(p, WithTee("sev-snp"), "demo-x", Refs());
  EXPECT_EQ(d.rule, "prod");
}

}  // namespace
}  // namespace sigil::policy
