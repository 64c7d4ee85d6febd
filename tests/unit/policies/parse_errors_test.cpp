// Malformed policies: each is refused with a message naming the file, the JSON path and the
// problem.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "policies/parse.h"
#include "tests/support/matchers.h"

namespace sigil::policy {
namespace {

struct BadCase {
  const char* name;
  const char* text;
  const char* message;  // expected substring of the error message
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

std::string PrintName(const ::testing::TestParamInfo<BadCase>& info) { return info.param.name; }

class ParseErrorTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(ParseErrorTest, RefusedWithFileAndPath) {
  const BadCase& c = GetParam();
  auto r = ParsePolicy(c.text, "acme.json");
  EXPECT_CODE(r, Code::kInvalidArgument);
  EXPECT_THAT(r.error().message(), ::testing::HasSubstr(c.message));
  EXPECT_THAT(r.error().message(), ::testing::StartsWith("acme.json: "));
}

// Wraps one rule's `when` in an otherwise valid policy.
#define WHEN(cond) R"({"version":1,"rules":[{"name":"r","keys":["k"],"when":)" cond "}]}"

INSTANTIATE_TEST_SUITE_P(
    Table, ParseErrorTest,
    ::testing::Values(
        BadCase{"NotJson", "{", "acme.json: invalid JSON at byte"},
        BadCase{"TrailingComma", R"({"version":1,"rules":[],})", "acme.json: invalid JSON"},
        BadCase{"Empty", "", "acme.json: invalid JSON"},
        BadCase{"TopLevelArray", "[]",
                "acme.json: $: a policy must be a JSON object, got an array"},
        BadCase{"MissingVersion", R"({"rules":[]})", "acme.json: $: missing field 'version'"},
        BadCase{"MissingRules", R"({"version":1})", "acme.json: $: missing field 'rules'"},
        BadCase{"Version2", R"({"version":2,"rules":[]})",
                "acme.json: $.version: unsupported policy version '2' (expected 1)"},
        BadCase{"VersionString", R"({"version":"1","rules":[]})",
                "acme.json: $.version: unsupported"},
        BadCase{"VersionFloat", R"({"version":1.0,"rules":[]})",
                "acme.json: $.version: unsupported"},
        BadCase{"UnknownTopLevel", R"({"version":1,"rules":[],"rule":[]})",
                "acme.json: $: unknown field 'rule' (expected version, rules, approvals)"},
        BadCase{"DuplicateTopLevelKey", R"({"version":1,"version":1,"rules":[]})",
                "acme.json: $: duplicate key 'version'"},
        BadCase{"RulesNotArray", R"({"version":1,"rules":{}})",
                "acme.json: $.rules: expected an array of rules, got an object"},
        BadCase{"RuleNotObject", R"({"version":1,"rules":[7]})",
                "acme.json: $.rules[0]: a rule must be an object, got an integer"},
        BadCase{"RuleMissingName",
                R"({"version":1,"rules":[{"keys":["k"],"when":{"claim":"a","equals":1}}]})",
                "acme.json: $.rules[0]: missing field 'name'"},
        BadCase{"RuleMissingWhen", R"({"version":1,"rules":[{"name":"r","keys":["k"]}]})",
                "acme.json: $.rules[0]: missing field 'when'"},
        BadCase{
            "RuleUnknownField",
            R"({"version":1,"rules":[{"name":"r","key":["k"],"keys":["k"],"when":{"claim":"a","equals":1}}]})",
            "acme.json: $.rules[0]: unknown field 'key' (expected name, keys, when, limits, single_use_token)"},
        BadCase{
            "NameNotString",
            R"({"version":1,"rules":[{"name":1,"keys":["k"],"when":{"claim":"a","equals":1}}]})",
            "acme.json: $.rules[0].name: expected a string, got an integer"},
        BadCase{
            "NameWithSpace",
            R"({"version":1,"rules":[{"name":"a b","keys":["k"],"when":{"claim":"a","equals":1}}]})",
            "acme.json: $.rules[0].name: invalid rule name 'a b'"},
        BadCase{"DuplicateRuleName",
                R"({"version":1,"rules":[{"name":"r","keys":["a"],"when":{"claim":"a","equals":1}},
                                         {"name":"r","keys":["b"],"when":{"claim":"a","equals":1}}]})",
                "acme.json: $.rules[1].name: duplicate rule name 'r'"},
        BadCase{"EmptyKeys",
                R"({"version":1,"rules":[{"name":"r","keys":[],"when":{"claim":"a","equals":1}}]})",
                "acme.json: $.rules[0].keys: must list at least one key name or glob"},
        BadCase{
            "KeysNotArray",
            R"({"version":1,"rules":[{"name":"r","keys":"k","when":{"claim":"a","equals":1}}]})",
            "acme.json: $.rules[0].keys: expected an array of key names or globs, got a string"},
        BadCase{
            "KeyNotString",
            R"({"version":1,"rules":[{"name":"r","keys":["k",3],"when":{"claim":"a","equals":1}}]})",
            "acme.json: $.rules[0].keys[1]: expected a key name or glob, got an integer"},
        BadCase{
            "EmptyKeyName",
            R"({"version":1,"rules":[{"name":"r","keys":[""],"when":{"claim":"a","equals":1}}]})",
            "acme.json: $.rules[0].keys[0]: empty key name"},
        BadCase{
            "ControlCharInKey",
            R"({"version":1,"rules":[{"name":"r","keys":["a\nb"],"when":{"claim":"a","equals":1}}]})",
            "acme.json: $.rules[0].keys[0]: control character in key pattern 'a\\x0ab'"},
        BadCase{
            "UnknownOperatorEq",
            R"({"version":1,"rules":[{"name":"a","keys":["k"],"when":{"claim":"a","equals":1}},
                    {"name":"b","keys":["k"],"when":{"allOf":[{"eq":1}]}}]})",
            "acme.json: $.rules[1].when.allOf[0]: unknown operator 'eq' (expected one of allOf, "
            "anyOf, not, forEachGpu, or a claim test)"},
        BadCase{
            "TestOpWithoutClaim", WHEN(R"({"equals":1})"),
            "acme.json: $.rules[0].when: unknown operator 'equals' (expected one of allOf, anyOf, "
            "not, forEachGpu, or a claim test) (a claim test needs \"claim\")"},
        BadCase{"EmptyCondition", WHEN("{}"), "acme.json: $.rules[0].when: empty condition"},
        BadCase{"ConditionNotObject", WHEN(R"({"allOf":[[]]})"),
                "acme.json: $.rules[0].when.allOf[0]: a condition must be an object, got an array"},
        BadCase{"TwoCombinators",
                WHEN(R"({"allOf":[{"claim":"a","equals":1}],"anyOf":[{"claim":"a","equals":1}]})"),
                "acme.json: $.rules[0].when: a condition must have exactly one of allOf, anyOf, "
                "not, forEachGpu or claim"},
        BadCase{"ClaimAndCombinator",
                WHEN(R"({"claim":"a","equals":1,"not":{"claim":"a","equals":1}})"),
                "acme.json: $.rules[0].when: a claim test cannot also have 'not'"},
        BadCase{"EmptyAllOf", WHEN(R"({"allOf":[]})"),
                "acme.json: $.rules[0].when.allOf: must not be empty"},
        BadCase{"EmptyAnyOf", WHEN(R"({"anyOf":[]})"),
                "acme.json: $.rules[0].when.anyOf: must not be empty"},
        BadCase{"AllOfNotArray", WHEN(R"({"allOf":{"claim":"a","equals":1}})"),
                "acme.json: $.rules[0].when.allOf: expected an array of conditions, got an object"},
        BadCase{"NotWithArray", WHEN(R"({"not":[{"claim":"a","equals":1}]})"),
                "acme.json: $.rules[0].when.not: a condition must be an object, got an array"},
        BadCase{
            "NoOperator", WHEN(R"({"claim":"debug"})"),
            "acme.json: $.rules[0].when: claim test for 'debug' has no operator (expected one of "
            "equals, in, gte, lte, in_reference, matches, present, version_gte, hex_version_gte, "
            "indices_in_reference)"},
        BadCase{"TwoOperators", WHEN(R"({"claim":"debug","equals":false,"in":[false]})"),
                "acme.json: $.rules[0].when: claim test for 'debug' has more than one operator "
                "('equals' and 'in')"},
        BadCase{"UnknownTestOperator", WHEN(R"({"claim":"debug","eq":false})"),
                "acme.json: $.rules[0].when: unknown operator 'eq' in claim test"},
        BadCase{"DuplicateOperatorKey", WHEN(R"({"claim":"debug","equals":false,"equals":true})"),
                "acme.json: $.rules[0].when: duplicate key 'equals'"},
        BadCase{"ClaimNotString", WHEN(R"({"claim":5,"equals":1})"),
                "acme.json: $.rules[0].when.claim: expected a claim name, got an integer"},
        BadCase{"ClaimEmpty", WHEN(R"({"claim":"","equals":1})"),
                "acme.json: $.rules[0].when.claim: invalid claim name ''"},
        BadCase{"EqualsNull", WHEN(R"({"claim":"a","equals":null})"),
                "acme.json: $.rules[0].when.equals: expected a string, an integer or a boolean, "
                "got null"},
        BadCase{"EqualsArray", WHEN(R"({"claim":"a","equals":["x"]})"),
                "acme.json: $.rules[0].when.equals: expected a string, an integer or a boolean, "
                "got an array"},
        BadCase{
            "EqualsFloat", WHEN(R"({"claim":"a","equals":1.5})"),
            "acme.json: $.rules[0].when.equals: expected a string, an integer or a boolean, got a "
            "non-integer number"},
        BadCase{"EqualsOutOfRange", WHEN(R"({"claim":"a","equals":18446744073709551615})"),
                "acme.json: $.rules[0].when.equals: integer out of range"},
        BadCase{"InEmpty", WHEN(R"({"claim":"a","in":[]})"),
                "acme.json: $.rules[0].when.in: must not be empty"},
        BadCase{"InNotArray", WHEN(R"({"claim":"a","in":"x"})"),
                "acme.json: $.rules[0].when.in: expected an array, got a string"},
        BadCase{"InMixedTypes", WHEN(R"({"claim":"a","in":["x",1]})"),
                "acme.json: $.rules[0].when.in[1]: mixed types: an integer after a string"},
        BadCase{"InMixedBool", WHEN(R"({"claim":"a","in":[1,2,true]})"),
                "acme.json: $.rules[0].when.in[2]: mixed types: a boolean after an integer"},
        BadCase{"InNested", WHEN(R"({"claim":"a","in":[["x"]]})"),
                "acme.json: $.rules[0].when.in[0]: expected a string, an integer or a boolean"},
        BadCase{"GteFloat", WHEN(R"({"claim":"a","gte":3.5})"),
                "acme.json: $.rules[0].when.gte: expected an integer, got a non-integer number"},
        BadCase{"LteString", WHEN(R"({"claim":"a","lte":"3"})"),
                "acme.json: $.rules[0].when.lte: expected an integer, got a string"},
        BadCase{"GteBool", WHEN(R"({"claim":"a","gte":true})"),
                "acme.json: $.rules[0].when.gte: expected an integer, got a boolean"},
        BadCase{"GteOutOfRange", WHEN(R"({"claim":"a","gte":9223372036854775808})"),
                "acme.json: $.rules[0].when.gte: integer out of range"},
        BadCase{"InReferenceEmpty", WHEN(R"({"claim":"a","in_reference":""})"),
                "acme.json: $.rules[0].when.in_reference: reference set name '' is invalid"},
        BadCase{
            "InReferenceArray", WHEN(R"({"claim":"a","in_reference":["s"]})"),
            "acme.json: $.rules[0].when.in_reference: expected a reference set name, got an array"},
        BadCase{"RegexInvalid", WHEN(R"({"claim":"a","matches":"("})"),
                "acme.json: $.rules[0].when.matches: invalid regular expression"},
        BadCase{"RegexEmpty", WHEN(R"({"claim":"a","matches":""})"),
                "acme.json: $.rules[0].when.matches: empty regular expression"},
        BadCase{"RegexNotString", WHEN(R"({"claim":"a","matches":1})"),
                "acme.json: $.rules[0].when.matches: expected a regular expression string, got an "
                "integer"},
        BadCase{"RegexBackReference", WHEN(R"({"claim":"a","matches":"(a)\\1"})"),
                "acme.json: $.rules[0].when.matches: invalid regular expression"},
        BadCase{"RegexTooComplex", WHEN(R"({"claim":"a","matches":"((a{50}){50}){50}"})"),
                "acme.json: $.rules[0].when.matches: regular expression is too complex"},
        BadCase{"RegexHugeCount", WHEN(R"({"claim":"a","matches":"a{99999999999999999999}"})"),
                "acme.json: $.rules[0].when.matches: regular expression is too complex"},
        BadCase{"RegexTooLong",
                WHEN(R"({"claim":"a","matches":")"
                     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                     R"("})"),
                "acme.json: $.rules[0].when.matches: regular expression is 300 bytes, more than "
                "the limit of 256"},
        BadCase{"DeepInAnyOf",
                WHEN(R"({"anyOf":[{"claim":"a","equals":1},{"not":{"claim":"b","gte":"x"}}]})"),
                "acme.json: $.rules[0].when.anyOf[1].not.gte: expected an integer, got a string"},
        BadCase{"CommentsOnlyInJson", "// just a comment\n", "acme.json: invalid JSON"}),
    PrintName);

#undef WHEN

}  // namespace
}  // namespace sigil::policy
