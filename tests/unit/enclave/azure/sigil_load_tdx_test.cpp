// `sigil-load cat --tee azure-tdx-vtpm` as docs/cli.md gives it, end to end through a real sigild:
// swtpm provisioned as an Azure TDX CVM's vTPM (azure_vtpm_provision.h: the TDX HCL report built
// from AZ-TDX-1 at NV index 0x01400001, an RSA AK persisted at 0x81000003), the local fake IMDS
// of fake_imds.h at --azure-imds-url answering with the real dcap-qvl TD quote, and a broker with
// that quote's Intel root and DCAP collateral imported (`sigil collateral import`). The broker
// verifies the evidence sigil-load sent and refuses it in the TD quote alone: the binding and the
// vTPM quote pass, and DCAP refuses the vectors' collateral, out of date at today's time (were it
// current, the quote's REPORTDATA, another TD's, would be refused next: ImdsTdQuoteTest and
// AzureAttesterTest check that with a fixed time). No TD quote of an Azure TDREPORT exists in the
// vectors. This shows the quote going from IMDS through sigil-load into the broker's TDX hardware
// layer. IMDS down or a bad --azure-imds-url fail before the broker sees anything. Runs the real
// binaries (sigild, sigil, sigil-load).
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <optional>

#include "core/encoding.h"
#include "core/file_io.h"
#include "core/json.h"
#include "enclave/azure/azure_attester.h"
#include "enclave/tpm/ak.h"
#include "enclave/tpm/esys.h"
#include "tests/support/matchers.h"
#include "tests/support/process.h"
#include "tests/support/swtpm.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/attestation/azure/azure_test_util.h"
#include "tests/unit/enclave/azure/azure_vtpm_provision.h"
#include "tests/unit/enclave/azure/fake_imds.h"

namespace sigil::enclave::azure {
namespace {

using sigil::testing::BinPath;
using sigil::testing::CommandResult;
using sigil::testing::FakeImds;
using sigil::testing::ImdsRequest;

class SigilLoadAzureTdx : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_.File("swtpm"));
    auto sw = sigil::testing::Swtpm::Start(dir_.File("swtpm"));
    ASSERT_TRUE(sw.has_value()) << sw.error().message();
    swtpm_.emplace(std::move(*sw));
    {
      ASSERT_OK_AND_ASSIGN(tpm::EsysContext ctx, tpm::OpenTpm(swtpm_->Tcti()));
      ASSERT_OK_AND_ASSIGN(tpm::LoadedAk ak,
                           tpm::PersistAk(ctx, tpm::AkKind::kRsaSsaSha256, kAzureAkHandle));
      const auto& rsa = ak.pub.publicArea.unique.rsa;
      hcl_ = sigil::testing::TdxHclNaming(Bytes(rsa.buffer, rsa.buffer + rsa.size));
      ASSERT_OK(sigil::testing::WriteNvIndex(ctx, kHclReportNvIndex, hcl_));
    }

