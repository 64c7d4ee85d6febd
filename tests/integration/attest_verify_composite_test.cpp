// `sigil attest verify` on composite CPU + GPU bundles (docs/cli.md, docs/protocol.md): the CLI
// builds the same wrapped verifier as sigild (attestation/tee_catalog.h BuildVerifier). Real
// evidence only: the virtee SEV-SNP report and the nvtrust H100 report in one bundle. Their
// report data and nonce were fixed when they were captured, so no binding makes this bundle pass;
// what is tested is that the bundle reaches the composite checks and is refused by the right one,
// and that the options it needs are enforced. (Accepting bundles: tests/unit/attestation/composite
// and composite_flow_test.cpp.)
#include <gtest/gtest.h>

#include "attestation/composite/bundle.h"
#include "core/encoding.h"
#include "tests/integration/attest_cli_util.h"
#include "tests/support/temp_dir.h"

namespace sigil::integration {
namespace {

class AttestVerifyComposite : public ::testing::Test {
 protected:
  void SetUp() override {
    auto snp = HexDecode(ToString(Slurp(Vector("sev-snp/virtee-sev/report_milan.hex"))).substr(0, 2 * 1184));
    ASSERT_TRUE(snp.has_value());
    const attestation::composite::GpuBundle bundle{
        *snp, {{Slurp(Vector("nvidia-gpu/nvtrust/hopperAttestationReport.txt")),
                Slurp(Vector("nvidia-gpu/nvtrust/hopperCertChain.pem"))}}};
    bundle_ = dir_.File("bundle.json");
    Spit(bundle_, attestation::composite::SerializeGpuBundle(bundle));
  }
  std::vector<std::string> Args() const {
    return {"--json", "attest", "verify", "--tee", "sev-snp", "--evidence", bundle_,
            "--trust-anchor", Vector("sev-snp/go-sev-guest/ask_ark_milan.pem"),
            "--collateral", Vector("sev-snp/virtee-sev/vcek_milan.der"), "--at", "2024-01-01T00:00:00Z"};
  }
  sigil::testing::TempDir dir_;
  std::string bundle_;
};

TEST_F(AttestVerifyComposite, ARealBundleReachesTheCompositeChecksAndIsRefusedByTheCpuBinding) {
  auto args = Args();
  args.push_back("--gpu-trust-anchor");
  args.push_back(Vector("nvidia-gpu/nvtrust/verifier_device_root.pem"));
  args.push_back("--expect-report-data");
  args.push_back(std::string(128, 'a'));
  auto r = Sigil(args);
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
  Json j = JsonOut(r);
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["error"]["code"], "verification_failed");
  const std::string message = j["error"]["message"].get<std::string>();
  EXPECT_NE(message.find("composite evidence: cpu"), std::string::npos) << message;
}

TEST_F(AttestVerifyComposite, ABundleNeedsTheBindingAndGpuRoots) {
  auto no_roots = Args();
  no_roots.push_back("--expect-report-data");
  no_roots.push_back(std::string(128, 'a'));
  auto r = Sigil(no_roots);
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(JsonOut(r)["error"]["message"].get<std::string>().find("--gpu-trust-anchor"), std::string::npos);

  auto no_binding = Args();
  no_binding.push_back("--gpu-trust-anchor");
  no_binding.push_back(Vector("nvidia-gpu/nvtrust/verifier_device_root.pem"));
  r = Sigil(no_binding);
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(JsonOut(r)["error"]["message"].get<std::string>().find("--expect-report-data"), std::string::npos);

  // A GPU report is not a CPU TEE: no bundle, no GPU roots for it.
  r = Sigil({"--json", "attest", "verify", "--tee", "nvidia-gpu", "--evidence", bundle_, "--trust-anchor",
             Vector("nvidia-gpu/nvtrust/verifier_device_root.pem"), "--gpu-trust-anchor",
             Vector("nvidia-gpu/nvtrust/verifier_device_root.pem"), "--expect-nonce", std::string(64, 'a')});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
}

}  // namespace
}  // namespace sigil::integration
