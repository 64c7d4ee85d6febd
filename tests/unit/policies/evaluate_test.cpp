// Truth tables for every operator, absent claims and type mismatches, with the public reason.
#include "policies/evaluate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "tests/support/matchers.h"
#include "tests/unit/policies/test_util.h"

namespace sigil::policy {
namespace {

using attestation::Claims;
using ::testing::HasSubstr;
using testing::MakeClaims;
using testing::OneRule;
using namespace std::string_literals;

struct TruthCase {
  const char* name;
  const char* when;
  Claims claims;  // `tee` is set to "sev-snp" unless the case sets it
  bool allow;
  const char* reason;  // expected substring of Decision::reason
};

void PrintTo(const TruthCase& c, std::ostream* os) { *os << c.name; }

std::string PrintName(const ::testing::TestParamInfo<TruthCase>& info) { return info.param.name; }

MapReferenceSets Refs() {
  MapReferenceSets refs;
  refs.Add("approved-engines", "aa11");
  refs.Add("approved-engines", "bb22");
  refs.AddSet("empty-set");
  return refs;
}

class TruthTableTest : public ::testing::TestWithParam<TruthCase> {};

TEST_P(TruthTableTest, Evaluates) {
  const TruthCase& c = GetParam();
  ASSERT_OK_AND_ASSIGN(Policy p, OneRule(c.when));
  Claims claims = c.claims;
  if (claims.Find("tee") == nullptr) claims.Set("tee", "sev-snp"s);
  const Decision d = Evaluate(p, claims, "k", Refs());
  EXPECT_EQ(d.allow, c.allow) << d.reason;
  EXPECT_THAT(d.reason, HasSubstr(c.reason));
  EXPECT_EQ(d.rule, c.allow ? "r" : "");
  ASSERT_FALSE(d.trace.empty());
  EXPECT_EQ(d.trace.front().path, "$.rules[0]");
  EXPECT_EQ(d.trace.front().result, c.allow);
}

INSTANTIATE_TEST_SUITE_P(
    Equals, TruthTableTest,
    ::testing::Values(
        TruthCase{"StringEqual", R"({"claim":"tcb.status","equals":"UpToDate"})",
                  MakeClaims({{"tcb.status", "UpToDate"s}}), true, "rule 'r' allows key 'k'"},
        TruthCase{"StringDiffers", R"({"claim":"tcb.status","equals":"UpToDate"})",
                  MakeClaims({{"tcb.status", "OutOfDate"s}}), false,
                  "rule 'r': claim 'tcb.status' is 'OutOfDate', which is not the listed value"},
        TruthCase{"StringCaseMatters", R"({"claim":"tcb.status","equals":"UpToDate"})",
                  MakeClaims({{"tcb.status", "uptodate"s}}), false, "not the listed value"},
        TruthCase{"BoolEqual", R"({"claim":"debug","equals":false})",
                  MakeClaims({{"debug", false}}), true, "allows"},
        TruthCase{"BoolDiffers", R"({"claim":"debug","equals":false})",
                  MakeClaims({{"debug", true}}), false,
                  "rule 'r': claim 'debug' is true, expected false"},
        TruthCase{"IntEqual", R"({"claim":"svn","equals":3})",
                  MakeClaims({{"svn", std::int64_t{3}}}), true, "allows"},
        TruthCase{"IntDiffers", R"({"claim":"svn","equals":3})",
                  MakeClaims({{"svn", std::int64_t{2}}}), false, "claim 'svn' is 2, expected 3"},
        TruthCase{"StringVsBool", R"({"claim":"debug","equals":false})",
                  MakeClaims({{"debug", "false"s}}), false,
                  "claim 'debug' is a string, expected a boolean"},
        TruthCase{"BoolVsInt", R"({"claim":"svn","equals":1})", MakeClaims({{"svn", true}}), false,
                  "claim 'svn' is a boolean, expected an integer"},
        TruthCase{"IntVsString", R"({"claim":"svn","equals":"3"})",
                  MakeClaims({{"svn", std::int64_t{3}}}), false,
                  "claim 'svn' is an integer, expected a string"},
        TruthCase{"Absent", R"({"claim":"debug","equals":false})", MakeClaims({}), false,
                  "rule 'r': claim 'debug' is absent"}),
    PrintName);

INSTANTIATE_TEST_SUITE_P(
    In, TruthTableTest,
    ::testing::Values(TruthCase{"StringMember", R"({"claim":"tee","in":["sev-snp","tdx"]})",
                                MakeClaims({}), true, "allows"},
                      TruthCase{"StringNonMember", R"({"claim":"tee","in":["sev-snp","tdx"]})",
                                MakeClaims({{"tee", "tpm"s}}), false,
                                "claim 'tee' is 'tpm', which is not one of the 2 listed values"},
                      TruthCase{"IntMember", R"({"claim":"svn","in":[1,2]})",
                                MakeClaims({{"svn", std::int64_t{2}}}), true, "allows"},
                      TruthCase{"IntNonMember", R"({"claim":"svn","in":[1,2]})",
                                MakeClaims({{"svn", std::int64_t{3}}}), false,
                                "claim 'svn' is 3, expected one of [1, 2]"},
                      TruthCase{"BoolMember", R"({"claim":"debug","in":[false]})",
                                MakeClaims({{"debug", false}}), true, "allows"},
                      TruthCase{"TypeMismatch", R"({"claim":"svn","in":["1","2"]})",
                                MakeClaims({{"svn", std::int64_t{1}}}), false,
                                "claim 'svn' is an integer, expected a string"},
                      TruthCase{"Absent", R"({"claim":"x","in":["a"]})", MakeClaims({}), false,
                                "claim 'x' is absent"}),
    PrintName);

INSTANTIATE_TEST_SUITE_P(
    Bounds, TruthTableTest,
    ::testing::Values(
        TruthCase{"GteEqual", R"({"claim":"tcb.svn","gte":3})",
                  MakeClaims({{"tcb.svn", std::int64_t{3}}}), true, "allows"},
        TruthCase{"GteAbove", R"({"claim":"tcb.svn","gte":3})",
                  MakeClaims({{"tcb.svn", std::int64_t{9}}}), true, "allows"},
        TruthCase{"GteBelow", R"({"claim":"tcb.svn","gte":3})",
                  MakeClaims({{"tcb.svn", std::int64_t{2}}}), false,
                  "rule 'r': claim 'tcb.svn' is 2, expected at least 3"},
        TruthCase{"LteEqual", R"({"claim":"n","lte":-1})", MakeClaims({{"n", std::int64_t{-1}}}),
                  true, "allows"},
        TruthCase{"LteAbove", R"({"claim":"n","lte":3})", MakeClaims({{"n", std::int64_t{4}}}),
                  false, "claim 'n' is 4, expected at most 3"},
        TruthCase{"GteMinimum", R"({"claim":"n","gte":-9223372036854775808})",
                  MakeClaims({{"n", std::numeric_limits<std::int64_t>::min()}}), true, "allows"},
        TruthCase{"LteMaximum", R"({"claim":"n","lte":9223372036854775807})",
                  MakeClaims({{"n", std::numeric_limits<std::int64_t>::max()}}), true, "allows"},
        TruthCase{"StringClaim", R"({"claim":"n","gte":3})", MakeClaims({{"n", "7"s}}), false,
                  "claim 'n' is a string, expected an integer"},
        TruthCase{"BoolClaim", R"({"claim":"n","lte":3})", MakeClaims({{"n", true}}), false,
                  "claim 'n' is a boolean, expected an integer"},
        TruthCase{"Absent", R"({"claim":"n","gte":0})", MakeClaims({}), false,
                  "claim 'n' is absent"}),
    PrintName);

INSTANTIATE_TEST_SUITE_P(
    InReference, TruthTableTest,
    ::testing::Values(
        TruthCase{"Member", R"({"claim":"measurement","in_reference":"approved-engines"})",
                  MakeClaims({{"measurement", "bb22"s}}), true, "allows"},
        TruthCase{"NonMember", R"({"claim":"measurement","in_reference":"approved-engines"})",
                  MakeClaims({{"measurement", "cc33"s}}), false,
                  "rule 'r': claim 'measurement' is not in reference set 'approved-engines'"},
        TruthCase{"EmptySet", R"({"claim":"measurement","in_reference":"empty-set"})",
                  MakeClaims({{"measurement", "aa11"s}}), false,
                  "is not in reference set 'empty-set'"},
        TruthCase{"MissingSet", R"({"claim":"measurement","in_reference":"nope"})",
                  MakeClaims({{"measurement", "aa11"s}}), false,
                  "reference set 'nope' (for claim 'measurement') does not exist"},
        TruthCase{"IntClaim", R"({"claim":"measurement","in_reference":"approved-engines"})",
                  MakeClaims({{"measurement", std::int64_t{7}}}), false,
                  "claim 'measurement' is an integer, expected a string"},
        TruthCase{"Absent", R"({"claim":"measurement","in_reference":"approved-engines"})",
                  MakeClaims({}), false, "claim 'measurement' is absent"}),
    PrintName);

INSTANTIATE_TEST_SUITE_P(
    Matches, TruthTableTest,
    ::testing::Values(
        TruthCase{"Match", R"({"claim":"platform.id","matches":"^[0-9a-f]{16}$"})",
                  MakeClaims({{"platform.id", "0123456789abcdef"s}}), true, "allows"},
        TruthCase{"TooShort", R"({"claim":"platform.id","matches":"^[0-9a-f]{16}$"})",
                  MakeClaims({{"platform.id", "0123456789abcde"s}}), false,
                  "claim 'platform.id' is '0123456789abcde', which does not match the pattern"},
        TruthCase{"WholeValueOnly", R"({"claim":"platform.id","matches":"[0-9a-f]{4}"})",
                  MakeClaims({{"platform.id", "abcd1234"s}}), false, "does not match the pattern"},
        TruthCase{"UnanchoredWholeMatch", R"({"claim":"platform.id","matches":"[0-9a-f]{8}"})",
                  MakeClaims({{"platform.id", "abcd1234"s}}), true, "allows"},
        TruthCase{"NoMultilineEscape", R"({"claim":"v","matches":"^ok$"})",
                  MakeClaims({{"v", "ok\nextra"s}}), false, "does not match"},
        TruthCase{"NestedStarsStayPolynomial", R"({"claim":"v","matches":"(a*)*b"})",
                  MakeClaims({{"v", std::string(1000, 'a')}}), false, "does not match"},
        TruthCase{"TooLong", R"({"claim":"v","matches":".*"})",
                  MakeClaims({{"v", std::string(1025, 'a')}}), false,
                  "claim 'v' is too long to match (1025 bytes, limit 1024)"},
        TruthCase{"IntClaim", R"({"claim":"v","matches":"1"})",
                  MakeClaims({{"v", std::int64_t{1}}}), false,
                  "claim 'v' is an integer, expected a string"},
        TruthCase{"Absent", R"({"claim":"v","matches":".*"})", MakeClaims({}), false,
                  "claim 'v' is absent"}),
    PrintName);

INSTANTIATE_TEST_SUITE_P(
    Combinators, TruthTableTest,
    ::testing::Values(
        TruthCase{"AllOfAllHold",
                  R"({"allOf":[{"claim":"a","equals":1},{"claim":"b","equals":true}]})",
                  MakeClaims({{"a", std::int64_t{1}}, {"b", true}}), true, "allows"},
        TruthCase{
            "AllOfFirstFailureIsTheReason",
            R"({"allOf":[{"claim":"a","equals":1},{"claim":"b","equals":true},{"claim":"c","equals":1}]})",
            MakeClaims({{"a", std::int64_t{1}}, {"b", false}}), false,
            "rule 'r': claim 'b' is false, expected true"},
        TruthCase{"AnyOfOneHolds",
                  R"({"anyOf":[{"claim":"a","equals":1},{"claim":"b","equals":true}]})",
                  MakeClaims({{"b", true}}), true, "allows"},
        TruthCase{
            "AnyOfNoneHolds",
            R"({"anyOf":[{"claim":"x","in":["a","b"]},{"claim":"b","equals":true}]})",
            MakeClaims({{"x", "c"s}}), false,
            "none of the alternatives holds: (claim 'x' is 'c', which is not one of the 2 listed "
            "values) or (claim 'b' is absent)"},
        TruthCase{"NotHolds", R"({"not":{"claim":"debug","equals":true}})",
                  MakeClaims({{"debug", false}}), true, "allows"},
        TruthCase{"NotFails", R"({"not":{"claim":"debug","equals":true}})",
                  MakeClaims({{"debug", true}}), false,
                  "rule 'r': forbidden: claim 'debug' is true"},
        // An absent claim is an error, not false, so `not` over it does not hold (it did).
        TruthCase{"NotOfAbsentIsAnError", R"({"not":{"claim":"y","equals":"z"}})", MakeClaims({}),
                  false, "rule 'r': claim 'y' is absent"},
        TruthCase{"DoubleNot", R"({"not":{"not":{"claim":"debug","equals":false}}})",
                  MakeClaims({{"debug", false}}), true, "allows"},
        TruthCase{"Nested",
                  R"({"allOf":[{"claim":"tcb.svn","gte":3},{"anyOf":[{"claim":"x","in":["a","b"]},
                      {"not":{"claim":"y","equals":"z"}}]}]})",
                  MakeClaims({{"tcb.svn", std::int64_t{3}}, {"x", "q"s}, {"y", "z"s}}), false,
                  "forbidden: claim 'y' equals the listed value"}),
    PrintName);

}  // namespace
}  // namespace sigil::policy
