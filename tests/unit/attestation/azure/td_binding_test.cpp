// The TDX hardware layer: a TD quote speaks for the HCL report's TDREPORT only if its body
// repeats the TDREPORT's fields. The shared vectors hold no TD quote made from the Azure
// TDREPORT (MANIFEST AZ-TDX-1), so a real quote (dcap-qvl, /work/shared/vectors/tdx) is
// checked against the Azure TDREPORT (refused) and against a TDREPORT rewritten to carry that
// quote's body (accepted; each field then changed in turn is refused by name).
#include "attestation/azure/td_binding.h"

#include <gtest/gtest.h>

#include "attestation/azure/hcl_verify.h"
#include "tests/support/matchers.h"
#include "tests/unit/attestation/azure/azure_test_util.h"

namespace sigil::attestation::azure {
namespace {

using namespace sigil::testing::azure;  // NOLINT: test helpers

Bytes TdxQuote() { return ReadVector("../../tdx/dcap-qvl/tdx_quote.bin"); }

template <std::size_t N>
void Put(Bytes& b, std::size_t off, const std::array<std::uint8_t, N>& v) {
  std::copy(v.begin(), v.end(), b.begin() + static_cast<std::ptrdiff_t>(off));
}

// derived_tdreport.bin with the quote body's fields written at their TDREPORT offsets.
Bytes TdReportFromBody(const dcap::TdReportBody& q) {
  Bytes b = ReadVector("derived_tdreport.bin");
  Put(b, 128, q.report_data);
  Put(b, 264, q.tee_tcb_svn);
  Put(b, 280, q.mr_seam);
  Put(b, 328, q.mr_signer_seam);
  Put(b, 376, q.seam_attributes);
  Put(b, 512, q.td_attributes);
  Put(b, 520, q.xfam);
  Put(b, 528, q.mr_td);
  Put(b, 576, q.mr_config_id);
  Put(b, 624, q.mr_owner);
  Put(b, 672, q.mr_owner_config);
  for (std::size_t i = 0; i < 4; ++i) Put(b, 720 + 48 * i, q.rtmr[i]);
  if (q.tee_tcb_svn2) Put(b, 384, *q.tee_tcb_svn2);
  if (q.mr_service_td) Put(b, 912, *q.mr_service_td);
  return b;
}

TEST(TdBindingTest, AzureTdReportDoesNotMatchAnUnrelatedQuote) {
  const Bytes quote_bytes = TdxQuote();
  ASSERT_OK_AND_ASSIGN(dcap::Quote quote, dcap::ParseQuote(quote_bytes));
  ASSERT_TRUE(quote.td.has_value());
  const TdReport azure = ParseTdReport(ReadVector("derived_tdreport.bin")).value();
  auto r = CheckTdQuoteMatchesTdReport(*quote.td, azure);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kVerificationFailed);
  EXPECT_NE(r.error().message().find("differs"), std::string::npos);
}

TEST(TdBindingTest, MatchingBodyPassesAndEveryFieldIsCompared) {
  const Bytes quote_bytes = TdxQuote();
  const dcap::Quote quote = dcap::ParseQuote(quote_bytes).value();
  const Bytes matching = TdReportFromBody(*quote.td);
  EXPECT_OK(CheckTdQuoteMatchesTdReport(*quote.td, ParseTdReport(matching).value()));
  const std::pair<std::size_t, const char*> fields[] = {
      {128, "REPORTDATA"}, {191, "REPORTDATA"}, {264, "TEE_TCB_SVN"}, {280, "MRSEAM"},
      {328, "MRSIGNERSEAM"}, {376, "SEAM ATTRIBUTES"}, {512, "TD ATTRIBUTES"}, {520, "XFAM"},
      {528, "MRTD"}, {576, "MRCONFIGID"}, {624, "MROWNER"}, {672, "MROWNERCONFIG"},
      {720, "RTMR0"}, {768, "RTMR1"}, {816, "RTMR2"}, {911, "RTMR3"}};
  for (const auto& [off, name] : fields) {
    Bytes b = matching;
    b[off] ^= 0x01;
    auto r = CheckTdQuoteMatchesTdReport(*quote.td, ParseTdReport(b).value());
    ASSERT_FALSE(r.has_value()) << name;
    EXPECT_NE(r.error().message().find(std::string(name) + " differs"), std::string::npos)
        << r.error().message();
  }
}

TEST(TdBindingTest, HclWithAnUnrelatedTdQuoteIsRefused) {
  AzureConfig config;
  config.platform = AzurePlatform::kTdx;
  // No DCAP anchor: a TD quote cannot be used.
  auto no_anchor = VerifyHclReport(TdxHcl(), {}, TdxQuote(), config, At(1767225600));
  EXPECT_CODE(no_anchor, Code::kInvalidArgument);
  // Intel root, signatures and chain only (no collateral): the quote itself verifies, but its
  // REPORTDATA is not the Azure TDREPORT's, so the hardware layer is refused.
  dcap::DcapConfig dcap;
  dcap.trusted_root_certs.push_back(ReadVector("../../tdx/dcap-qvl/TrustedRootCA.der"));
  dcap.signature_and_chain_only = true;
  config.tdx = dcap;
  auto r = VerifyHclReport(TdxHcl(), {}, TdxQuote(), config, At(1767225600));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kVerificationFailed);
  EXPECT_NE(r.error().message().find("azure-tdx-vtpm TD quote"), std::string::npos)
      << r.error().message();
  // Without the TD quote the same configuration reports the layer as not verified.
  ASSERT_OK_AND_ASSIGN(HclVerification v, VerifyHclReport(TdxHcl(), config, At(1767225600)));
  EXPECT_FALSE(v.hardware_verified);
  // An SNP HCL report with a TD quote is refused.
  AzureConfig snp;
  snp.snp.anchors.roots.push_back(ReadVector("../../sev-snp/go-sev-guest/ask_ark_milan.pem"));
  EXPECT_CODE(VerifyHclReport(SnpHcl(), {}, TdxQuote(), snp, At(1678665600)), Code::kInvalidArgument);
}

}  // namespace
}  // namespace sigil::attestation::azure
