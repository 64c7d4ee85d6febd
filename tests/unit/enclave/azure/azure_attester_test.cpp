// AzureVtpmAttester against a real TPM (swtpm) set up as Azure's paravisor leaves a CVM's vTPM:
// the REAL HCL report of /work/shared/vectors/azure-cvm (AZ-SNP-1) written to NV index
// 0x01400001, an RSA AK persisted at 0x81000003. The evidence parses with the broker's own
// parser, carries the NV bytes unchanged and a quote that verifies with swtpm's AK over our
// binding; and the broker's full verifier refuses it because the report's runtime data names
// Azure's AK (HCLAkPub), not swtpm's. The positive path needs a real Azure confidential VM, whose
// paravisor writes a report naming the vTPM's own AK.
// libtpms caps an NV index at 2048 bytes (MAX_NV_INDEX_SIZE), and the TDX capture (AZ-TDX-1) is
// 2600 bytes as read (2438 without its padding), so azure-tdx-vtpm runs on a TDX HCL report
// built from it: the real TDREPORT with shorter runtime data naming swtpm's AK, REPORTDATA set to
// its hash (1730 bytes; nothing checks a TDREPORT's MAC offline), and a fake IMDS (fake_imds.h)
// answering with the real dcap-qvl TD quote. The broker's verifier then passes the binding and
// the quote layer and refuses only the TD quote, whose REPORTDATA is not this TDREPORT's.
#include "enclave/azure/azure_attester.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "attestation/azure/evidence.h"
#include "attestation/azure/verifier.h"
#include "attestation/tpm/attest.h"
#include "attestation/tpm/evidence.h"
#include "attestation/tpm/verifier.h"
#include "core/bytes.h"
#include "core/digest.h"
#include "core/encoding.h"
#include "enclave/tpm/ak.h"
#include "enclave/tpm/esys.h"
#include "tests/support/matchers.h"
#include "tests/support/swtpm.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/attestation/azure/azure_test_util.h"
#include "tests/unit/enclave/azure/azure_vtpm_provision.h"
#include "tests/unit/enclave/azure/fake_imds.h"
#include "tests/unit/enclave/tpm/tpm_test_util.h"

namespace sigil::enclave::azure {
namespace {

using sigil::testing::FakeImds;
using sigil::testing::RealTdQuote;
using sigil::testing::TdxHclNaming;
using sigil::testing::WriteNvIndex;
using sigil::testing::ImdsRequest;
using sigil::testing::Swtpm;
using sigil::testing::TempDir;
namespace az = attestation::azure;
namespace att = attestation::tpm;
namespace vectors = sigil::testing::azure;

Bytes TestBinding(std::uint8_t seed) {
  Bytes b(64);
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(seed + 3 * i);
  return b;
}

// Where the TDX test report lives (a second NV index: the SNP report stays at 0x01400001).
constexpr TPM2_HANDLE kTdxReportIndex = 0x01400003;

class AzureAttesterTest : public ::testing::Test {
 protected:
  // One swtpm for the suite, provisioned like an Azure SNP CVM's vTPM.
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    auto sw = Swtpm::Start(dir_->path());
    ASSERT_TRUE(sw.has_value()) << sw.error().message();
    swtpm_ = new Swtpm(std::move(*sw));
    ASSERT_OK_AND_ASSIGN(tpm::EsysContext ctx, tpm::OpenTpm(swtpm_->Tcti()));
    ASSERT_OK(WriteNvIndex(ctx, kHclReportNvIndex, vectors::SnpHcl()));
    // Azure's AK is an RSA-2048 RSASSA/SHA-256 restricted signing key.
    ASSERT_OK_AND_ASSIGN(tpm::LoadedAk ak,
                         tpm::PersistAk(ctx, tpm::AkKind::kRsaSsaSha256, kAzureAkHandle));
    ASSERT_OK_AND_ASSIGN(std::string pem, tpm::PublicAreaToSpkiPem(ak.pub));
    ak_pem_ = new Bytes(ToBytes(pem));
    const auto& rsa = ak.pub.publicArea.unique.rsa;
    tdx_hcl_ = new Bytes(TdxHclNaming(Bytes(rsa.buffer, rsa.buffer + rsa.size)));
    ASSERT_LE(tdx_hcl_->size(), 2048u);
    ASSERT_OK(WriteNvIndex(ctx, kTdxReportIndex, *tdx_hcl_));
  }
  static void TearDownTestSuite() {
    delete tdx_hcl_;
    delete ak_pem_;
    delete swtpm_;
    delete dir_;
  }

