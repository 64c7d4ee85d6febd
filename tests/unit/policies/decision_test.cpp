// Rule selection, deny by default, reasons that do not leak policy values, traces, Explain,
// reference sets and the example policies.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "core/file_io.h"
#include "policies/policy.h"
#include "tests/support/matchers.h"
#include "tests/unit/policies/test_util.h"

namespace sigil::policy {
namespace {

using attestation::Claims;
using ::testing::HasSubstr;
using testing::MakeClaims;
using ::testing::Not;
using testing::OneRule;
using namespace std::string_literals;

constexpr char kTwoRules[] = R"({"version":1,"rules":[
  {"name":"models","keys":["llama*","mistral-7b"],"when":{"allOf":[
     {"claim":"tee","equals":"sev-snp"},{"claim":"debug","equals":false}]}},
  {"name":"data","keys":["dataset-*"],"when":{"claim":"measurement","in_reference":"trainers"}}]})";

Claims Snp(bool debug) { return MakeClaims({{"tee", "sev-snp"s}, {"debug", debug}}); }

TEST(Decision, DenyByDefaultWhenNoRuleCoversTheKey) {
  ASSERT_OK_AND_ASSIGN(Policy p, ParsePolicy(kTwoRules, "t.json"));
  const Decision d = Evaluate(p, Snp(false), "gpt-4", MapReferenceSets());
  EXPECT_FALSE(d.allow);
  EXPECT_EQ(d.rule, "");
  EXPECT_EQ(d.reason, "no rule covers key 'gpt-4'");
  EXPECT_TRUE(d.trace.empty());
}

TEST(Decision, EmptyPolicyDeniesEverything) {
  ASSERT_OK_AND_ASSIGN(Policy p, ParsePolicy(R"({"version":1,"rules":[]})", "e.json"));
  EXPECT_EQ(Evaluate(p, Snp(false), "k", MapReferenceSets()).reason, "no rule covers key 'k'");
}

TEST(Decision, OnlyRulesCoveringTheKeyAreConsidered) {
  ASSERT_OK_AND_ASSIGN(Policy p, ParsePolicy(kTwoRules, "t.json"));
  MapReferenceSets refs;
  refs.Add("trainers", "m1");
  Decision d = Evaluate(p, Snp(false), "llama3-70b", refs);
  EXPECT_TRUE(d.allow);
  EXPECT_EQ(d.rule, "models");
  EXPECT_EQ(d.reason, "rule 'models' allows key 'llama3-70b'");
  // The "data" rule would allow these claims plus a measurement, but does not cover the key.
  Claims c = Snp(true);
  c.Set("measurement", "m1"s);
  d = Evaluate(p, c, "mistral-7b", refs);
  EXPECT_FALSE(d.allow);
  EXPECT_EQ(d.reason, "rule 'models': claim 'debug' is true, expected false");
  d = Evaluate(p, c, "dataset-web", refs);
  EXPECT_TRUE(d.allow);
  EXPECT_EQ(d.rule, "data");
  EXPECT_FALSE(Evaluate(p, c, "mistral-7b-instruct", refs).allow);
}

TEST(Decision, FirstAllowingRuleWinsAndDenialListsEveryCoveringRule) {
  ASSERT_OK_AND_ASSIGN(Policy p, ParsePolicy(R"({"version":1,"rules":[
      {"name":"a","keys":["*"],"when":{"claim":"x","equals":1}},
      {"name":"b","keys":["k*"],"when":{"claim":"y","equals":true}},
      {"name":"c","keys":["k"],"when":{"claim":"debug","equals":false}}]})",
                                             "t.json"));
  Decision d = Evaluate(p, MakeClaims({{"y", true}, {"debug", false}}), "k", MapReferenceSets());
  EXPECT_TRUE(d.allow);
  EXPECT_EQ(d.rule, "b");
  d = Evaluate(p, MakeClaims({{"debug", true}}), "k", MapReferenceSets());
  EXPECT_FALSE(d.allow);
  EXPECT_EQ(d.reason,
            "no rule allows key 'k': rule 'a': claim 'x' is absent; rule 'b': claim 'y' is absent; "
            "rule 'c': claim 'debug' is true, expected false");
}

