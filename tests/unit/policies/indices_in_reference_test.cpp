// indices_in_reference: a family of indexed claims (nvidia.measurement.N) against a reference
// set of "N:value" entries, as `sigil refs import-nvidia-rim` writes them (policies/README.md).
// Every index the set lists must be present with an approved value; a missing set, or one with
// no indexed entry, is an error (so `not` over it is not true); indices the set does not list
// are not compared.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "policies/policy.h"
#include "tests/unit/policies/test_util.h"

namespace sigil::policy {
namespace {

using attestation::Claims;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::OneRule;
using namespace std::string_literals;

constexpr const char* kRim = R"({"claim":"nvidia.measurement","indices_in_reference":"h100-550"})";
constexpr const char* kNotRim = R"({"not":{"claim":"nvidia.measurement","indices_in_reference":"h100-550"}})";

MapReferenceSets RimSet() {
  MapReferenceSets refs;
  refs.Add("h100-550", "8:aa");
  refs.Add("h100-550", "8:ab");  // a second alternative for index 8
  refs.Add("h100-550", "22:bb");
  refs.Add("h100-550", "rim:driver:550.54.15");  // not an index: ignored by the test
  refs.AddSet("empty");
  refs.Add("markers-only", "rim:driver:550.54.15");
  return refs;
}

Claims Gpu(std::initializer_list<std::pair<int, std::string>> blocks) {
  Claims c;
  c.Set("tee", "nvidia-gpu"s);
  for (const auto& [i, v] : blocks) c.Set("nvidia.measurement." + std::to_string(i), v);
  return c;
}

Decision Judge(const std::string& when, const Claims& claims, const MapReferenceSets& refs = RimSet()) {
  auto p = OneRule(when);
  EXPECT_TRUE(p.has_value()) << (p ? "" : p.error().message());
  return p ? Evaluate(*p, claims, "k", refs) : Decision{};
}

TEST(IndicesInReference, HoldsWhenEveryListedIndexHasAnApprovedValue) {
  EXPECT_TRUE(Judge(kRim, Gpu({{8, "aa"}, {22, "bb"}})).allow);
  EXPECT_TRUE(Judge(kRim, Gpu({{8, "ab"}, {22, "bb"}})).allow);  // either alternative
  // Index 1 is not in the set (inactive in the RIM): not compared.
  Decision d = Judge(kRim, Gpu({{1, "zz"}, {8, "aa"}, {22, "bb"}}));
  EXPECT_TRUE(d.allow);
  EXPECT_THAT(Explain(d), HasSubstr("match reference set 'h100-550' at all 2 indices"));
}

TEST(IndicesInReference, AWrongValueIsFalseAndTheReasonHidesReferenceValues) {
  Decision d = Judge(kRim, Gpu({{8, "aa"}, {22, "cc"}}));
  EXPECT_FALSE(d.allow);
  EXPECT_THAT(d.reason, HasSubstr("claim 'nvidia.measurement.22' is not an approved value for index 22"));
  EXPECT_THAT(d.reason, Not(HasSubstr("bb")));
  // A value approved for another index does not count.
  EXPECT_FALSE(Judge(kRim, Gpu({{8, "bb"}, {22, "bb"}})).allow);
  // `not` over a false test is true (the evidence is not the RIM's build).
  EXPECT_TRUE(Judge(kNotRim, Gpu({{8, "aa"}, {22, "cc"}})).allow);
}

TEST(IndicesInReference, AMissingIndexIsAnErrorNotFalse) {
  Decision d = Judge(kRim, Gpu({{8, "aa"}}));
  EXPECT_FALSE(d.allow);
  EXPECT_THAT(d.reason, HasSubstr("claim 'nvidia.measurement.22' is absent"));
  EXPECT_FALSE(Judge(kNotRim, Gpu({{8, "aa"}})).allow);
  // Not a string: also an error.
  Claims c = Gpu({{8, "aa"}});
  c.Set("nvidia.measurement.22", std::int64_t{5});
  EXPECT_FALSE(Judge(kRim, c).allow);
  EXPECT_FALSE(Judge(kNotRim, c).allow);
}

TEST(IndicesInReference, UnknownOrIndexlessSetsAreErrors) {
  const Claims gpu = Gpu({{8, "aa"}, {22, "bb"}});
  for (const char* set : {"missing-set", "empty", "markers-only"}) {
    SCOPED_TRACE(set);
    const std::string when = R"({"claim":"nvidia.measurement","indices_in_reference":")"s + set + R"("})";
    Decision d = Judge(when, gpu);
    EXPECT_FALSE(d.allow);
    EXPECT_THAT(d.reason, HasSubstr(set));
    EXPECT_FALSE(Judge(R"({"not":)" + when + "}", gpu).allow);
  }
  EXPECT_THAT(Judge(R"({"claim":"nvidia.measurement","indices_in_reference":"missing-set"})", gpu).reason,
              HasSubstr("does not exist"));
  EXPECT_THAT(Judge(R"({"claim":"nvidia.measurement","indices_in_reference":"empty"})", gpu).reason,
              HasSubstr("has no indexed values"));
}

TEST(IndicesInReference, InsideForEachGpu) {
  const std::string when =
      R"({"forEachGpu":{"allOf":[{"claim":"tee","equals":"nvidia-gpu"},)"s + kRim + "]}}";
  Claims c;
  c.Set("tee", "sev-snp"s);
  c.Set("gpu.count", std::int64_t{2});
  for (int g = 0; g < 2; ++g) {
    c.Set("gpu." + std::to_string(g) + ".tee", "nvidia-gpu"s);
    c.Set("gpu." + std::to_string(g) + ".nvidia.measurement.8", "aa"s);
    c.Set("gpu." + std::to_string(g) + ".nvidia.measurement.22", "bb"s);
  }
  EXPECT_TRUE(Judge(when, c).allow);
  c.Set("gpu.1.nvidia.measurement.22", "cc"s);
  Decision d = Judge(when, c);
  EXPECT_FALSE(d.allow);
  EXPECT_THAT(d.reason, HasSubstr("gpu 1: claim 'nvidia.measurement.22' is not an approved value"));
}

TEST(IndicesInReference, ParsesLikeInReferenceAndNamesItsSet) {
  auto p = OneRule(kRim);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->ReferenceSetNames(), std::vector<std::string>{"h100-550"});
  auto bad = OneRule(R"({"claim":"nvidia.measurement","indices_in_reference":"H100"})");
  ASSERT_FALSE(bad);
  auto not_string = OneRule(R"({"claim":"nvidia.measurement","indices_in_reference":["a"]})");
  ASSERT_FALSE(not_string);
  EXPECT_THAT(not_string.error().message(), HasSubstr("expected a reference set name"));
}

}  // namespace
}  // namespace sigil::policy
