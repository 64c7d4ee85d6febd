// `sigil policy validate|test` read policies, claims and reference files exactly as the broker
// does (ParseJson: duplicate keys refused; Claims::FromJson: int64 only; reference sets under
// the store's name rule), and `sigil policy test` gives the broker's verdict for the same
// claims: here the claims are read back as the broker reads a token's (token.cpp) and evaluated
// in-process, and the CLI must agree.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "attestation/claims.h"
#include "core/file_io.h"
#include "core/json.h"
#include "policies/policy.h"
#include "tests/support/matchers.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace sigil::policy {
namespace {

using ::testing::HasSubstr;

class PolicyCli : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = dir_.File(name);
    EXPECT_TRUE(WriteFileAtomic(path, AsBytes(text), 0600).has_value());
    return path;
  }
  sigil::testing::CommandResult Test(const std::string& policy, const std::string& claims, const std::string& refs = "",
                                     const std::string& key = "k") {
    std::vector<std::string> argv{sigil::testing::BinPath("sigil"), "policy", "test", Write("p.json", policy),
                                  "--claims", Write("c.json", claims), "--key", key};
    if (!refs.empty()) {
      argv.push_back("--refs");
      argv.push_back(Write("r.json", refs));
    }
    return sigil::testing::Run(argv);
  }
  sigil::testing::TempDir dir_;
};

constexpr char kSvnPolicy[] = R"({"version":1,"rules":[{"name":"r","keys":["k"],
  "when":{"claim":"svn","gte":0}}]})";

// The rule's memory is the broker's to apply: `policy test` states it under an ALLOW, and only then.
TEST_F(PolicyCli, TestStatesTheAllowingRulesLimitsAndSingleUseToken) {
  constexpr char kLimited[] = R"({"version":1,"rules":[{"name":"r","keys":["k"],"when":{"claim":"svn","gte":0},
    "limits":[{"max":3,"per_seconds":60},{"max":1,"per_seconds":86400,"per_claim":"platform.id"}],
    "single_use_token":true}]})";
  auto allowed = Test(kLimited, R"({"svn":1})");
  EXPECT_EQ(allowed.exit_code, 0) << allowed.err;
  EXPECT_THAT(allowed.out, HasSubstr("limit: at most 3 releases of key 'k' per 60 s (counted by the broker)\n"));
  EXPECT_THAT(allowed.out, HasSubstr("limit: at most 1 releases of key 'k' per 86400 s per platform.id (counted by the broker)\n"));
  EXPECT_THAT(allowed.out, HasSubstr("single_use_token: the release spends the token\n"));
  auto denied = Test(kLimited, R"({"svn":-1})");
  EXPECT_EQ(denied.exit_code, 4);
  EXPECT_THAT(denied.out, ::testing::Not(HasSubstr("limit:")));
}

TEST_F(PolicyCli, IntegersOutsideInt64AreRefusedNotWrapped) {
  // 2^64-1 used to be read as -1.
  auto r = Test(kSvnPolicy, R"({"svn":18446744073709551615})");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.exit_code, 4);  // an input error, not a DENY
  EXPECT_THAT(r.err, HasSubstr("out of range"));
  EXPECT_EQ(Test(kSvnPolicy, R"({"svn":9223372036854775807})").exit_code, 0);
  EXPECT_EQ(Test(kSvnPolicy, R"({"svn":-1})").exit_code, 4);
}

TEST_F(PolicyCli, DuplicateKeysAreRefusedInClaimsAndReferenceFiles) {
  auto r = Test(kSvnPolicy, R"({"svn":-1,"svn":5})");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.exit_code, 4);
  EXPECT_THAT(r.err, HasSubstr("duplicate key"));
  const char* refs_policy = R"({"version":1,"rules":[{"name":"r","keys":["k"],
    "when":{"claim":"m","in_reference":"good"}}]})";
  EXPECT_EQ(Test(refs_policy, R"({"m":"a"})", R"({"good":["a"]})").exit_code, 0);
  r = Test(refs_policy, R"({"m":"a"})", R"({"good":["b"],"good":["a"]})");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("duplicate key"));
}

