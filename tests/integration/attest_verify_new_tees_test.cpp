// `sigil attest verify` on the TEEs of issue 14, run exactly as docs/cli.md documents them, on
// the real vectors (../shared/vectors/{nvidia-gpu,cca-psa,azure-cvm}, outcomes as their
// MANIFESTs state): NVIDIA H100 SPDM reports, Arm CCA and PSA tokens, Azure CVM HCL reports.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/encoding.h"
#include "core/json.h"
#include "tests/integration/attest_cli_util.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace sigil::integration {
namespace {

using sigil::testing::BinPath;
using sigil::testing::CommandResult;

bool Has(const std::string& text, const std::string& needle) { return text.find(needle) != std::string::npos; }

std::string Repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

// ---- NVIDIA (MANIFEST: nonce 931d8dd0..., all certificates valid until 9999) ----

const std::string kGpuNonce = "931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb";
std::string Gpu(const std::string& f) { return Vector("nvidia-gpu/nvtrust/" + f); }

std::vector<std::string> GpuArgs(const std::string& evidence, const std::string& nonce) {
  return {"attest", "verify", "--tee", "nvidia-gpu", "--evidence", evidence, "--collateral", Gpu("hopperCertChain.pem"),
          "--trust-anchor", Gpu("verifier_device_root.pem"), "--expect-nonce", nonce};
}

TEST(AttestVerifyNvidia, TheHopperReportVerifiesWithItsNonceAndStatesWhatWasNotChecked) {
  auto args = GpuArgs(Gpu("hopperAttestationReport.txt"), kGpuNonce);
  args.insert(args.begin(), "--json");
  auto r = Sigil(args);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  Json j = JsonOut(r);
  EXPECT_EQ(j["claims"]["tee"], "nvidia-gpu");
  EXPECT_EQ(j["claims"]["nvidia.driver_version"], "550.90.07");
  EXPECT_EQ(j["claims"]["nvidia.vbios_version"], "96.00.9f.00.01");
  EXPECT_EQ(j["claims"]["nvidia.nonce"], kGpuNonce);
  EXPECT_EQ(j["claims"]["nvidia.revocation"], "not-checked");  // no CRL given: never "good"
}

TEST(AttestVerifyNvidia, TheDefaultNvtrustNonceAndAMissingNonceAreRefused) {
  auto wrong = Sigil(GpuArgs(Gpu("hopperAttestationReport.txt"),
                             "4cff7f5380ead8fad8ec2c531c110aca4302a88f603792801a8ca29ee151af2e"));
  EXPECT_EQ(wrong.exit_code, 4) << wrong.out;
  EXPECT_TRUE(Has(wrong.out, "nonce mismatch")) << wrong.out;
  auto args = GpuArgs(Gpu("hopperAttestationReport.txt"), kGpuNonce);
  args.resize(args.size() - 2);  // no --expect-nonce: there is no unchecked-nonce mode
  auto none = Sigil(args);
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_TRUE(Has(none.err, "--expect-nonce")) << none.err;
}

TEST(AttestVerifyNvidia, AByteChangedInTheSignedPartOrAnotherRootIsRefused) {
  testing::TempDir dir;
  const Bytes text = Slurp(Gpu("hopperAttestationReport.txt"));
  std::string hex(reinterpret_cast<const char*>(text.data()), text.size());
  Bytes raw = *HexDecode(hex.substr(0, hex.find_last_not_of(" \r\n") + 1));
  raw[200] ^= 0x01;  // inside the measurement record (signed)
  Spit(dir.File("flipped.bin"), raw);
  auto flipped = Sigil(GpuArgs(dir.File("flipped.bin"), kGpuNonce));
  EXPECT_EQ(flipped.exit_code, 4) << flipped.out;
  auto args = GpuArgs(Gpu("hopperAttestationReport.txt"), kGpuNonce);
  args[9] = Vector("sev-snp/go-sev-guest/ask_ark_milan.pem");
  auto other_root = Sigil(args);
  EXPECT_EQ(other_root.exit_code, 4) << other_root.out << other_root.err;
}

// ---- Arm CCA and PSA (MANIFEST: realm challenge ab x 64; PSA nonce 64 zero bytes) ----

std::string Cca(const std::string& f) { return Vector("cca-psa/" + f); }

TEST(AttestVerifyCca, TheTfRmmTokenVerifiesWithItsCpakAndChallenge) {
  auto r = Sigil({"--json", "attest", "verify", "--tee", "cca", "--evidence", Cca("ccatoken/tf-rmm_cca_token.cbor"),
                  "--trust-anchor", Cca("ccatoken/tf-rmm_cca_platform.pub.pem"), "--expect-report-data", Repeat("ab", 64)});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  Json j = JsonOut(r);
  EXPECT_EQ(j["claims"]["tee"], "cca");
  EXPECT_EQ(j["claims"]["cca.platform.profile"], "http://arm.com/CCA-SSD/1.0.0");
  EXPECT_EQ(j["claims"]["cca.platform.lifecycle_state"], "secured");
  EXPECT_TRUE(j["not_checked"].empty());
}

TEST(AttestVerifyCca, WithoutAnExpectedChallengeTheOutputSaysItWasNotChecked) {
  auto r = Sigil({"--json", "attest", "verify", "--tee", "cca", "--evidence", Cca("ccatoken/tf-rmm_cca_token.cbor"),
                  "--trust-anchor", Cca("ccatoken/tf-rmm_cca_platform.pub.pem")});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(JsonOut(r)["not_checked"], Json::array({"report_data"}));
}

TEST(AttestVerifyCca, AnotherCpakOrAnotherChallengeIsRefused) {
  auto key = Sigil({"attest", "verify", "--tee", "cca", "--evidence", Cca("ccatoken/tf-rmm_cca_token.cbor"),
                    "--trust-anchor", Cca("ccatoken/derived_testIAK_pub.pem"), "--expect-report-data", Repeat("ab", 64)});
  EXPECT_EQ(key.exit_code, 4) << key.out;
  auto challenge = Sigil({"attest", "verify", "--tee", "cca", "--evidence", Cca("ccatoken/tf-rmm_cca_token.cbor"),
                          "--trust-anchor", Cca("ccatoken/tf-rmm_cca_platform.pub.pem"), "--expect-report-data",
                          Repeat("ab", 63) + "ac"});
  EXPECT_EQ(challenge.exit_code, 4) << challenge.out;
}

TEST(AttestVerifyCca, TheCmwCollectionVerifiesWithItsKey) {
  auto r = Sigil({"attest", "verify", "--tee", "cca", "--evidence", Cca("ccatoken/derived_testGoodCCAToken.cbor"),
                  "--trust-anchor", Cca("ccatoken/derived_testIAK_pub.pem"), "--expect-report-data",
                  HexEncode(ToBytes(Repeat("AB", 32)))});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST(AttestVerifyPsa, TheTfmTokenVerifiesWithItsIakAndNonceOnly) {
  const std::vector<std::string> base = {"attest", "verify", "--tee", "psa", "--evidence",
                                         Cca("psatoken/psa-2_0_0_sign1.cbor"), "--trust-anchor",
                                         Cca("psatoken/public.pem"), "--expect-report-data"};
  auto ok = base;
  ok.push_back(Repeat("00", 64));
  auto r = Sigil(ok);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(Has(r.out, "tee = psa")) << r.out;
  auto bad = base;
  bad.push_back(Repeat("00", 63) + "01");
  EXPECT_EQ(Sigil(bad).exit_code, 4);
}

// ---- Azure CVMs (MANIFEST azure-cvm: SNP chain PASS at 2023-03-13 but the VCEK is for another
// chip; the TDREPORT cannot be authenticated offline; the quote's AK is not the HCLAkPub) ----

std::string Az(const std::string& f) { return Vector("azure-cvm/azure-cvm-tooling/" + f); }

TEST(AttestVerifyAzure, TheSnpHclReportIsRefusedBecauseItsVcekIsForAnotherChip) {
  auto r = Sigil({"attest", "verify", "--tee", "azure-snp-vtpm", "--evidence", Az("hcl-report-snp.bin"), "--collateral",
                  Az("certs.pem"), "--trust-anchor", Vector("sev-snp/go-sev-guest/ask_ark_milan.pem"), "--at",
                  "2023-03-13T00:00:00Z"});
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
  EXPECT_TRUE(Has(r.out, "another chip")) << r.out;
}

TEST(AttestVerifyAzure, TheTdxHclReportAloneGivesItsAkAndSaysWhatIsNotVerified) {
  auto r = Sigil({"--json", "attest", "verify", "--tee", "azure-tdx-vtpm", "--evidence", Az("hcl-report-tdx.bin")});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  Json j = JsonOut(r);
  EXPECT_EQ(j["not_checked"], Json::array({"quote", "hardware"}));
  EXPECT_EQ(j["claims"]["tee"], "azure-tdx-vtpm");
  const Bytes expected = Slurp(Az("derived_tdx_hclakpub.pem"));
  EXPECT_EQ(j["ak_pem"].get<std::string>(), std::string(expected.begin(), expected.end()));
}

TEST(AttestVerifyAzure, ARuntimeDataByteChangedBreaksTheBinding) {
  testing::TempDir dir;
  Bytes hcl = Slurp(Az("hcl-report-tdx.bin"));
  hcl[0x4D4 + 10] ^= 0x01;  // inside the runtime-data JSON (MANIFEST: runtime data at 0x4D4)
  Spit(dir.File("hcl.bin"), hcl);
  auto r = Sigil({"attest", "verify", "--tee", "azure-tdx-vtpm", "--evidence", dir.File("hcl.bin")});
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
}

// The quote layer from tpm2_quote's three files: this capture's quote was made by another AK
// than the report's HCLAkPub, so it must be refused (and the hardware layer with it).
TEST(AttestVerifyAzure, AQuoteNotMadeByTheHclAkIsRefused) {
  testing::TempDir dir;
  // The capture's PCR values for its selection sha256:15,16,22, one hex line each.
  const Bytes all = Slurp(Vector("tpm2/azure-cvm-tooling/derived_pcrs_sha256.txt"));
  std::vector<std::string> lines;
  std::string cur;
  for (auto c : all) {
    if (c == '\n') lines.push_back(cur), cur.clear();
    else cur.push_back(static_cast<char>(c));
  }
  ASSERT_GE(lines.size(), 23u);
  Spit(dir.File("pcrs.txt"), ToBytes(lines[15] + "\n" + lines[16] + "\n" + lines[22] + "\n"));
  auto r = Sigil({"attest", "verify", "--tee", "azure-snp-vtpm", "--evidence", Az("hcl-report-snp.bin"), "--collateral",
                  Az("certs.pem"), "--trust-anchor", Vector("sev-snp/go-sev-guest/ask_ark_milan.pem"), "--message",
                  Az("quote_msg"), "--signature", Az("quote_sig"), "--pcrs", dir.File("pcrs.txt"), "--at",
                  "2023-03-13T00:00:00Z"});
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
  EXPECT_TRUE(Has(r.out, "quote signature does not verify")) << r.out;
}

// ---- The example policies of policies/examples/, judged on the claims the vectors give ----

std::string Example(const std::string& f) { return std::string(SIGIL_SOURCE_DIR) + "/policies/examples/" + f; }

// Writes the claims `sigil --json attest verify ARGS` printed to DIR/claims.json.
std::string ClaimsFile(const testing::TempDir& dir, std::vector<std::string> args) {
  args.insert(args.begin(), "--json");
  auto r = Sigil(args);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  Spit(dir.File("claims.json"), ToBytes(JsonOut(r)["claims"].dump()));
  return dir.File("claims.json");
}

TEST(ExamplePolicies, TheCcaRealmPolicyAllowsTheVerifiedTokenOnlyWithItsRealmApproved) {
  testing::TempDir dir;
  const std::string claims =
      ClaimsFile(dir, {"attest", "verify", "--tee", "cca", "--evidence", Cca("ccatoken/tf-rmm_cca_token.cbor"),
                       "--trust-anchor", Cca("ccatoken/tf-rmm_cca_platform.pub.pem"), "--expect-report-data",
                       Repeat("ab", 64)});
  // No CCA attester loads an engine yet, so the capture has no workload purpose: added here as
  // sigil-load would state it, to reach the realm checks (without it the rule refuses, below).
  Json with_purpose = *ParseJson(std::string(reinterpret_cast<const char*>(Slurp(claims).data()), Slurp(claims).size()), "c");
  with_purpose["workload.mode"] = "sealed-memory";
  with_purpose["workload.engine"] = Repeat("e", 64);
  Spit(dir.File("purpose.json"), ToBytes(with_purpose.dump()));
  const std::string impl = "7f454c4602010100000000000000000003003e00010000005058000000000000";  // MANIFEST
  Spit(dir.File("refs.json"), ToBytes(R"({"approved-cca-platforms": [")" + impl + R"("], "approved-realms": [")" +
                                      Repeat("00", 32) + R"("], "approved-engines": [")" + Repeat("e", 64) + R"("]})"));
  auto bare = Sigil({"policy", "test", Example("cca-realm.json"), "--claims", claims, "--key", "weights",
                     "--refs", dir.File("refs.json")});
  EXPECT_EQ(bare.exit_code, 4) << bare.out;
  EXPECT_TRUE(Has(bare.out, "workload.mode")) << bare.out;
  auto allowed = Sigil({"policy", "test", Example("cca-realm.json"), "--claims", dir.File("purpose.json"), "--key", "weights",
                        "--refs", dir.File("refs.json")});
  EXPECT_EQ(allowed.exit_code, 0) << allowed.out << allowed.err;
  Spit(dir.File("other.json"), ToBytes(R"({"approved-cca-platforms": [")" + impl + R"("], "approved-realms": [")" +
                                       Repeat("11", 32) + R"("], "approved-engines": [")" + Repeat("e", 64) + R"("]})"));
  auto denied = Sigil({"policy", "test", Example("cca-realm.json"), "--claims", dir.File("purpose.json"), "--key", "weights",
                       "--refs", dir.File("other.json")});
  EXPECT_EQ(denied.exit_code, 4) << denied.out;
  EXPECT_TRUE(Has(denied.out, "cca.realm.rim")) << denied.out;
}

