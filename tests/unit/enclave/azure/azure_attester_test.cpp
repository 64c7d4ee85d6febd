// AzureVtpmAttester against a real TPM (swtpm) set up as Azure's paravisor leaves a CVM's vTPM:
// the REAL HCL report of /work/shared/vectors/azure-cvm (AZ-SNP-1) written to NV index
// 0x01400001, an RSA AK persisted at 0x81000003. The evidence parses with the broker's own
// parser, carries the NV bytes unchanged and a quote that verifies with swtpm's AK over our
// binding; and the broker's full verifier refuses it because the report's runtime data names
// Azure's AK (HCLAkPub), not swtpm's. The positive path needs a real Azure confidential VM, whose
// paravisor writes a report naming the vTPM's own AK.
// Only the SNP capture fits: libtpms caps an NV index at 2048 bytes (MAX_NV_INDEX_SIZE), and the
// TDX capture (AZ-TDX-1) is 2600 bytes as read (2438 without its padding). azure-tdx-vtpm runs the
// same code; its platform check is tested against the SNP report below.
#include "enclave/azure/azure_attester.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "attestation/azure/evidence.h"
#include "attestation/azure/verifier.h"
#include "attestation/tpm/attest.h"
#include "attestation/tpm/evidence.h"
#include "attestation/tpm/verifier.h"
#include "core/bytes.h"
#include "enclave/tpm/ak.h"
#include "enclave/tpm/esys.h"
#include "tests/support/matchers.h"
#include "tests/support/swtpm.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/attestation/azure/azure_test_util.h"
#include "tests/unit/enclave/tpm/tpm_test_util.h"

namespace sigil::enclave::azure {
namespace {

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

// What Azure's paravisor does at boot: an owner-readable NV index holding the HCL report
// (TPM2_NV_DefineSpace, then TPM2_NV_Write in chunks below the TPM's NV buffer size).
Result<void> WriteNvIndex(const tpm::EsysContext& ctx, TPM2_HANDLE index, const Bytes& data) {
  TPM2B_AUTH auth{};
  TPM2B_NV_PUBLIC pub{};
  pub.nvPublic.nvIndex = index;
  pub.nvPublic.nameAlg = TPM2_ALG_SHA256;
  pub.nvPublic.attributes =
      TPMA_NV_OWNERWRITE | TPMA_NV_OWNERREAD | TPMA_NV_AUTHWRITE | TPMA_NV_AUTHREAD;
  pub.nvPublic.dataSize = static_cast<UINT16>(data.size());
  ESYS_TR raw = ESYS_TR_NONE;
  SIGIL_RETURN_IF_ERROR(
      tpm::Status(Esys_NV_DefineSpace(ctx.get(), ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                      ESYS_TR_NONE, &auth, &pub, &raw),
                  "Esys_NV_DefineSpace"));
  tpm::TrCloser nv(ctx.get(), raw);
  for (std::size_t off = 0; off < data.size(); off += 512) {
    TPM2B_MAX_NV_BUFFER chunk{};
    chunk.size = static_cast<UINT16>(std::min<std::size_t>(512, data.size() - off));
    std::copy_n(data.begin() + static_cast<std::ptrdiff_t>(off), chunk.size, chunk.buffer);
    SIGIL_RETURN_IF_ERROR(
        tpm::Status(Esys_NV_Write(ctx.get(), ESYS_TR_RH_OWNER, nv.get(), ESYS_TR_PASSWORD,
                                  ESYS_TR_NONE, ESYS_TR_NONE, &chunk, static_cast<UINT16>(off)),
                    "Esys_NV_Write"));
  }
  return Ok();
}

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
  }
  static void TearDownTestSuite() {
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
};
TempDir* AzureAttesterTest::dir_ = nullptr;
Swtpm* AzureAttesterTest::swtpm_ = nullptr;
Bytes* AzureAttesterTest::ak_pem_ = nullptr;

TEST_F(AzureAttesterTest, EvidenceCarriesTheNvReportAndAQuoteOverTheBinding) {
  ASSERT_OK_AND_ASSIGN(AttesterPtr attester, AzureVtpmAttester::Create(Config("azure-snp-vtpm")));
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