  static AzureAttesterConfig Config(std::string tee) {
    AzureAttesterConfig c;
    c.tee = std::move(tee);
    c.tcti = swtpm_->Tcti();
    return c;
  }
  // azure-tdx-vtpm on the TDX report built from AZ-TDX-1, asking `imds` for the TD quote.
  static AzureAttesterConfig TdxConfig(const std::string& imds_url) {
    AzureAttesterConfig c = Config("azure-tdx-vtpm");
    c.hcl_report_index = kTdxReportIndex;
    c.imds.url = imds_url;
    return c;
  }

  // The evidence's quote checked as tee "tpm" would check it, with swtpm's AK registered.
  static Result<attestation::Claims> VerifyQuoteWithSwtpmAk(const az::AzureEvidence& parsed, const Bytes& binding) {
    att::TpmConfig tc;
    tc.registered_aks = {*ak_pem_};
    SIGIL_ASSIGN_OR_RETURN(auto tpm_verifier, att::TpmVerifier::Create(tc));
    attestation::VerifyInput in;
    in.evidence = *parsed.quote;
    in.expected_binding = binding;
    return tpm_verifier->Verify(in);
  }

  static TempDir* dir_;
  static Swtpm* swtpm_;
  static Bytes* ak_pem_;
  static Bytes* tdx_hcl_;
};
TempDir* AzureAttesterTest::dir_ = nullptr;
Swtpm* AzureAttesterTest::swtpm_ = nullptr;
Bytes* AzureAttesterTest::ak_pem_ = nullptr;
Bytes* AzureAttesterTest::tdx_hcl_ = nullptr;

TEST_F(AzureAttesterTest, EvidenceCarriesTheNvReportAndAQuoteOverTheBinding) {
  // SEV-SNP needs no TD quote: IMDS is never asked.
  FakeImds imds([](const ImdsRequest&) { return sigil::testing::HttpAnswer(500, "{}"); });
  AzureAttesterConfig snp = Config("azure-snp-vtpm");
  snp.imds.url = imds.url();
  ASSERT_OK_AND_ASSIGN(AttesterPtr attester, AzureVtpmAttester::Create(snp));
  EXPECT_EQ(attester->tee(), "azure-snp-vtpm");
  const Bytes binding = TestBinding(5);
  ASSERT_OK_AND_ASSIGN(Bytes evidence, attester->Evidence(binding));

  // The broker's own parser takes it; the HCL report is the NV index's bytes, padding included.
  ASSERT_OK_AND_ASSIGN(az::AzureEvidence parsed, az::ParseAzureEvidence(evidence));
  EXPECT_EQ(parsed.hcl_report, vectors::SnpHcl());
  EXPECT_TRUE(parsed.td_quote.empty());
  ASSERT_TRUE(parsed.quote.has_value());

  // The quote is swtpm's AK's, over binding[0..32), and verifies as tee "tpm" would.
  ASSERT_OK_AND_ASSIGN(att::Evidence quote, att::ParseEvidence(*parsed.quote));
  ASSERT_OK_AND_ASSIGN(att::Quote body, att::ParseQuote(quote.attest));
  EXPECT_EQ(body.extra_data, Bytes(binding.begin(), binding.begin() + 32));
  ASSERT_OK_AND_ASSIGN(attestation::Claims claims, VerifyQuoteWithSwtpmAk(parsed, binding));
  EXPECT_TRUE(claims.GetString("tpm.pcr.sha256.7").has_value());
  EXPECT_CODE(VerifyQuoteWithSwtpmAk(parsed, TestBinding(6)), Code::kVerificationFailed);

  ASSERT_OK_AND_ASSIGN(tpm::EsysContext ctx, tpm::OpenTpm(swtpm_->Tcti()));
  ASSERT_OK_AND_ASSIGN(auto transients, tpm::TransientHandlesInTpm(ctx));
  EXPECT_TRUE(transients.empty()) << transients.size() << " transient objects left in the TPM";
  EXPECT_TRUE(imds.requests().empty());
}

// azure-tdx-vtpm: the attester sends the NV report's TDREPORT to IMDS and puts the answer in the
// evidence as "td_quote"; the broker's verifier takes the binding and the quote layer (the
// report names swtpm's AK here) and reaches the TD quote, which it refuses only because the
// vectors' quote was made for another TD. Without "td_quote" it refuses the unverifiable
// TDREPORT instead, as before this attester collected one.
TEST_F(AzureAttesterTest, TdxEvidenceCarriesTheTdQuoteIMDSMadeFromTheNvReport) {
  const Bytes quote = RealTdQuote();
  ASSERT_FALSE(quote.empty());
  FakeImds imds([&](const ImdsRequest& req) {
    if (req.metadata != "true") return sigil::testing::HttpAnswer(400, R"({"error":"metadata"})");
    return sigil::testing::HttpAnswer(200, R"({"quote":")" + Base64UrlEncode(quote) + R"("})");
  });
  ASSERT_OK_AND_ASSIGN(AttesterPtr attester, AzureVtpmAttester::Create(TdxConfig(imds.url())));
  const Bytes binding = TestBinding(21);
  ASSERT_OK_AND_ASSIGN(Bytes evidence, attester->Evidence(binding));
  ASSERT_OK_AND_ASSIGN(az::AzureEvidence parsed, az::ParseAzureEvidence(evidence));
  EXPECT_EQ(parsed.hcl_report, *tdx_hcl_);
  EXPECT_EQ(parsed.td_quote, quote);
  ASSERT_TRUE(parsed.quote.has_value());
  const auto reqs = imds.requests();
  ASSERT_EQ(reqs.size(), 1u);
  const Bytes td_report(tdx_hcl_->begin() + 0x20, tdx_hcl_->begin() + 0x20 + 1024);
  EXPECT_EQ(reqs[0].body, R"({"report":")" + Base64UrlEncode(td_report) + R"("})");

  az::AzureConfig config;
  config.platform = az::AzurePlatform::kTdx;
  attestation::dcap::DcapConfig dcap;
  dcap.trusted_root_certs.push_back(vectors::ReadVector("../../tdx/dcap-qvl/TrustedRootCA.der"));
  dcap.signature_and_chain_only = true;
  config.tdx = dcap;
  ASSERT_OK_AND_ASSIGN(auto verifier, az::AzureVtpmVerifier::Create(std::move(config)));
  const auto now = vectors::At(1767225600);
  auto r = verifier->Verify(attestation::VerifyInput{evidence, {}, binding, now, {}});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kVerificationFailed);
  // Only the hardware layer fails, and it fails on the TD quote: the quote layer passed.
  EXPECT_EQ(r.error().message().rfind("azure-tdx-vtpm: azure-tdx-vtpm TD quote", 0), 0u)
      << r.error().message();
  EXPECT_EQ(r.error().message().find("HCLAkPub"), std::string::npos) << r.error().message();
  // ... on its REPORTDATA (the dcap-qvl quote's own): its signature and chain verified.
  EXPECT_NE(r.error().message().find("quote report data is bound to a different"),
            std::string::npos)
      << r.error().message();

