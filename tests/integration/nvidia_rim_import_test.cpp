// `sigil refs import-nvidia-rim` as docs/cli.md gives it, against the real broker: NVIDIA-shaped
// driver and VBIOS RIMs signed at test time by `xmlsec1 --sign` under an `openssl` test chain
// (tests/unit/attestation/nvidia/rim_test_util.h), imported into one reference set, listed, and
// used by `sigil policy test` with the documented `indices_in_reference` condition. Then the
// refusals, which must leave the set untouched: another root, an altered RIM, a second driver
// version, an unsigned RIM. Then revocation of the signing chain with `--collateral` (CRLs from
// `openssl ca -gencrl`, an OCSP response from `openssl ocsp`): a revoked signer, and a chain the
// collateral does not cover, are refused; --allow-unchecked-revocation imports with a warning.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/json.h"
#include "tests/integration/broker_fixture.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/attestation/nvidia/rim_test_util.h"

namespace sigil::integration {
namespace {

namespace nv = sigil::testing::nvidia;

testing::CommandResult RimSigil(std::vector<std::string> args) { return BrokerEnv::Get().Sigil(std::move(args)); }

std::string RimSlurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}
void RimSpit(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
}

// The tenant's set as `sigil refs list --json` gives it (empty if absent).
std::vector<std::string> RimSetValues(const std::string& set) {
  auto r = RimSigil({"--json", "refs", "list", "acme"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  Json j = Json::parse(r.out);
  if (!j["sets"].contains(set)) return {};
  return j["sets"][set].get<std::vector<std::string>>();
}

class NvidiaRimImport : public ::testing::Test {
 protected:
  void SetUp() override {
    pki_ = nv::MakeRimPki(dir_.path());
    // The documented file names (docs/cli.md): NVIDIA names driver RIMs by driver version and
    // VBIOS RIMs by project, SKU, chip SKU and VBIOS version.
    driver_ = nv::SignRim(pki_, dir_.path(), "NV_GPU_DRIVER_GH100_550.54.15",
                          nv::RimTemplate(nv::DriverSpec({7, 21, 22, 23, 35})));
    nv::RimSpec vbios = nv::DriverSpec({0, 1, 2, 11, 12}, "96.00.5E.00.01");
    vbios.tag_id = "1010_0200_882_96005E0001";
    for (auto& r : vbios.resources) {
      if (r.active) r.hashes = {nv::TestHash("vbios", r.index)};
    }
    vbios_ = nv::SignRim(pki_, dir_.path(), "1010_0200_882_96005E0001_PROD", nv::RimTemplate(vbios));
    anchor_ = dir_.File("rim_root.pem");
    RimSpit(anchor_, RimSlurp(pki_.root_pem));
    // Current CRLs of both issuers in the chain (the root's covers the CA, the CA's the signer).
    root_crl_ = nv::MakeRimCrl(pki_, nv::RimIssuer::kRoot, dir_.path(), "rim_root", {});
    ca_crl_ = nv::MakeRimCrl(pki_, nv::RimIssuer::kCa, dir_.path(), "rim_ca", {});
  }
  // The documented command line with both CRLs as --collateral.
  testing::CommandResult Import(const std::string& set, const std::string& rim) {
    return RimSigil({"refs", "import-nvidia-rim", "acme", "--set", set, "--rim", rim, "--trust-anchor", anchor_,
                     "--collateral", root_crl_, "--collateral", ca_crl_});
  }
  testing::TempDir dir_;
  nv::RimPki pki_;
  std::string driver_, vbios_, anchor_, root_crl_, ca_crl_;
};

TEST_F(NvidiaRimImport, DocumentedCommandsImportBothRimsAndThePolicyUsesThem) {
  // docs/cli.md, "sigil refs import-nvidia-rim".
  auto r = Import("h100-550-96005e", driver_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("verified driver RIM 550.54.15 (NV_GPU_DRIVER_GH100_550.54.15), signed by"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("signing chain revocation: good\n"), std::string::npos) << r.out;
  EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("h100-550-96005e: 5 measurement blocks, 6 approved values (59 inactive not compared); 7 values added"),
            std::string::npos) << r.out;
  r = Import("h100-550-96005e", vbios_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("verified vbios RIM 96.00.5e.00.01"), std::string::npos) << r.out;

  r = RimSigil({"refs", "list", "acme"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("h100-550-96005e\t8:" + nv::TestHash("driver", 7) + "\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("h100-550-96005e\t8:" + nv::TestHash("driver-alt", 7) + "\n"), std::string::npos);
  EXPECT_NE(r.out.find("h100-550-96005e\t1:" + nv::TestHash("vbios", 0) + "\n"), std::string::npos);
  EXPECT_NE(r.out.find("h100-550-96005e\trim:driver:550.54.15\n"), std::string::npos);
  EXPECT_NE(r.out.find("h100-550-96005e\trim:vbios:96.00.5e.00.01\n"), std::string::npos);
  const std::vector<std::string> imported = RimSetValues("h100-550-96005e");
  EXPECT_EQ(imported.size(), 6u + 5u + 2u);

  // Importing the same RIM again changes nothing.
  r = Import("h100-550-96005e", driver_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("0 values added"), std::string::npos) << r.out;

  // The policy of docs/policy.md / policies/README.md over one GPU's claims, with the set as the
  // broker lists it.
  Json sets = Json::object();
  sets["h100-550-96005e"] = imported;
  RimSpit(dir_.File("refs.json"), sets.dump());
  RimSpit(dir_.File("gpu.json"), R"({
    "version": 1,
    "rules": [{"name": "h100", "keys": ["llama3"], "when": {"allOf": [
      {"claim": "tee", "equals": "nvidia-gpu"},
      {"claim": "nvidia.measurement", "indices_in_reference": "h100-550-96005e"}]}}]})");
  Json claims = {{"tee", "nvidia-gpu"}};
  for (int i : {7, 21, 22, 23, 35}) claims["nvidia.measurement." + std::to_string(i + 1)] = nv::TestHash("driver", i);
  for (int i : {0, 1, 2, 11, 12}) claims["nvidia.measurement." + std::to_string(i + 1)] = nv::TestHash("vbios", i);
  claims["nvidia.measurement.64"] = std::string(96, 'f');  // inactive in both RIMs: not compared
  RimSpit(dir_.File("claims.json"), claims.dump());
  r = RimSigil({"policy", "test", dir_.File("gpu.json"), "--claims", dir_.File("claims.json"), "--key", "llama3",
                "--refs", dir_.File("refs.json")});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("ALLOW"), std::string::npos) << r.out;
  // One block off: denied, naming the block.
  claims["nvidia.measurement.23"] = nv::TestHash("driver", 23);
  RimSpit(dir_.File("claims.json"), claims.dump());
  r = RimSigil({"policy", "test", dir_.File("gpu.json"), "--claims", dir_.File("claims.json"), "--key", "llama3",
                "--refs", dir_.File("refs.json")});
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
  EXPECT_NE(r.out.find("claim 'nvidia.measurement.23' is not an approved value for index 23"), std::string::npos) << r.out;
}

TEST_F(NvidiaRimImport, RefusedRimsAddNothing) {
  // Signed under another root.
  testing::TempDir other;
  nv::RimPki other_pki = nv::MakeRimPki(other.path(), "o-");
  const std::string foreign = nv::SignRim(other_pki, other.path(), "driver", nv::RimTemplate(nv::DriverSpec({7})));
  auto r = RimSigil({"refs", "import-nvidia-rim", "acme", "--set", "refused-rims", "--rim", foreign,
                     "--trust-anchor", anchor_});
  EXPECT_EQ(r.exit_code, 4) << r.err;  // verification failed (docs/cli.md exit codes)
  EXPECT_NE(r.err.find("does not chain to the RIM root"), std::string::npos) << r.err;
  // Altered after signing.
  std::string text = RimSlurp(driver_);
  const auto at = text.find(nv::TestHash("driver", 21));
  ASSERT_NE(at, std::string::npos);
  text[at] = text[at] == '0' ? '1' : '0';
  RimSpit(dir_.File("altered.swidtag"), text);
  r = RimSigil({"refs", "import-nvidia-rim", "acme", "--set", "refused-rims", "--rim", dir_.File("altered.swidtag"),
                "--trust-anchor", anchor_});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("bad signature"), std::string::npos) << r.err;
  // Unsigned.
  RimSpit(dir_.File("unsigned.swidtag"), nv::RimTemplate(nv::DriverSpec({7})));
  r = RimSigil({"refs", "import-nvidia-rim", "acme", "--set", "refused-rims", "--rim", dir_.File("unsigned.swidtag"),
                "--trust-anchor", anchor_});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_TRUE(RimSetValues("refused-rims").empty());

  // A second driver version into a set that holds one: refused, the set unchanged.
  r = Import("one-driver", driver_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string newer = nv::SignRim(pki_, dir_.path(), "NV_GPU_DRIVER_GH100_555.42.02",
                                        nv::RimTemplate(nv::DriverSpec({7, 21}, "555.42.02")));
  r = Import("one-driver", newer);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("already holds driver:550.54.15"), std::string::npos) << r.err;
  EXPECT_EQ(RimSetValues("one-driver").size(), 7u);
}

TEST_F(NvidiaRimImport, RevocationOfTheSigningChainDecidesTheImport) {
  const std::vector<std::string> base = {"refs", "import-nvidia-rim", "acme", "--set", "revocation-rims",
                                         "--rim", driver_, "--trust-anchor", anchor_};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return RimSigil(args);
  };
  // No revocation data: refused (usage, exit 2) naming both certificates, nothing sent.
  auto r = with({});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("revocation not checked for 'CN=Test RIM Signer"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("CN=Test Reference Value CA"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--allow-unchecked-revocation"), std::string::npos) << r.err;
  // Only the CA's CRL: the CA certificate itself is unchecked, still refused.
  r = with({"--collateral", ca_crl_});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("revocation not checked for 'CN=Test Reference Value CA"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("Test RIM Signer"), std::string::npos) << r.err;
  // The signer revoked by its CA (a CRL from `openssl ca -revoke` + `-gencrl`): refused (exit 4)
  // naming it, also with --allow-unchecked-revocation.
  const std::string revoked = nv::MakeRimCrl(pki_, nv::RimIssuer::kCa, dir_.path(), "rim_ca_revoked", {pki_.signer_pem});
  r = with({"--collateral", root_crl_, "--collateral", revoked, "--allow-unchecked-revocation"});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("certificate 'Test RIM Signer' is revoked by the CRL of 'Test Reference Value CA'"),
            std::string::npos) << r.err;
  // Not revocation data: a certificate given as --collateral.
  r = with({"--collateral", pki_.ca_pem});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("CERTIFICATE"), std::string::npos) << r.err;
  EXPECT_TRUE(RimSetValues("revocation-rims").empty());

  // The explicit opt-out: imported, with a warning, and "not-checked" in --json.
  r = RimSigil({"--json", "refs", "import-nvidia-rim", "acme", "--set", "revocation-rims", "--rim", driver_,
                "--trust-anchor", anchor_, "--allow-unchecked-revocation"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("sigil: warning: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("revocation not checked for"), std::string::npos) << r.err;
  Json out = Json::parse(r.out);
  EXPECT_EQ(out["revocation"], "not-checked");
  EXPECT_EQ(out["revocation_unchecked"].size(), 2u);
  EXPECT_EQ(RimSetValues("revocation-rims").size(), 7u);

  // DER forms: an OCSP response from the CA for the signer (`openssl ocsp -respout`) and the
  // root's CRL in DER: good.
  const std::string ocsp = nv::MakeRimOcsp(pki_, nv::RimIssuer::kCa, dir_.path(), "signer", pki_.signer_pem, false);
  r = RimSigil({"--json", "refs", "import-nvidia-rim", "acme", "--set", "revocation-rims", "--rim", driver_,
                "--trust-anchor", anchor_, "--collateral", ocsp, "--collateral", dir_.File("rim_root.crl.der")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  out = Json::parse(r.out);
  EXPECT_EQ(out["revocation"], "good");
  EXPECT_TRUE(out["revocation_unchecked"].empty());
  EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace sigil::integration
