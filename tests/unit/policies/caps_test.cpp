// Denial reasons and traces are capped in size whatever the policy: a nested anyOf gave a
// 2.7 MB reason to the workload and a 10 MB trace to the audit log on every denied release.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "policies/policy.h"
#include "tests/support/matchers.h"
#include "tests/unit/policies/test_util.h"

namespace sigil::policy {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using testing::MakeClaims;
using testing::OneRule;
using namespace std::string_literals;

// anyOf nested `depth` levels, `width` alternatives each; leaves test long, absent claim names
// so that every failure message is long.
std::string NestedAnyOf(int depth, int width, int& leaf) {
  if (depth == 0) {
    return R"({"claim":")" + std::string(100, 'c') + std::to_string(leaf++) + R"(","equals":"v"})";
  }
  std::string s = R"({"anyOf":[)";
  for (int i = 0; i < width; ++i) s += (i == 0 ? "" : ",") + NestedAnyOf(depth - 1, width, leaf);
  return s + "]}";
}

TEST(Caps, NestedAnyOfReasonAndTraceAreBounded) {
  int leaves = 0;
  const std::string when = NestedAnyOf(5, 5, leaves);  // 3125 leaves, 3906 conditions
  ASSERT_OK_AND_ASSIGN(Policy p, OneRule(when));
  const Decision d = Evaluate(p, MakeClaims({{"tee", "tdx"s}}), "k", MapReferenceSets());
  EXPECT_FALSE(d.allow);
  EXPECT_LE(d.reason.size(), kMaxReasonBytes);
  EXPECT_THAT(d.reason, EndsWith(std::string(kTruncatedMarker)));
  EXPECT_THAT(d.reason, ::testing::StartsWith("rule 'r': none of the alternatives holds: ("));
  std::size_t trace_bytes = 0;
  for (const ClauseTrace& t : d.trace) {
    EXPECT_LE(t.detail.size(), kMaxClauseDetailBytes);
    trace_bytes += t.path.size() + t.detail.size();
  }
  EXPECT_LE(trace_bytes, kMaxTraceBytes);
  EXPECT_GT(d.trace_omitted, 0u);
  EXPECT_EQ(d.trace.size() + d.trace_omitted, 1u + 3906u);  // every clause kept or counted
  const std::string text = Explain(d);
  EXPECT_LE(text.size(), kMaxTraceBytes);
  EXPECT_THAT(text, HasSubstr("...[truncated]: "));
  EXPECT_THAT(text, HasSubstr("more clauses not shown (trace limit 16384 bytes)"));
}

TEST(Caps, CapsNeverChangeTheDecision) {
  // The last alternative of a wide, deep tree holds: allowed, although its clause is far past
  // the part of the trace that is kept.
  int leaves = 0;
  std::string when = NestedAnyOf(4, 6, leaves);
  when = R"({"anyOf":[)" + when + R"(,{"claim":"tee","equals":"tdx"}]})";
  ASSERT_OK_AND_ASSIGN(Policy p, OneRule(when));
  const Decision d = Evaluate(p, MakeClaims({{"tee", "tdx"s}}), "k", MapReferenceSets());
  EXPECT_TRUE(d.allow) << d.reason;
  EXPECT_GT(d.trace_omitted, 0u);
  EXPECT_EQ(d.reason, "rule 'r' allows key 'k'");
}

TEST(Caps, ManyFailingRulesKeepTheReasonBounded) {
  std::string text = R"({"version":1,"rules":[)";
  for (int r = 0; r < 1000; ++r) {
    text += (r == 0 ? "" : ",");
    text += R"({"name":")" + std::string(100, 'r') + std::to_string(r) +
            R"(","keys":["*"],"when":{"claim":"x","equals":1}})";
  }
  text += "]}";
  ASSERT_OK_AND_ASSIGN(Policy p, ParsePolicy(text, "t.json"));
  const Decision d = Evaluate(p, MakeClaims({}), "k", MapReferenceSets());
  EXPECT_LE(d.reason.size(), kMaxReasonBytes);
  EXPECT_LE(Explain(d).size(), kMaxTraceBytes);
}

}  // namespace
}  // namespace sigil::policy