  ASSERT_OK_AND_ASSIGN(Bytes without,
                       az::MakeAzureEvidence(parsed.hcl_report, *parsed.quote));
  auto old = verifier->Verify(attestation::VerifyInput{without, {}, binding, now, {}});
  ASSERT_FALSE(old.has_value());
  EXPECT_NE(old.error().message().find("needs a TD quote made from it"), std::string::npos)
      << old.error().message();
}

TEST_F(AzureAttesterTest, TdxWithoutIMDSFailsAndSaysWhy) {
  // Nothing listening: no evidence without the TD quote, and the error names IMDS.
  ASSERT_OK_AND_ASSIGN(AttesterPtr down,
                       AzureVtpmAttester::Create(TdxConfig(sigil::testing::ClosedLocalUrl())));
  auto r = down->Evidence(TestBinding(2));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kUnavailable);
  EXPECT_NE(r.error().message().find("TD quote: IMDS at http://127.0.0.1:"), std::string::npos)
      << r.error().message();
  // IMDS refusing.
  FakeImds refusing([](const ImdsRequest&) {
    return sigil::testing::HttpAnswer(400, R"({"error":"invalid report"})");
  });
  ASSERT_OK_AND_ASSIGN(AttesterPtr a, AzureVtpmAttester::Create(TdxConfig(refusing.url())));
  auto refused = a->Evidence(TestBinding(3));
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message().find(R"(answered 400 to /acc/tdquote: {"error":"invalid report"})"),
            std::string::npos)
      << refused.error().message();
  // A bad URL or timeout is refused when the attester is made.
  EXPECT_CODE(AzureVtpmAttester::Create(TdxConfig("https://169.254.169.254")),
              Code::kInvalidArgument);
  AzureAttesterConfig zero = TdxConfig(kDefaultImdsUrl);
  zero.imds.timeout = std::chrono::milliseconds(0);
  EXPECT_CODE(AzureVtpmAttester::Create(zero), Code::kInvalidArgument);
  // ... only for TDX: SEV-SNP does not use it.
  AzureAttesterConfig snp = Config("azure-snp-vtpm");
  snp.imds.url = "https://169.254.169.254";
  EXPECT_OK(AzureVtpmAttester::Create(snp));
}

