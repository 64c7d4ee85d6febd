// forEachGpu and version_gte, the two policy forms composite CPU + GPU evidence needs
// (policies/README.md): a condition over every GPU that never holds vacuously or without GPU
// evidence, "at least this driver version" over dotted decimal versions, and hex_version_gte,
// "at least this VBIOS version" over dotted hex versions.
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

// A VBIOS floor: dotted hex groups compared numerically group by group; a claim or bound of
// another form, or with another number of groups, is an error (it denies, and so does its `not`).
TEST(HexVersionGte, ComparesDottedHexVersions) {
  auto judge = [](const std::string& claim, const std::string& bound) {
    return Judge(R"({"claim":"v","hex_version_gte":")" + bound + R"("})", MakeClaims({{"v", claim}}));
  };
  auto at_least = [&](const std::string& claim, const std::string& bound) {
    return judge(claim, bound).allow;
  };
  EXPECT_TRUE(at_least("96.00.9f.00.01", "96.00.9f.00.01"));  // equal
  // Greater in each position, with every later group smaller.
  EXPECT_TRUE(at_least("97.00.00.00.00", "96.ff.ff.ff.ff"));
  EXPECT_TRUE(at_least("96.01.00.00.00", "96.00.ff.ff.ff"));
  EXPECT_TRUE(at_least("96.00.a0.00.00", "96.00.9f.ff.ff"));  // numeric: a0 > 9f
  EXPECT_TRUE(at_least("96.00.9f.01.00", "96.00.9f.00.ff"));
  EXPECT_TRUE(at_least("96.00.9f.00.02", "96.00.9f.00.01"));
  EXPECT_TRUE(at_least("96.00.100.00.00", "96.00.ff.00.00"));  // 0x100 > 0xff, not text order
  // Less in each position.
  EXPECT_FALSE(at_least("95.ff.ff.ff.ff", "96.00.00.00.00"));
  EXPECT_FALSE(at_least("96.00.9e.ff.ff", "96.00.9f.00.00"));
  EXPECT_FALSE(at_least("96.00.9f.00.00", "96.00.9f.00.01"));
  // Uppercase and leading zeros are the same numbers, in the claim and in the bound.
  EXPECT_TRUE(at_least("96.00.9F.00.01", "96.00.9f.00.01"));
  EXPECT_TRUE(at_least("96.00.9f.00.01", "96.00.9F.00.01"));
  EXPECT_TRUE(at_least("0096.0.009f.0.1", "96.00.9f.00.01"));
  EXPECT_FALSE(at_least("96.00.9E.00.01", "96.00.9f.00.01"));
  // A false test names the bound, as version_gte does.
  EXPECT_THAT(judge("96.00.9e.00.01", "96.00.9f.00.01").reason,
              HasSubstr("claim 'v' is '96.00.9e.00.01', expected at least 96.00.9f.00.01"));
  // Malformed claim, or another number of groups: an error, so `not` does not hold either.
  for (const char* claim : {"96.00.9g.00.01", "96.00.9f.00.", "", "96..9f", "96.00.9f.00.00001", "v96",
                            "96.00.9f.00.01 ", "1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17"}) {
    const Decision d = judge(claim, "96.00.9f.00.01");
    EXPECT_FALSE(d.allow) << claim;
    EXPECT_THAT(d.reason, HasSubstr("not a dotted hex version")) << claim;
    EXPECT_FALSE(Judge(R"({"not":{"claim":"v","hex_version_gte":"96.00.9f.00.01"}})",
                       MakeClaims({{"v", std::string(claim)}}))
                     .allow)
        << claim;
  }
  for (const char* claim : {"96.00.9f.00", "96.00.9f.00.01.00", "97"}) {
    const Decision d = judge(claim, "96.00.9f.00.01");
    EXPECT_FALSE(d.allow) << claim;
    EXPECT_THAT(d.reason, HasSubstr("groups, not the 5 of the bound")) << claim;
    EXPECT_FALSE(Judge(R"({"not":{"claim":"v","hex_version_gte":"96.00.9f.00.01"}})",
                       MakeClaims({{"v", std::string(claim)}}))
                     .allow)
        << claim;
  }
  EXPECT_FALSE(Judge(R"({"not":{"claim":"v","hex_version_gte":"1"}})", MakeClaims({{"v", std::int64_t{5}}})).allow);
  EXPECT_TRUE(at_least("ffff.ffff.ffff.ffff.ffff.ffff.ffff.ffff.ffff.ffff.ffff.ffff.ffff.ffff.ffff.ffff",
                       "ffff.ffff.ffff.ffff.ffff.ffff.ffff.ffff.ffff.ffff.ffff.ffff.ffff.ffff.ffff.fffe"));
  // Malformed bound: refused when the policy is parsed.
  for (const char* bad : {"", "1..2", ".1", "1.", "v1", "96.00.9g.00.01", "12345", "1,2", "1 .2", "0x96",
                          "1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17"}) {
    auto p = OneRule(R"({"claim":"v","hex_version_gte":")" + std::string(bad) + R"("})");
    ASSERT_FALSE(p.has_value()) << bad;
    EXPECT_THAT(p.error().message(), HasSubstr("$.rules[0].when.hex_version_gte: invalid hex version")) << bad;
  }
  auto not_string = OneRule(R"({"claim":"v","hex_version_gte":96})");
  ASSERT_FALSE(not_string.has_value());
  EXPECT_THAT(not_string.error().message(), HasSubstr("expected a dotted hex version string"));
}

}  // namespace
}  // namespace sigil::policy