TEST_F(PolicyCli, ReferenceFilesFollowTheStoreRules) {
  const char* refs_policy = R"({"version":1,"rules":[{"name":"r","keys":["k"],
    "when":{"not":{"claim":"host","in_reference":"revoked-hosts"}}}]})";
  // A set name `sigil refs add` refuses, and values that are not 1-512 byte strings, are errors
  // (they used to be accepted, or skipped silently).
  for (const char* bad : {R"({"Revoked-Hosts":["h1"]})", R"({"revoked-hosts":["h1", 7]})",
                          R"({"revoked-hosts":[""]})", R"({"revoked-hosts":"h1"})",
                          R"({"revoked-hosts":["h\u0001"]})"}) {
    SCOPED_TRACE(bad);
    auto r = Test(refs_policy, R"({"host":"h1"})", bad);
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.exit_code, 4);
  }
  EXPECT_EQ(Test(refs_policy, R"({"host":"h1"})", R"({"revoked-hosts":["h1"]})").exit_code, 4);
  EXPECT_EQ(Test(refs_policy, R"({"host":"h2"})", R"({"revoked-hosts":["h1"]})").exit_code, 0);
  // A set the policy names but the file lacks: a warning, as `policy set` gives.
  auto r = Test(refs_policy, R"({"host":"h2"})", R"({"other":["x"]})");
  EXPECT_THAT(r.err, HasSubstr("warning: reference set 'revoked-hosts' is not in the reference file"));
}

TEST_F(PolicyCli, ValidateRefusesASetNameTheStoreRefuses) {
  // The finding: a revocation rule over "Revoked-Hosts" passed validation but could never fire.
  auto r = sigil::testing::Run({sigil::testing::BinPath("sigil"), "policy", "validate",
                                Write("p.json", R"({"version":1,"rules":[{"name":"r","keys":["k"],
    "when":{"not":{"claim":"platform.id","in_reference":"Revoked-Hosts"}}}]})")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("reference set name 'Revoked-Hosts' is invalid"));
}

TEST_F(PolicyCli, AgreesWithTheBrokerEvaluation) {
  const std::string policy = R"({"version":1,"rules":[{"name":"r","keys":["k*"],"when":{"allOf":[
      {"claim":"tee","in":["sev-snp","tdx"]},
      {"not":{"claim":"platform.id","in_reference":"revoked-hosts"}},
      {"anyOf":[{"claim":"snp.vmpl","equals":0},{"claim":"tee","equals":"tdx"}]},
      {"claim":"svn","gte":2}]}}]})";
  const std::string refs = R"({"revoked-hosts":["bad-host"]})";
  for (const char* claims : {
           R"({"tee":"sev-snp","platform.id":"h","snp.vmpl":0,"svn":2})",
           R"({"tee":"sev-snp","platform.id":"bad-host","snp.vmpl":0,"svn":2})",
           R"({"tee":"sev-snp","snp.vmpl":0,"svn":2})",            // platform.id absent
           R"({"tee":"sev-snp","platform.id":7,"snp.vmpl":0,"svn":2})",  // mistyped
           R"({"tee":"tdx","platform.id":"h","svn":3})",
           R"({"tee":"sev-snp","platform.id":"h","svn":3})",        // snp.vmpl absent
           R"({"tee":"tdx","platform.id":"h","svn":1})"}) {
    SCOPED_TRACE(claims);
    // The broker's reading of a token's claims (broker/keys/token.cpp) and its evaluation.
    ASSERT_OK_AND_ASSIGN(Json j, ParseJson(claims, "token.claims"));
    ASSERT_OK_AND_ASSIGN(attestation::Claims c, attestation::Claims::FromJson(j, "token.claims"));
    ASSERT_OK_AND_ASSIGN(Policy p, ParsePolicy(policy, "p.json"));
    MapReferenceSets sets;
    sets.Add("revoked-hosts", "bad-host");
    const Decision d = Evaluate(p, c, "k1", sets);
    auto r = Test(policy, claims, refs, "k1");
    EXPECT_EQ(r.exit_code, d.allow ? 0 : 4) << r.out << r.err;
    EXPECT_THAT(r.out, HasSubstr(d.reason));
  }
}

}  // namespace
}  // namespace sigil::policy