TEST(Decision, ReasonNeverLeaksPolicyStringsPatternsOrReferenceValues) {
  ASSERT_OK_AND_ASSIGN(Policy p, OneRule(R"({"anyOf":[
      {"claim":"measurement","equals":"secret-expected-measurement"},
      {"claim":"measurement","in":["secret-listed-1","secret-listed-2"]},
      {"claim":"measurement","in_reference":"approved"},
      {"claim":"measurement","matches":"^secret-pattern-[0-9]+$"}]})"));
  MapReferenceSets refs;
  refs.Add("approved", "secret-reference-value");
  const Decision d = Evaluate(p, MakeClaims({{"measurement", "workload-own-value"s}}), "k", refs);
  EXPECT_FALSE(d.allow);
  EXPECT_THAT(d.reason, Not(HasSubstr("secret")));
  EXPECT_THAT(d.reason, HasSubstr("'workload-own-value'"));
  EXPECT_THAT(d.reason, HasSubstr("claim 'measurement' is not in reference set 'approved'"));
  // The trace (audit log, `sigil policy test`) has the values.
  const std::string explained = Explain(d);
  EXPECT_THAT(explained, HasSubstr("secret-expected-measurement"));
  EXPECT_THAT(explained, HasSubstr("secret-listed-2"));
  EXPECT_THAT(explained, HasSubstr("^secret-pattern-[0-9]+$"));
}

TEST(Decision, TraceIsPreOrderWithJsonPaths) {
  ASSERT_OK_AND_ASSIGN(Policy p, OneRule(R"({"allOf":[
      {"claim":"tee","in":["sev-snp","tdx"]},
      {"claim":"measurement","in_reference":"approved-engines"},
      {"anyOf":[{"claim":"x","in":["a","b"]},{"not":{"claim":"y","equals":"z"}}]}]})",
                                         "demo-engine"));
  MapReferenceSets refs;
  refs.Add("approved-engines", "ab12");
  const Decision d =
      Evaluate(p, MakeClaims({{"tee", "tdx"s}, {"measurement", "cd34"s}}), "k", refs);
  EXPECT_FALSE(d.allow);
  EXPECT_EQ(d.reason,
            "rule 'demo-engine': claim 'measurement' is not in reference set 'approved-engines'");
  std::vector<std::string> paths;
  for (const ClauseTrace& t : d.trace) paths.push_back(t.path);
  EXPECT_THAT(paths, ::testing::ElementsAre(
                         "$.rules[0]", "$.rules[0].when", "$.rules[0].when.allOf[0]",
                         "$.rules[0].when.allOf[1]", "$.rules[0].when.allOf[2]",
                         "$.rules[0].when.allOf[2].anyOf[0]", "$.rules[0].when.allOf[2].anyOf[1]",
                         "$.rules[0].when.allOf[2].anyOf[1].not"));
  EXPECT_FALSE(d.trace[0].result);
  EXPECT_EQ(d.trace[0].detail, "rule 'demo-engine' covers key 'k' (pattern 'k')");
  // x and y are absent: both tests are errors, the `not` over y too (it used to hold), so the
  // anyOf is an error; the allOf is false all the same, because the measurement test is false.
  EXPECT_EQ(d.trace[1].detail, "allOf: 1 of 3 hold, 1 in error");
  EXPECT_FALSE(d.trace[1].error);
  EXPECT_TRUE(d.trace[2].result);
  EXPECT_EQ(d.trace[3].detail,
            "claim 'measurement' = 'cd34' is not in reference set 'approved-engines'");
  EXPECT_FALSE(d.trace[4].result);
  EXPECT_TRUE(d.trace[4].error);
  EXPECT_TRUE(d.trace[5].error);
  EXPECT_FALSE(d.trace[6].result);
  EXPECT_TRUE(d.trace[6].error);
  EXPECT_TRUE(d.trace[7].error);
  EXPECT_EQ(d.trace[7].detail, "claim 'y' is absent");
}

TEST(Decision, ExplainRendersVerdictReasonAndIndentedTrace) {
  ASSERT_OK_AND_ASSIGN(Policy p, OneRule(R"({"allOf":[{"claim":"debug","equals":false},
      {"claim":"tcb.svn","gte":3}]})"));
  const Decision d = Evaluate(p, MakeClaims({{"debug", false}, {"tcb.svn", std::int64_t{2}}}), "k",
                              MapReferenceSets());
  EXPECT_EQ(Explain(d),
            "DENY\n"
            "reason: rule 'r': claim 'tcb.svn' is 2, expected at least 3\n"
            "trace:\n"
            "  FAIL  $.rules[0]  rule 'r' covers key 'k' (pattern 'k')\n"
            "    FAIL  $.rules[0].when  allOf: 1 of 2 hold\n"
            "      pass  $.rules[0].when.allOf[0]  claim 'debug' = false, equals false\n"
            "      FAIL  $.rules[0].when.allOf[1]  claim 'tcb.svn' is 2, expected at least 3\n");
  const Decision ok = Evaluate(p, MakeClaims({{"debug", false}, {"tcb.svn", std::int64_t{3}}}), "k",
                               MapReferenceSets());
  EXPECT_THAT(Explain(ok),
              ::testing::StartsWith("ALLOW by rule 'r'\nreason: rule 'r' allows key 'k'\n"));
}