    auto init = sigil::testing::Run({BinPath("sigild"), "init", "--data-dir", data(),
                                     "--dev-root-key", "--listen", "127.0.0.1:0"});
    ASSERT_EQ(init.exit_code, 0) << init.err;
    // The operator's step for TDX: the Intel root and the DCAP collateral of the quote's
    // platform, validated at the vectors' time (MANIFEST tdx TDX-3: valid until
    // 2025-07-19T10:00:35Z, so the broker, at today's time, finds it out of date).
    auto intel = sigil::testing::Run(
        {BinPath("sigil"), "collateral", "import", "--data-dir", data(), "--at",
         "2025-07-19T10:00:34Z", "--anchor",
         sigil::testing::azure::VectorPath("../../tdx/dcap-qvl/TrustedRootCA.der"),
         sigil::testing::azure::VectorPath("../../tdx/dcap-qvl/tdx_quote_collateral.json")});
    ASSERT_EQ(intel.exit_code, 0) << intel.err;
    sigild_ = std::make_unique<sigil::testing::BackgroundProcess>(
        std::vector<std::string>{BinPath("sigild"), "serve", "--data-dir", data(), "--port-file",
                                 dir_.File("port")},
        dir_.File("sigild.log"));
    const std::string port = sigil::testing::WaitForFile(dir_.File("port"), 20);
    ASSERT_FALSE(port.empty()) << "sigild did not start";
    url_ = "https://127.0.0.1:" + port.substr(0, port.find('\n'));
    for (auto args : std::vector<std::vector<std::string>>{
             {"tenant", "create", "acme"}, {"key", "create", "acme/data", "--class", "dataset"}}) {
      auto r = Sigil(args);
      ASSERT_EQ(r.exit_code, 0) << args[0] << ": " << r.err;
    }
    auto pub = Sigil({"key", "public", "acme/data"});
    ASSERT_EQ(pub.exit_code, 0) << pub.err;
    ASSERT_OK(WriteFileAtomic(dir_.File("data.pub"), AsBytes(pub.out), 0644));
    ASSERT_OK(WriteFileAtomic(dir_.File("data.bin"), Bytes(1000, 0x5a), 0600));
    auto enc = Sigil({"model", "encrypt", "--recipient", dir_.File("data.pub"),
                      dir_.File("data.bin"), dir_.File("data.sgl")});
    ASSERT_EQ(enc.exit_code, 0) << enc.err;
  }

  std::string data() const { return dir_.File("broker"); }
  CommandResult Sigil(std::vector<std::string> args) const {
    args.insert(args.begin(), {BinPath("sigil"), "--admin-dir", data() + "/admin", "--broker", url_});
    return sigil::testing::Run(args);
  }
  // The documented line: sigil-load cat --tee azure-tdx-vtpm [--tpm-tcti T] [--azure-imds-url U].
  CommandResult Cat(const std::string& imds_url) const {
    return sigil::testing::Run(
        {BinPath("sigil-load"), "cat", "--broker", url_, "--ca", data() + "/admin/ca.pem",
         "--tenant", "acme", "--tee", "azure-tdx-vtpm", "--tpm-tcti", swtpm_->Tcti(),
         "--tpm-purpose-log", dir_.File("purpose-pcr13.json"), "--azure-imds-url", imds_url,
         "--measure", BinPath("sigil-infer"), dir_.File("data.sgl")});
  }

  sigil::testing::TempDir dir_;
  std::optional<sigil::testing::Swtpm> swtpm_;
  std::unique_ptr<sigil::testing::BackgroundProcess> sigild_;
  std::string url_;
  Bytes hcl_;
};

TEST_F(SigilLoadAzureTdx, TheTdQuoteGoesFromIMDSThroughSigilLoadToTheBrokersTdxCheck) {
  const Bytes quote = sigil::testing::RealTdQuote();
  ASSERT_FALSE(quote.empty());
  FakeImds imds([&](const ImdsRequest& req) {
    if (req.metadata != "true") return sigil::testing::HttpAnswer(400, R"({"error":"metadata"})");
    return sigil::testing::HttpAnswer(200, R"({"quote":")" + Base64UrlEncode(quote) + R"("})");
  });
  auto r = Cat(imds.url());
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_TRUE(r.out.empty());
  // The broker's refusal is the TD quote's, and only the hardware layer's: the HCL binding and
  // the vTPM quote (HCLAkPub = swtpm's AK here) passed. DCAP refuses the vectors' 2025 collateral.
  EXPECT_EQ(r.err.rfind(
                "sigil-load: error: evidence rejected: azure-tdx-vtpm: azure-tdx-vtpm TD quote: ", 0),
            0u)
      << r.err;
  EXPECT_NE(r.err.find("expired"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("HCLAkPub"), std::string::npos) << r.err;
  const auto reqs = imds.requests();
  ASSERT_EQ(reqs.size(), 1u);
  const Bytes td_report(hcl_.begin() + 0x20, hcl_.begin() + 0x20 + 1024);
  EXPECT_EQ(reqs[0].body, R"({"report":")" + Base64UrlEncode(td_report) + R"("})");
}

TEST_F(SigilLoadAzureTdx, NoIMDSNoEvidence) {
  auto down = Cat(sigil::testing::ClosedLocalUrl());
  EXPECT_EQ(down.exit_code, 3) << down.err;
  EXPECT_NE(down.err.find("TD quote: IMDS at http://127.0.0.1:"), std::string::npos) << down.err;
  auto bad = Cat("https://169.254.169.254");
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_NE(bad.err.find("not http://"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace sigil::enclave::azure