// The broker's full verifier, with the report's AMD chain at the capture's time, refuses: the
// real report's runtime data carries Azure's HCLAkPub, and this quote was made by swtpm's AK.
// (The hardware layer fails too: no public VCEK for this chip; MANIFEST AZ-SNP-1.)
TEST_F(AzureAttesterTest, BrokerVerifierRefusesTheAkMismatchByName) {
  ASSERT_OK_AND_ASSIGN(AttesterPtr attester, AzureVtpmAttester::Create(Config("azure-snp-vtpm")));
  const Bytes binding = TestBinding(9);
  ASSERT_OK_AND_ASSIGN(Bytes evidence, attester->Evidence(binding));
  az::AzureConfig config;
  config.platform = az::AzurePlatform::kSnp;
  config.snp.anchors.roots.push_back(
      vectors::ReadVector("../../sev-snp/go-sev-guest/ask_ark_milan.pem"));
  ASSERT_OK_AND_ASSIGN(auto verifier, az::AzureVtpmVerifier::Create(std::move(config)));
  const Bytes certs = vectors::ReadVector("certs.pem");
  auto r = verifier->Verify(
      attestation::VerifyInput{evidence, certs, binding, vectors::SnpChainTime(), {}});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kVerificationFailed);
  EXPECT_NE(r.error().message().find("must be made by the HCL report's HCLAkPub"),
            std::string::npos)
      << r.error().message();
}

// With a purpose (as sigil-load always configures), the purpose PCR is extended and its log goes
// into the quote, which the broker's Azure verifier reads through the same TPM verifier.
TEST_F(AzureAttesterTest, PurposeGoesIntoTheQuoteAsForTeeTpm) {
  TempDir logs;
  AzureAttesterConfig c = Config("azure-snp-vtpm");
  tpm::TpmPurposeConfig purpose;
  purpose.event =
      attestation::WorkloadPurpose{"sealed-memory", std::string(96, 'a'), std::string(64, 'b')};
  purpose.log_path = logs.File("purpose.json");
  c.purpose = purpose;
  ASSERT_OK_AND_ASSIGN(AttesterPtr attester, AzureVtpmAttester::Create(c));
  const Bytes binding = TestBinding(11);
  ASSERT_OK_AND_ASSIGN(Bytes evidence, attester->Evidence(binding));
  ASSERT_OK_AND_ASSIGN(az::AzureEvidence parsed, az::ParseAzureEvidence(evidence));
  ASSERT_TRUE(parsed.quote.has_value());
  ASSERT_OK_AND_ASSIGN(attestation::Claims claims, VerifyQuoteWithSwtpmAk(parsed, binding));
  EXPECT_EQ(claims.GetString("workload.mode"), "sealed-memory");
}

TEST_F(AzureAttesterTest, RefusalsNameWhatIsMissing) {
  // The NV index holds an SNP report: --tee azure-tdx-vtpm is named as the wrong choice.
  ASSERT_OK_AND_ASSIGN(AttesterPtr tdx, AzureVtpmAttester::Create(Config("azure-tdx-vtpm")));
  auto wrong = tdx->Evidence(TestBinding(1));
  EXPECT_CODE(wrong, Code::kInvalidArgument);
  if (!wrong) {
    EXPECT_NE(wrong.error().message().find("--tee azure-snp-vtpm"), std::string::npos);
  }

  AzureAttesterConfig no_index = Config("azure-snp-vtpm");
  no_index.hcl_report_index = 0x01400009;  // not an Azure CVM: nothing there
  ASSERT_OK_AND_ASSIGN(AttesterPtr a, AzureVtpmAttester::Create(no_index));
  EXPECT_CODE(a->Evidence(TestBinding(1)), Code::kNotFound);

  AzureAttesterConfig no_ak = Config("azure-snp-vtpm");
  no_ak.ak_handle = 0x81000009;
  ASSERT_OK_AND_ASSIGN(AttesterPtr b, AzureVtpmAttester::Create(no_ak));
  EXPECT_CODE(b->Evidence(TestBinding(1)), Code::kNotFound);

  ASSERT_OK_AND_ASSIGN(AttesterPtr c, AzureVtpmAttester::Create(Config("azure-snp-vtpm")));
  EXPECT_CODE(c->Evidence(Bytes(32, 1)), Code::kInvalidArgument);

  EXPECT_CODE(AzureVtpmAttester::Create(Config("tpm")), Code::kInvalidArgument);
  AzureAttesterConfig bad = Config("azure-snp-vtpm");
  bad.ak_handle = 0x01400001;
  EXPECT_CODE(AzureVtpmAttester::Create(bad), Code::kInvalidArgument);
  bad = Config("azure-snp-vtpm");
  bad.hcl_report_index = 0x81000003;
  EXPECT_CODE(AzureVtpmAttester::Create(bad), Code::kInvalidArgument);
  bad = Config("azure-snp-vtpm");
  bad.pcrs = "sha1:0";  // the verifier requires the SHA-256 bank
  EXPECT_CODE(AzureVtpmAttester::Create(bad), Code::kInvalidArgument);
}

}  // namespace
}  // namespace sigil::enclave::azure
