// TCB evaluation (tcb_status.h) on the real TCB info / QE identity documents, including the
// cases the vectors cannot reach through the signed path (statuses edited after verification).
#include <gtest/gtest.h>

#include "attestation/dcap/pck.h"
#include "attestation/dcap/quote.h"
#include "attestation/dcap/tcb_status.h"
#include "attestation/dcap/verifier.h"
#include "core/encoding.h"
#include "core/json.h"
#include "dcap_test_util.h"
#include "tests/support/matchers.h"

namespace sigil::attestation::dcap {
namespace {
using namespace testing;

struct Parsed {
  Bytes bytes;
  Quote quote;
  PckChain chain;
  PckExtensions pck;
};

Parsed ParseAll(const char* rel) {
  Parsed p;
  p.bytes = Load(rel);
  p.quote = ParseQuote(p.bytes).value();
  p.chain = ParsePckChain(p.quote.pck_chain_pem).value();
  p.pck = ParsePckExtensions(p.chain.leaf()).value();
  return p;
}

VerifiedCollateral Sgx1Collateral() {
  return VerifyCollateral(ParseCollateral(Load(kSgx1Collateral)).value(), Roots(),
                          Unix(1752919277))
      .value();
}

TEST(DcapTcb, PckExtensionsOfTdx1) {
  Parsed p = ParseAll(kTdx1);
  EXPECT_EQ(p.pck.pce_svn, 11);
  const std::array<std::uint8_t, 16> comps{3, 3, 2, 2, 2, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(p.pck.tcb_comp_svn, comps);
  EXPECT_EQ(p.pck.pce_id, (std::array<std::uint8_t, 2>{0, 0}));
  EXPECT_EQ(p.pck.fmspc, (std::array<std::uint8_t, 6>{0x50, 0x80, 0x6f, 0, 0, 0}));
}

// TDX-2: the v5 TCB info (signed by the re-issued TCB Signing cert from TDX-3's collateral)
// rates the v5 quote UpToDate: platform, TDX module TDX_01 and QE (MANIFEST, helper evaluation).
// The QE identity is TDX-3's (2025): go-tdx-guest's is from 2023 (see README, "Vectors").
TEST(DcapTcb, Tdx2V5TcbInfoUpToDate) {
  Parsed p = ParseAll(kTdx2);
  const std::string tcb_text = LoadText("tdx/go-tdx-guest/sample_tcbinfo_response_v5.json");
  ASSERT_OK_AND_ASSIGN(std::string body, ExtractSignedObject(tcb_text, "tcbInfo"));
  const Json response = ParseJson(tcb_text, "v5").value();
  const Json qvl = ParseJson(LoadText(kTdx3Collateral), "tdx3").value();
  ASSERT_OK_AND_ASSIGN(auto chain, ParsePemCerts(AsBytes(qvl["tcb_info_issuer_chain"]
                                                             .get<std::string>()),
                                                 "chain"));
  const auto now = At(2026, 2, 3, 1, 0, 0);
  ASSERT_OK(VerifyChain(Roots(), chain[0].get(), {chain[1].get()}, {}, now, "TCB signing"));
  const Bytes sig = HexDecode(response["signature"].get<std::string>()).value();
  ASSERT_OK(VerifyEcdsaRaw(X509_get0_pubkey(chain[0].get()), AsBytes(body), sig, "v5 tcbInfo"));
  ASSERT_OK_AND_ASSIGN(TcbInfo tcb, ParseTcbInfo(body));
  ASSERT_OK_AND_ASSIGN(QeIdentity qe, ParseQeIdentity(qvl["qe_identity"].get<std::string>()));
  ASSERT_OK_AND_ASSIGN(TcbResult r, EvaluateTcb(tcb, qe, p.pck, p.quote));
  EXPECT_EQ(r.status, "UpToDate");
  EXPECT_EQ(r.platform_status, "UpToDate");
  EXPECT_EQ(r.tdx_module_status, "UpToDate");
  EXPECT_EQ(r.qe_status, "UpToDate");
}

// TDX-1's FMSPC (50806f000000) against a TCB info for another platform.
TEST(DcapTcb, FmspcMismatchRefused) {
  Parsed p = ParseAll(kTdx1);
  VerifiedCollateral vc =
      VerifyCollateral(ParseCollateral(AsBytes(Tdx1Collateral())).value(), Roots(),
                       At(2023, 7, 1, 1, 0, 0))
          .value();
  vc.tcb_info.fmspc = {0x11, 0x11, 0x1f, 0, 0, 0};
  auto r = EvaluateTcb(vc.tcb_info, vc.qe_identity, p.pck, p.quote);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kVerificationFailed);
  EXPECT_NE(r.error().message().find("50806f000000"), std::string::npos);
}

// As go-tdx-guest's test does: with the lowest level's SVNs zeroed, TDX-1 matches it.
TEST(DcapTcb, Tdx1MatchesZeroedLevel) {
  Parsed p = ParseAll(kTdx1);
  VerifiedCollateral vc =
      VerifyCollateral(ParseCollateral(AsBytes(Tdx1Collateral())).value(), Roots(),
                       At(2023, 7, 1, 1, 0, 0))
          .value();
  EXPECT_CODE(EvaluateTcb(vc.tcb_info, vc.qe_identity, p.pck, p.quote), Code::kVerificationFailed);
  auto& last = vc.tcb_info.levels.back();
  last.sgx_svn = {};
  last.pce_svn = 0;
  last.tdx_svn.emplace();
  ASSERT_OK_AND_ASSIGN(TcbResult r, EvaluateTcb(vc.tcb_info, vc.qe_identity, p.pck, p.quote));
  EXPECT_EQ(r.platform_status, last.status);
  EXPECT_EQ(r.qe_status, "UpToDate");
}

// QVL convergence: an OutOfDate QE turns ConfigurationAndSWHardeningNeeded into
// OutOfDateConfigurationNeeded; a Revoked platform level is reported as Revoked.
TEST(DcapTcb, ConvergenceRules) {
  Parsed p = ParseAll(kSgx1);
  VerifiedCollateral vc = Sgx1Collateral();
  ASSERT_OK_AND_ASSIGN(TcbResult base, EvaluateTcb(vc.tcb_info, vc.qe_identity, p.pck, p.quote));
  EXPECT_EQ(base.platform_status, "ConfigurationAndSWHardeningNeeded");
  EXPECT_EQ(base.qe_status, "UpToDate");
  for (auto& l : vc.qe_identity.levels) l.status = "OutOfDate";
  ASSERT_OK_AND_ASSIGN(TcbResult ood, EvaluateTcb(vc.tcb_info, vc.qe_identity, p.pck, p.quote));
  EXPECT_EQ(ood.status, "OutOfDateConfigurationNeeded");
  for (auto& l : vc.tcb_info.levels) l.status = "Revoked";
  ASSERT_OK_AND_ASSIGN(TcbResult rev, EvaluateTcb(vc.tcb_info, vc.qe_identity, p.pck, p.quote));
  EXPECT_EQ(rev.status, "Revoked");
  for (auto& l : vc.tcb_info.levels) l.status = "Bogus";
  EXPECT_CODE(EvaluateTcb(vc.tcb_info, vc.qe_identity, p.pck, p.quote), Code::kVerificationFailed);
}

// The verifier refuses a converged Revoked status (collateral edited after verification).
TEST(DcapTcb, VerifierRefusesRevoked) {
  const Bytes quote = Load(kSgx1);
  VerifiedCollateral vc = Sgx1Collateral();
  EXPECT_OK(VerifyDcapQuote(DcapTee::kSgx, quote, Roots(), &vc, {}, Unix(1752919277)));
  for (auto& l : vc.qe_identity.levels) l.status = "Revoked";
  auto r = VerifyDcapQuote(DcapTee::kSgx, quote, Roots(), &vc, {}, Unix(1752919277));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kVerificationFailed);
  EXPECT_NE(r.error().message().find("Revoked"), std::string::npos);
}

// QE identity that is not the quote's QE: MRSIGNER, ISVPRODID, TEE kind.
TEST(DcapTcb, QeIdentityMismatchRefused) {
  Parsed p = ParseAll(kSgx1);
  VerifiedCollateral vc = Sgx1Collateral();
  QeIdentity qe = vc.qe_identity;
  qe.mr_signer[0] ^= 1;
  EXPECT_CODE(EvaluateTcb(vc.tcb_info, qe, p.pck, p.quote), Code::kVerificationFailed);
  qe = vc.qe_identity;
  qe.isv_prod_id ^= 1;
  EXPECT_CODE(EvaluateTcb(vc.tcb_info, qe, p.pck, p.quote), Code::kVerificationFailed);
  qe = vc.qe_identity;
  qe.id = "TD_QE";
  EXPECT_CODE(EvaluateTcb(vc.tcb_info, qe, p.pck, p.quote), Code::kVerificationFailed);
  qe = vc.qe_identity;
  for (auto& l : qe.levels) l.isv_svn = 60000;
  EXPECT_CODE(EvaluateTcb(vc.tcb_info, qe, p.pck, p.quote), Code::kVerificationFailed);
}

// Dates a nanosecond system_clock cannot hold (after 2262 / before 1678) would wrap around;
// they and out-of-range fields are refused, naming the date.
TEST(DcapTcb, DatesOutsideTheClockRangeRefused) {
  const std::string tcb_text = LoadText("tdx/go-tdx-guest/sample_tcbinfo_response_v5.json");
  ASSERT_OK_AND_ASSIGN(std::string body, ExtractSignedObject(tcb_text, "tcbInfo"));
  const std::string good = "\"nextUpdate\":\"2026-03-03T14:49:26Z\"";
  ASSERT_NE(body.find(good), std::string::npos);
  ASSERT_OK_AND_ASSIGN(TcbInfo ok, ParseTcbInfo(body));
  EXPECT_EQ(ok.next_update, At(2026, 3, 3, 14, 49, 26));
  for (const char* date : {"2300-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2250-01-01T00:00:00Z",
                           "0000-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "2026-13-01T00:00:00Z",
                           "2026-02-00T00:00:00Z", "2026-02-01T24:00:00Z"}) {
    SCOPED_TRACE(date);
    std::string edited = body;
    edited.replace(edited.find(good), good.size(), std::string("\"nextUpdate\":\"") + date + "\"");
    auto r = ParseTcbInfo(edited);
    EXPECT_CODE(r, Code::kMalformedEvidence);
    EXPECT_NE(r.error().message().find(date), std::string::npos) << r.error().message();
  }
  std::string edited = body;
  edited.replace(edited.find(good), good.size(), "\"nextUpdate\":\"2249-12-31T23:59:59Z\"");
  ASSERT_OK_AND_ASSIGN(TcbInfo late, ParseTcbInfo(edited));
  EXPECT_EQ(late.next_update, At(2249, 12, 31, 23, 59, 59));
}

}  // namespace
}  // namespace sigil::attestation::dcap
