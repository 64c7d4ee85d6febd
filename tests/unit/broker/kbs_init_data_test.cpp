// KBS init-data: the TOML Confidential Containers guests send, its digest checked as Trustee's
// attestation service checks it (MRCONFIGID / HOST_DATA / realm personalization value), and
// every malformed shape refused. The digests below were computed with coreutils' sha*sum over
// the same bytes, not with Sigil's code.
#include "broker/kbs/kbs_init_data.h"

#include <gtest/gtest.h>

#include "core/encoding.h"
#include "tests/support/matchers.h"

namespace sigil::broker {
namespace {

// The shape of a real CoCo initdata.toml (guest-components' aa.toml / cdh.toml / policy.rego).
constexpr const char* kInitData = R"(algorithm = "sha384"
version = "0.1.0"

[data]
"aa.toml" = '''
[token_configs]
[token_configs.kbs]
url = "https://kbs.example:8080"
'''

"cdh.toml" = '''
socket = 'unix:///run/confidential-containers/cdh.sock'
[kbc]
name = "cc_kbc"
url = "https://kbs.example:8080"
'''

"policy.rego" = '''
package agent_policy
default AllowRequestsFailingPolicy := true
'''
)";
constexpr const char* kSha384 =
    "c3ae891c7d72f5c021ae1683708e97a9dff6c11c9669f4d7c437a3cb80354cd6f3c0ed8d827eb7966481b0b3d97d3a1f";
// The same text with `algorithm = "sha256"` / `"sha512"`.
constexpr const char* kSha256 = "45469abd3c94c532def55cf3929242e59d013b048bad8b7c309ba3e9e9959a13";
constexpr const char* kSha512 =
    "976f5f38e6403c4ee2c8a99b69f55802e1ea3b48bffdeb74b2d3cfc0a20260f75724b7fc140bd13258fddb1bbe9786d89e4ba1053524b2eb"
    "55de713fa6a547ac";

std::string WithAlgorithm(const std::string& alg) {
  std::string s = kInitData;
  s.replace(s.find("sha384"), 6, alg);
  return s;
}

Json Request(const std::string& body) { return Json{{"format", "toml"}, {"body", body}}; }

attestation::Claims With(const std::string& name, const std::string& hex) {
  attestation::Claims c;
  c.Set(name, hex);
  return c;
}

TEST(KbsInitData, TheDigestIsTheNamedHashOfTheBodyBytes) {
  ASSERT_OK_AND_ASSIGN(KbsInitData d, ParseKbsInitData(Request(kInitData)));
  EXPECT_EQ(d.algorithm, "sha384");
  EXPECT_EQ(HexEncode(d.digest), kSha384);
  ASSERT_OK_AND_ASSIGN(KbsInitData d256, ParseKbsInitData(Request(WithAlgorithm("sha256"))));
  EXPECT_EQ(HexEncode(d256.digest), kSha256);
  ASSERT_OK_AND_ASSIGN(KbsInitData d512, ParseKbsInitData(Request(WithAlgorithm("sha512"))));
  EXPECT_EQ(HexEncode(d512.digest), kSha512);
}

TEST(KbsInitData, TdxBindsMrConfigIdPaddedOrTruncatedToFortyEightBytes) {
  const KbsInitData d = ParseKbsInitData(Request(kInitData)).value();
  attestation::Claims ok = With("tdx.mrconfigid", kSha384);
  ASSERT_OK(BindKbsInitData(d, "tdx", ok));
  EXPECT_EQ(ok.GetString("kbs.init_data_digest").value_or(""), kSha384);

  // SHA-256 is zero-padded to 48 bytes; SHA-512 truncated to its first 48 (Trustee's rule).
  attestation::Claims padded = With("tdx.mrconfigid", std::string(kSha256) + std::string(32, '0'));
  EXPECT_OK(BindKbsInitData(ParseKbsInitData(Request(WithAlgorithm("sha256"))).value(), "tdx", padded));
  attestation::Claims truncated = With("tdx.mrconfigid", std::string(kSha512).substr(0, 96));
  EXPECT_OK(BindKbsInitData(ParseKbsInitData(Request(WithAlgorithm("sha512"))).value(), "tdx", truncated));

  std::string other = kSha384;
  other[95] = other[95] == '0' ? '1' : '0';
  attestation::Claims wrong = With("tdx.mrconfigid", other);
  auto r = BindKbsInitData(d, "tdx", wrong);
  EXPECT_CODE(r, Code::kVerificationFailed);
  EXPECT_NE(r.error().message().find("MRCONFIGID"), std::string::npos) << r.error().message();
  EXPECT_FALSE(wrong.GetString("kbs.init_data_digest").has_value()) << "no claim from a failed binding";
  attestation::Claims zero = With("tdx.mrconfigid", std::string(96, '0'));  // launched without init-data
  EXPECT_CODE(BindKbsInitData(d, "tdx", zero), Code::kVerificationFailed);
}

TEST(KbsInitData, SnpBindsHostDataAndCcaThePersonalizationValueExactly) {
  const KbsInitData d384 = ParseKbsInitData(Request(kInitData)).value();
  attestation::Claims snp = With("snp.host_data", std::string(kSha384).substr(0, 64));
  EXPECT_OK(BindKbsInitData(d384, "sev-snp", snp));
  attestation::Claims snp_wrong = With("snp.host_data", kSha256);
  EXPECT_CODE(BindKbsInitData(d384, "sev-snp", snp_wrong), Code::kVerificationFailed);

  const KbsInitData d512 = ParseKbsInitData(Request(WithAlgorithm("sha512"))).value();
  attestation::Claims cca = With("cca.realm.personalization", kSha512);
  EXPECT_OK(BindKbsInitData(d512, "cca", cca));
  // A shorter digest is never padded into the 64-byte personalization value.
  attestation::Claims cca_padded = With("cca.realm.personalization", std::string(kSha384) + std::string(32, '0'));
  EXPECT_CODE(BindKbsInitData(d384, "cca", cca_padded), Code::kVerificationFailed);
}

TEST(KbsInitData, ATeeWithoutAnInitDataFieldIsRefusedNotSkipped) {
  const KbsInitData d = ParseKbsInitData(Request(kInitData)).value();
  for (const char* tee : {"dev", "sgx", "tpm", "azure-snp-vtpm", "azure-tdx-vtpm"}) {
    SCOPED_TRACE(tee);
    attestation::Claims c = With("tdx.mrconfigid", kSha384);
    auto r = BindKbsInitData(d, tee, c);
    EXPECT_CODE(r, Code::kInvalidArgument);
    EXPECT_NE(r.error().message().find("no field that binds init-data"), std::string::npos) << r.error().message();
  }
  attestation::Claims none;  // a TDX claim set without the field: never passes
  EXPECT_CODE(BindKbsInitData(d, "tdx", none), Code::kVerificationFailed);
}

TEST(KbsInitData, MalformedInitDataIsRefusedNamingTheMember) {
  const std::string big(kMaxInitDataBytes + 1, '#');
  const std::vector<std::pair<Json, std::string>> cases = {
      {Json::array(), "expected an object"},
      {Json{{"format", "toml"}}, "expected \"format\" and \"body\""},
      {Json{{"body", kInitData}}, "expected \"format\" and \"body\""},
      {Json{{"format", "json"}, {"body", kInitData}}, "only \"toml\""},
      {Json{{"format", "toml"}, {"body", 7}}, "init-data.body: expected a string"},
      {Json{{"format", "toml"}, {"body", kInitData}, {"digest", "00"}}, "unknown member"},
      {Request(big), "more than"},
      {Request(std::string("version = \"0.1.0\"\nalgorithm = \"sha384\"\n# \xC3\x28\n")), "not UTF-8"},
      {Request("algorithm = \"sha384\"\nversion = \"0.1.0\"\n[data\n"), "not TOML"},
      {Request("algorithm = \"sha384\"\nalgorithm = \"sha256\"\nversion = \"0.1.0\"\n"), "not TOML"},  // duplicate key
      {Request("version = \"0.1.0\"\n"), "`algorithm`"},
      {Request("algorithm = \"md5\"\nversion = \"0.1.0\"\n"), "`algorithm`"},
      {Request("algorithm = 384\nversion = \"0.1.0\"\n"), "`algorithm`"},
      {Request("algorithm = \"sha384\"\n"), "`version`"},
      {Request("algorithm = \"sha384\"\nversion = \"0.1.0\"\ndata = \"x\"\n"), "`data` must be a table"},
      {Request("algorithm = \"sha384\"\nversion = \"0.1.0\"\n[data]\n\"policy.rego\" = 3\n"), "must be a string"},
  };
  for (const auto& [value, want] : cases) {
    auto r = ParseKbsInitData(value);
    ASSERT_FALSE(r.has_value()) << value.dump().substr(0, 80);
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
    EXPECT_NE(r.error().message().find(want), std::string::npos) << want << " / " << r.error().message();
    EXPECT_EQ(r.error().message().find('\n'), std::string::npos) << "messages are one line";
  }
}

}  // namespace
}  // namespace sigil::broker
