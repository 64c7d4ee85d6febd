// forEachGpu and version_gte, the two policy forms composite CPU + GPU evidence needs
// (policies/README.md): a condition over every GPU that never holds vacuously or without GPU
// evidence, and "at least this driver version" over dotted decimal versions.
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

constexpr const char* kEveryGpu =
    R"({"forEachGpu":{"allOf":[{"claim":"measurement","in_reference":"approved-h100"},)"
    R"({"claim":"nvidia.driver_version","version_gte":"550.54"}]}})";

Decision Judge(const std::string& when, const Claims& claims) {
  auto p = OneRule(when);
  EXPECT_TRUE(p.has_value()) << (p ? "" : p.error().message());
  MapReferenceSets refs;
  refs.Add("approved-h100", "m-good");
  return p ? Evaluate(*p, claims, "k", refs) : Decision{};
}

Claims Gpus(std::initializer_list<std::pair<std::string, std::string>> gpus) {
  Claims c = MakeClaims({{"tee", "sev-snp"s}});
  std::int64_t i = 0;
  for (const auto& [measurement, driver] : gpus) {
    c.Set("gpu." + std::to_string(i) + ".measurement", measurement);
    c.Set("gpu." + std::to_string(i) + ".nvidia.driver_version", driver);
    ++i;
  }
  c.Set("gpu.count", i);
  return c;
}

TEST(ForEachGpu, HoldsOnlyWhenEveryGpuHolds) {
  EXPECT_TRUE(Judge(kEveryGpu, Gpus({{"m-good", "550.90.07"}, {"m-good", "550.54"}})).allow);
  Decision d = Judge(kEveryGpu, Gpus({{"m-good", "550.90.07"}, {"m-bad", "550.90.07"}}));
  EXPECT_FALSE(d.allow);
  EXPECT_THAT(d.reason, HasSubstr("gpu 1: claim 'measurement' is not in reference set 'approved-h100'"));
  d = Judge(kEveryGpu, Gpus({{"m-good", "535.129.03"}}));
  EXPECT_FALSE(d.allow);
  EXPECT_THAT(d.reason, HasSubstr("gpu 0: claim 'nvidia.driver_version' is '535.129.03', expected at least 550.54"));
  // The trace has a line per GPU.
  EXPECT_THAT(Explain(d), HasSubstr("forEachGpu(gpu 0)"));
}

TEST(ForEachGpu, NoGpuEvidenceNeverHolds) {
  // Plain CPU evidence: no gpu.count, an error, and `not` over it is not true either.
  const Claims cpu_only = MakeClaims({{"tee", "sev-snp"s}});
  Decision d = Judge(kEveryGpu, cpu_only);
  EXPECT_FALSE(d.allow);
  EXPECT_THAT(d.reason, HasSubstr("'gpu.count' is absent"));
  EXPECT_FALSE(Judge("{\"not\":"s + kEveryGpu + "}", cpu_only).allow);
  // Zero GPUs is false, never vacuously true; a mistyped count is an error.
  EXPECT_FALSE(Judge(kEveryGpu, MakeClaims({{"gpu.count", std::int64_t{0}}})).allow);
  EXPECT_TRUE(Judge("{\"not\":"s + kEveryGpu + "}", MakeClaims({{"gpu.count", std::int64_t{0}}})).allow);
  EXPECT_FALSE(Judge("{\"not\":"s + kEveryGpu + "}", MakeClaims({{"gpu.count", "8"s}})).allow);
  // A count larger than the GPUs present: the missing GPU's claims are absent, an error.
  Claims short_one = Gpus({{"m-good", "550.90.07"}});
  short_one.Set("gpu.count", std::int64_t{2});
  d = Judge(kEveryGpu, short_one);
  EXPECT_FALSE(d.allow);
  EXPECT_THAT(d.reason, HasSubstr("gpu 1: claim 'measurement' is absent"));
}

TEST(ForEachGpu, ClaimsOutsideTheGpuAreNotVisibleInside) {
  // The CPU's measurement is not a GPU's: inside, `measurement` is gpu.N.measurement only.
  Claims c = MakeClaims({{"measurement", "m-good"s}, {"gpu.count", std::int64_t{1}}});
  EXPECT_FALSE(Judge(R"({"forEachGpu":{"claim":"measurement","in_reference":"approved-h100"}})", c).allow);
}

TEST(ForEachGpu, ParseRules) {
  EXPECT_OK(OneRule(kEveryGpu));
  auto nested = OneRule(R"({"forEachGpu":{"forEachGpu":{"claim":"x","equals":1}}})");
  ASSERT_FALSE(nested.has_value());
  EXPECT_THAT(nested.error().message(), HasSubstr("$.rules[0].when.forEachGpu: forEachGpu cannot be nested"));
  auto two = OneRule(R"({"forEachGpu":{"claim":"x","equals":1},"not":{"claim":"y","equals":1}})");
  ASSERT_FALSE(two.has_value());
  EXPECT_THAT(two.error().message(), HasSubstr("exactly one of allOf, anyOf, not, forEachGpu or claim"));
  // A GPU's tee never names the dev TEE: such a rule does not admit dev evidence.
  auto p = OneRule(R"({"forEachGpu":{"claim":"tee","equals":"dev"}})");
  ASSERT_OK(p);
  EXPECT_FALSE(p->rules()[0].names_dev_tee);
}

TEST(VersionGte, ComparesDottedDecimalVersions) {
  auto at_least = [](const std::string& claim, const std::string& bound) {
    return Judge(R"({"claim":"v","version_gte":")" + bound + R"("})", MakeClaims({{"v", claim}})).allow;
  };
  EXPECT_TRUE(at_least("550.90.07", "550.54"));
  EXPECT_TRUE(at_least("550.90.07", "550.90.7"));  // "07" is 7
  EXPECT_TRUE(at_least("550.90", "550.90.0"));     // a missing component is 0
  EXPECT_FALSE(at_least("550.90", "550.90.1"));
  EXPECT_FALSE(at_least("535.129.03", "550"));
  EXPECT_TRUE(at_least("1000", "999.99"));  // numeric, not text, order
  // Not a dotted decimal version (a VBIOS version is hex): an error, so `not` does not hold.
  EXPECT_FALSE(at_least("96.00.9f.00.01", "1"));
  EXPECT_FALSE(Judge(R"({"not":{"claim":"v","version_gte":"1"}})", MakeClaims({{"v", "96.00.9f"s}})).allow);
  EXPECT_FALSE(Judge(R"({"not":{"claim":"v","version_gte":"1"}})", MakeClaims({{"v", std::int64_t{5}}})).allow);
  for (const char* bad : {"", "1..2", ".1", "1.", "v1", "1.2.3.4.5.6.7.8.9", "1234567890", "1,2", "1 .2"}) {
    auto p = OneRule(R"({"claim":"v","version_gte":")" + std::string(bad) + R"("})");
    ASSERT_FALSE(p.has_value()) << bad;
    EXPECT_THAT(p.error().message(), HasSubstr("$.rules[0].when.version_gte: invalid version")) << bad;
  }
  auto not_string = OneRule(R"({"claim":"v","version_gte":550})");
  ASSERT_FALSE(not_string.has_value());
  EXPECT_THAT(not_string.error().message(), HasSubstr("expected a dotted version string"));
}

}  // namespace
}  // namespace sigil::policy
