#include "policies/parse.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "core/file_io.h"
#include "tests/support/matchers.h"
#include "tests/unit/policies/test_util.h"

namespace sigil::policy {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::OneRule;

std::string Nested(int levels, const std::string& leaf) {
  std::string s = leaf;
  for (int i = 1; i < levels; ++i) s = R"({"allOf":[)" + s + "]}";
  return s;
}

std::string ManyRules(std::size_t n) {
  std::string s = R"({"version":1,"rules":[)";
  for (std::size_t i = 0; i < n; ++i) {
    s += (i == 0 ? "" : ",") + std::string(R"({"name":"r)") + std::to_string(i) +
         R"(","keys":["k"],"when":{"claim":"a","equals":1}})";
  }
  return s + "]}";
}

TEST(ParsePolicy, ParsesRulesInOrderWithComments) {
  ASSERT_OK_AND_ASSIGN(Policy p, ParsePolicy(R"(
    // line comment
    { "version": 1, /* block comment */
      "rules": [
        { "name": "first", "keys": ["a", "b*"], "when": { "claim": "debug", "equals": false } },
        { "name": "second", "keys": ["*"],
          "when": { "anyOf": [ { "claim": "x", "in": [1, 2] },
                               { "not": { "claim": "m", "in_reference": "set-a" } },
                               { "claim": "m", "in_reference": "set-b" },
                               { "claim": "p", "matches": "^[0-9a-f]{16}$" } ] } } ] })",
                                             "acme.json"));
  EXPECT_EQ(p.source(), "acme.json");
  ASSERT_EQ(p.rules().size(), 2u);
  EXPECT_EQ(p.rules()[0].name, "first");
  EXPECT_EQ(p.rules()[0].path, "$.rules[0]");
  EXPECT_THAT(p.rules()[0].keys, ElementsAre("a", "b*"));
  EXPECT_EQ(p.rules()[0].when.kind, ConditionKind::kClaimTest);
  EXPECT_EQ(p.rules()[0].when.path, "$.rules[0].when");
  const Condition& any = p.rules()[1].when;
  ASSERT_EQ(any.kind, ConditionKind::kAnyOf);
  ASSERT_EQ(any.children.size(), 4u);
  EXPECT_EQ(any.children[1].kind, ConditionKind::kNot);
  EXPECT_EQ(any.children[1].children.front().path, "$.rules[1].when.anyOf[1].not");
  EXPECT_EQ(any.children[3].op, TestOp::kMatches);
  EXPECT_THAT(p.ReferenceSetNames(), ElementsAre("set-a", "set-b"));
}

TEST(ParsePolicy, EmptyRuleListIsValidAndDeniesEverything) {
  ASSERT_OK_AND_ASSIGN(Policy p, ParsePolicy(R"({"version":1,"rules":[]})", "empty.json"));
  EXPECT_TRUE(p.rules().empty());
}

TEST(ParsePolicy, AcceptsInt64Extremes) {
  EXPECT_OK(OneRule(R"({"claim":"a","gte":-9223372036854775808})"));
  EXPECT_OK(OneRule(R"({"claim":"a","lte":9223372036854775807})"));
}

TEST(ParsePolicy, NestingLimitIsSixteenLevels) {
  const std::string leaf = R"({"claim":"a","equals":1})";
  EXPECT_OK(OneRule(Nested(kMaxConditionDepth, leaf)));
  auto r = OneRule(Nested(kMaxConditionDepth + 1, leaf));
  EXPECT_CODE(r, Code::kInvalidArgument);
  EXPECT_THAT(r.error().message(), HasSubstr("conditions nested deeper than 16 levels"));
  EXPECT_THAT(r.error().message(), HasSubstr("test.json: $.rules[0].when.allOf[0].allOf[0]"));
}

TEST(ParsePolicy, DeepJsonIsRefusedBeforeItIsBuilt) {
  std::string deep =
      R"({"claim":"a","equals":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  auto r = OneRule(deep);
  EXPECT_CODE(r, Code::kInvalidArgument);
  EXPECT_THAT(r.error().message(), HasSubstr("test.json: $.rules[0].when.equals"));
  EXPECT_THAT(r.error().message(), HasSubstr("nested deeper than 40 levels"));
  std::string nots = R"({"claim":"a","equals":1})";
  for (int i = 0; i < 20; ++i) nots = R"({"not":)" + nots + "}";
  EXPECT_THAT(OneRule(nots).error().message(),
              HasSubstr("conditions nested deeper than 16 levels"));
}

TEST(ParsePolicy, RuleLimitIsOneThousand) {
  EXPECT_OK(ParsePolicy(ManyRules(kMaxRules), "many.json"));
  auto r = ParsePolicy(ManyRules(kMaxRules + 1), "many.json");
  EXPECT_CODE(r, Code::kInvalidArgument);
  EXPECT_THAT(r.error().message(),
              HasSubstr("many.json: $.rules: 1001 rules, more than the limit of 1000"));
}

TEST(ParsePolicy, RefusesOversizedText) {
  std::string big = R"({"version":1,"rules":[]})" + std::string(kMaxPolicyBytes, ' ');
  auto r = ParsePolicy(big, "big.json");
  EXPECT_CODE(r, Code::kInvalidArgument);
  EXPECT_THAT(r.error().message(), HasSubstr("big.json: policy is"));
}

TEST(ParsePolicy, DuplicateKeyPathNamesTheObject) {
  auto r = ParsePolicy(
      R"({"version":1,"rules":[{"name":"a","keys":["k"],"when":{"claim":"a","equals":1}},
      {"name":"b","keys":["k"],"when":{"allOf":[{"claim":"x","equals":1},{"claim":"y","claim":"z","equals":1}]}}]})",
      "dup.json");
  EXPECT_CODE(r, Code::kInvalidArgument);
  EXPECT_EQ(r.error().message(), "dup.json: $.rules[1].when.allOf[1]: duplicate key 'claim'");
}

TEST(ParsePolicy, MessagesEscapeHostileText) {
  auto r = OneRule(R"({"claim":"a","\u0001\n'x":1})");
  EXPECT_CODE(r, Code::kInvalidArgument);
  EXPECT_THAT(r.error().message(), HasSubstr("unknown operator '\\x01\\x0a\\x27x' in claim test"));
}

TEST(ParsePolicy, ComputesDevGateFlagPerRule) {
  ASSERT_OK_AND_ASSIGN(Policy p, ParsePolicy(R"({"version":1,"rules":[
      {"name":"a","keys":["k"],"when":{"claim":"tee","equals":"dev"}},
      {"name":"b","keys":["k"],"when":{"claim":"measurement","in_reference":"s"}}]})",
                                             "gate.json"));
  EXPECT_TRUE(p.rules()[0].names_dev_tee);
  EXPECT_FALSE(p.rules()[1].names_dev_tee);
}

TEST(ParsePolicy, EveryExampleParses) {
  const std::filesystem::path dir =
      std::filesystem::path(SIGIL_SOURCE_DIR) / "policies" / "examples";
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    SCOPED_TRACE(entry.path().string());
    ASSERT_OK_AND_ASSIGN(std::string text, ReadTextFile(entry.path().string()));
    ASSERT_OK_AND_ASSIGN(Policy p, ParsePolicy(text, entry.path().filename().string()));
    EXPECT_FALSE(p.rules().empty());
    ++count;
  }
  EXPECT_GE(count, 2);
}

}  // namespace
}  // namespace sigil::policy