TEST(Decision, HostileKeyAndClaimValuesAreEscaped) {
  ASSERT_OK_AND_ASSIGN(Policy p, OneRule(R"({"claim":"v","equals":"x"})", "r", R"(["*"])"));
  const Decision d = Evaluate(p, MakeClaims({{"v", "a\nb'"s}}), "key\x1b[31m", MapReferenceSets());
  EXPECT_THAT(d.reason, HasSubstr("claim 'v' is 'a\\x0ab\\x27'"));
  EXPECT_THAT(Explain(d), HasSubstr("covers key 'key\\x1b[31m'"));
  EXPECT_THAT(Explain(d), Not(HasSubstr("\x1b")));
}

TEST(ReferenceSets, MapSemantics) {
  MapReferenceSets refs;
  EXPECT_FALSE(refs.Exists("s"));
  EXPECT_FALSE(refs.Contains("s", "v"));
  refs.AddSet("s");
  EXPECT_TRUE(refs.Exists("s"));
  EXPECT_FALSE(refs.Contains("s", "v"));
  refs.Add("s", "v");
  refs.Add("t", "w");
  EXPECT_TRUE(refs.Contains("s", "v"));
  EXPECT_FALSE(refs.Contains("s", "V"));
  EXPECT_FALSE(refs.Contains("s", "w"));
  EXPECT_FALSE(refs.Contains("t", "v"));
  EXPECT_TRUE(refs.Exists("t"));
}

TEST(Examples, DemoDevAdmitsTheDemoEngineOnly) {
  ASSERT_OK_AND_ASSIGN(std::string text,
                       ReadTextFile(SIGIL_SOURCE_DIR "/policies/examples/demo-dev.json"));
  ASSERT_OK_AND_ASSIGN(Policy p, ParsePolicy(text, "demo-dev.json"));
  MapReferenceSets refs;
  refs.Add("demo-engines", "e1");
  Claims c = MakeClaims({{"tee", "dev"s}, {"debug", false}, {"measurement", "e1"s},
                         {"workload.mode", "sealed-memory"s}, {"workload.engine", "e1"s}});
  EXPECT_TRUE(Evaluate(p, c, "demo-tinyllama", refs).allow);
  EXPECT_EQ(Evaluate(p, c, "llama3", refs).reason, "no rule covers key 'llama3'");
  c.Set("workload.mode", "stream"s);
  EXPECT_EQ(Evaluate(p, c, "demo-tinyllama", refs).reason,
            "rule 'demo-engine': claim 'workload.mode' is 'stream', which is not the listed value");
  c.Set("workload.mode", "sealed-memory"s);
  c.Set("measurement", "e2"s);
  EXPECT_EQ(Evaluate(p, c, "demo-tinyllama", refs).reason,
            "rule 'demo-engine': claim 'measurement' is not in reference set 'demo-engines'");
}

TEST(Examples, StrictProductionAdmitsEachTeeWithItsOwnTcbStatusAndRefusesDev) {
  ASSERT_OK_AND_ASSIGN(std::string text,
                       ReadTextFile(SIGIL_SOURCE_DIR "/policies/examples/strict-production.json"));
  ASSERT_OK_AND_ASSIGN(Policy p, ParsePolicy(text, "strict-production.json"));
  MapReferenceSets refs;
  refs.Add("approved-guests", "g1");
  refs.Add("approved-engines", "e1");
  Claims c = MakeClaims({{"tee", "tdx"s}, {"debug", false}, {"measurement", "g1"s},
                         {"tcb.status", "UpToDate"s}, {"workload.mode", "sealed-memory"s},
                         {"workload.engine", "e1"s}});
  EXPECT_TRUE(Evaluate(p, c, "llama3", refs).allow);
  c.Set("tcb.status", "OutOfDate"s);
  EXPECT_FALSE(Evaluate(p, c, "llama3", refs).allow);
  // SEV-SNP's verifier says "Endorsed", never "UpToDate": the old example never admitted SNP.
  c.Set("tee", "sev-snp"s);
  c.Set("tcb.status", "Endorsed"s);
  EXPECT_TRUE(Evaluate(p, c, "llama3", refs).allow) << Evaluate(p, c, "llama3", refs).reason;
  c.Set("tcb.status", "UpToDate"s);
  EXPECT_FALSE(Evaluate(p, c, "llama3", refs).allow);
  c.Set("tcb.status", "Endorsed"s);
  c.Set("tee", "dev"s);
  EXPECT_EQ(Evaluate(p, c, "llama3", refs).reason,
            "rule 'prod-inference' does not name the dev TEE explicitly");
  EXPECT_EQ(Evaluate(p, c, "dataset-web", refs).reason,
            "rule 'prod-datasets' does not name the dev TEE explicitly");
}

}  // namespace
}  // namespace sigil::policy