// The TDX capture's HCL report alone cannot be authenticated: the Azure policy must refuse it
// whatever the reference sets hold.
TEST(ExamplePolicies, TheAzurePolicyRefusesAnUnauthenticatedHclReport) {
  testing::TempDir dir;
  const std::string claims =
      ClaimsFile(dir, {"attest", "verify", "--tee", "azure-tdx-vtpm", "--evidence", Az("hcl-report-tdx.bin")});
  Spit(dir.File("refs.json"), ToBytes(R"({"approved-paravisors": [], "approved-azure-guests": []})"));
  auto r = Sigil({"policy", "test", Example("azure-cvm.json"), "--claims", claims, "--key", "weights", "--refs",
                  dir.File("refs.json")});
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
  EXPECT_TRUE(Has(r.out, "tee")) << r.out;
  // Even claims that said SNP would stop at the hardware layer's flag, before any reference set.
  Json relabelled = *ParseJson(std::string(reinterpret_cast<const char*>(Slurp(claims).data()), Slurp(claims).size()), "c");
  relabelled["tee"] = "azure-snp-vtpm";
  Spit(dir.File("snp-claims.json"), ToBytes(relabelled.dump()));
  auto flagged = Sigil({"policy", "test", Example("azure-cvm.json"), "--claims", dir.File("snp-claims.json"), "--key",
                        "weights", "--refs", dir.File("refs.json")});
  EXPECT_EQ(flagged.exit_code, 4) << flagged.out;
  EXPECT_TRUE(Has(flagged.out, "azure.hardware_verified")) << flagged.out;
  EXPECT_EQ(Sigil({"policy", "validate", Example("azure-cvm.json"), Example("cca-realm.json")}).exit_code, 0);
}

TEST(AttestVerifyCatalog, AnUnknownTeeNamesEveryRegisteredOne) {
  auto r = Sigil({"attest", "verify", "--tee", "sev", "--evidence", Az("hcl-report-snp.bin")});
  EXPECT_EQ(r.exit_code, 2);
  for (const char* tee : {"sev-snp", "tdx", "sgx", "tpm", "azure-snp-vtpm", "azure-tdx-vtpm", "cca", "psa", "nvidia-gpu"}) {
    EXPECT_TRUE(Has(r.err, tee)) << r.err;
  }
}

}  // namespace
}  // namespace sigil::integration
