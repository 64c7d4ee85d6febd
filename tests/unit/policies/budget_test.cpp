// Per-policy budgets (regex size, conditions, key patterns) checked at parse time, and the one
// name rule for reference sets and key patterns (core/names). Each test fails on the engine
// before the budgets: it parsed these policies (the regex one in 49 s and 6.4 GB).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "policies/policy.h"
#include "tests/support/matchers.h"
#include "tests/unit/policies/test_util.h"

namespace sigil::policy {
namespace {

using ::testing::HasSubstr;
using testing::OneRule;

// `rules` rules of `per_rule` conditions each, every one `leaf`.
std::string Policy(std::size_t rules, std::size_t per_rule, const std::string& leaf) {
  std::string text = R"({"version":1,"rules":[)";
  for (std::size_t r = 0; r < rules; ++r) {
    text += (r == 0 ? "" : ",");
    text += R"({"name":"r)" + std::to_string(r) + R"(","keys":["k"],"when":{"allOf":[)";
    for (std::size_t i = 0; i < per_rule; ++i) text += (i == 0 ? "" : ",") + leaf;
    text += "]}}";
  }
  return text + "]}";
}

// The finding: a policy within the 1 MiB size limit made only of patterns each within the
// per-regex cap ([a-z]{999} expands to 999 elements, under 1000). It is refused by the total
// budget after a handful of patterns, so quickly and in little memory.
TEST(PolicyBudget, ManyLargeRegexesAreRefusedAtTheFirstPatternOverBudget) {
  const std::string leaf = R"({"claim":"c","matches":"[a-z]{999}"})";
  const std::string text = Policy(1000, 25, leaf);
  ASSERT_LE(text.size(), kMaxPolicyBytes);
  ASSERT_GT(text.size(), kMaxPolicyBytes * 9 / 10);
  // Each pattern alone is acceptable.
  ASSERT_OK(OneRule(leaf));
  // The refusal names the fifth pattern of the first rule: parsing stops there, before the
  // thousands of patterns after it are compiled (what made this policy cost 49 s and 6.4 GB).
  // Time is measured by hand in the closing note, not asserted here.
  auto r = ParsePolicy(text, "regex-bomb.json");
  EXPECT_CODE(r, Code::kInvalidArgument);
  EXPECT_THAT(r.error().message(),
              HasSubstr("regex-bomb.json: $.rules[0].when.allOf[4].matches: the policy's regular "
                        "expressions cost more than 4096 in all"));
}

TEST(PolicyBudget, RegexBudgetIsForTheWholePolicy) {
  // Four patterns of 1000 fit (4000), across rules; a fifth does not.
  const std::string leaf = R"({"claim":"c","matches":"a{1000}"})";
  EXPECT_OK(ParsePolicy(Policy(4, 1, leaf), "ok.json"));
  auto r = ParsePolicy(Policy(5, 1, leaf), "over.json");
  EXPECT_CODE(r, Code::kInvalidArgument);
  EXPECT_THAT(r.error().message(), HasSubstr("over.json: $.rules[4].when.allOf[0].matches: "));
}

// Loops are what make matching slow (every loop state stays active over the claim), so each
// quantifier counts 64 towards the budget: "(?:.*){0,70}b" is within the per-regex cap but took
// about 40 ms per match over a 1 KiB claim; a policy could hold a hundred of them.
TEST(PolicyBudget, QuantifiersCostMoreThanAtoms) {
  EXPECT_OK(OneRule(R"({"claim":"c","matches":"[0-9a-f]{96}"})"));
  EXPECT_OK(OneRule(R"({"claim":"c","matches":"(?:ab){200}"})"));
  auto r = OneRule(R"({"claim":"c","matches":"(?:.*){0,70}b"})");
  EXPECT_CODE(r, Code::kInvalidArgument);
  EXPECT_THAT(r.error().message(), HasSubstr("the policy's regular expressions cost more than 4096"));
  // 63 loops in all fit, across patterns; a 64th with its atoms does not.
  const std::string leaf = R"({"claim":"c","matches":".*"})";
  EXPECT_OK(ParsePolicy(Policy(1, 63, leaf), "ok.json"));
  EXPECT_CODE(ParsePolicy(Policy(1, 64, leaf), "over.json"), Code::kInvalidArgument);
}

TEST(PolicyBudget, ConditionBudget) {
  const std::string leaf = R"({"claim":"a","equals":1})";
  // Each rule's `when` is an allOf (one condition) of 39 leaves: 40 conditions a rule.
  EXPECT_OK(ParsePolicy(Policy(kMaxConditions / 40, 39, leaf), "ok.json"));
  auto r = ParsePolicy(Policy(kMaxConditions / 40 + 1, 39, leaf), "over.json");
  EXPECT_CODE(r, Code::kInvalidArgument);
  EXPECT_THAT(r.error().message(),
              HasSubstr("the policy has more than 4096 conditions in all (the per-policy budget)"));
  // One list longer than the budget is refused before any child is built.
  auto wide = OneRule(R"({"anyOf":[)" + [&] {
    std::string s;
    for (int i = 0; i < 5000; ++i) s += (i == 0 ? "" : ",") + leaf;
    return s;
  }() + "]}");
  EXPECT_CODE(wide, Code::kInvalidArgument);
  EXPECT_THAT(wide.error().message(), HasSubstr("$.rules[0].when.anyOf: the policy has more than 4096"));
}

TEST(PolicyBudget, KeyPatternBudget) {
  std::string keys = "[";
  for (std::size_t i = 0; i <= kMaxKeyPatterns; ++i) keys += (i == 0 ? "" : ",") + std::string("\"k\"");
  keys += "]";
  auto r = OneRule(R"({"claim":"a","equals":1})", "r", keys);
  EXPECT_CODE(r, Code::kInvalidArgument);
  EXPECT_THAT(r.error().message(), HasSubstr("more than 4096 key names or globs in all"));
}

// One name rule: a set name that `sigil refs add` and the store refuse can never exist, so a
// `not in_reference` over it would never fire. The policy now refuses it, with the same words.
TEST(ReferenceSetNames, FollowTheStoreRule) {
  for (const char* bad : {"Revoked-Hosts", "-revoked", "a/b", "a:b",
                          "x1234567890123456789012345678901234567890123456789012345678901234"}) {
    auto r = OneRule(std::string(R"({"not":{"claim":"platform.id","in_reference":")") + bad + "\"}}");
    SCOPED_TRACE(bad);
    EXPECT_CODE(r, Code::kInvalidArgument);
    if (!r) {
      EXPECT_THAT(r.error().message(), HasSubstr("$.rules[0].when.not.in_reference: reference set name '"));
      EXPECT_THAT(r.error().message(), HasSubstr("is invalid: use 1-64 characters a-z 0-9 . _ -"));
    }
  }
  EXPECT_OK(OneRule(R"({"not":{"claim":"platform.id","in_reference":"revoked-hosts"}})"));
  EXPECT_OK(OneRule(R"({"claim":"m","in_reference":"a.b_c-9"})"));
}

TEST(KeyPatterns, ThatNoKeyNameCanMatchAreRefused) {
  for (const char* bad : {"datasets/*", "Llama*", "-x", ".x*", "a b", "k\\\\x"}) {
    auto r = OneRule(R"({"claim":"a","equals":1})", "r", std::string("[\"") + bad + "\"]");
    SCOPED_TRACE(bad);
    EXPECT_CODE(r, Code::kInvalidArgument);
    if (!r) {
      EXPECT_THAT(r.error().message(), HasSubstr("can never match a key name"));
    }
  }
  auto too_long = OneRule(R"({"claim":"a","equals":1})", "r", "[\"" + std::string(65, 'a') + "*\"]");
  EXPECT_CODE(too_long, Code::kInvalidArgument);
  const std::string longest(64, 'a');
  for (const std::string good : {"*", "?", "*-x", "dataset-*", "llama*", "a.b_c-?", longest.c_str()}) {
    SCOPED_TRACE(good);
    EXPECT_OK(OneRule(R"({"claim":"a","equals":1})", "r", "[\"" + good + "\"]"));
  }
}

}  // namespace
}  // namespace sigil::policy
