// DcapVerifier (the Verifier seam): configuration, collateral selection and collateral checks.
#include <gtest/gtest.h>

#include "attestation/dcap/verifier.h"
#include "core/encoding.h"
#include "core/json.h"
#include "dcap_test_util.h"
#include "tests/support/matchers.h"

namespace sigil::attestation::dcap {
namespace {
using namespace testing;

constexpr std::int64_t kTdx3Now = 1752919234;  // MANIFEST TDX-3
constexpr std::int64_t kSgx1Now = 1752919277;  // MANIFEST SGX-1

std::unique_ptr<Verifier> Make(DcapTee tee, std::optional<Bytes> collateral = std::nullopt) {
  return DcapVerifier::Create(tee, DcapConfig{{Load(kRootDer)}, std::move(collateral)}).value();
}

// The TDX-3 collateral with one member replaced.
Bytes EditedTdx3Collateral(const std::string& key, const std::string& value) {
  Json j = ParseJson(LoadText(kTdx3Collateral), "c").value();
  j[key] = value;
  return ToBytes(j.dump());
}

TEST(DcapVerifier, CreateValidatesRoots) {
  EXPECT_CODE(DcapVerifier::Create(DcapTee::kTdx, DcapConfig{}), Code::kInvalidArgument);
  EXPECT_CODE(DcapVerifier::Create(DcapTee::kTdx, DcapConfig{{ToBytes("not a cert")}, {}}),
              Code::kInvalidArgument);
  ASSERT_OK_AND_ASSIGN(auto v, DcapVerifier::Create(DcapTee::kTdx,
                                                    DcapConfig{{Load(kRootPem)}, {}}));
  EXPECT_EQ(v->tee(), "tdx");
  EXPECT_EQ(Make(DcapTee::kSgx)->tee(), "sgx");
  // PEM and DER roots work alike.
  EXPECT_OK(v->Verify({Load(kTdx3), Load(kTdx3Collateral), {}, Unix(kTdx3Now)}));
}

TEST(DcapVerifier, CollateralRequiredOrDefault) {
  EXPECT_CODE(Make(DcapTee::kTdx)->Verify({Load(kTdx3), {}, {}, Unix(kTdx3Now)}),
              Code::kInvalidArgument);
  auto v = Make(DcapTee::kTdx, Load(kTdx3Collateral));
  EXPECT_OK(v->Verify({Load(kTdx3), {}, {}, Unix(kTdx3Now)}));
  // The SGX collateral is for another platform and TEE.
  EXPECT_CODE(v->Verify({Load(kTdx3), Load(kSgx1Collateral), {}, Unix(kSgx1Now)}),
              Code::kVerificationFailed);
}

// The explicit opt-in (sigil attest verify --no-collateral): quote, QE report and PCK chain
// only, tcb.status NotEvaluated; collateral is refused rather than silently ignored.
TEST(DcapVerifier, SignatureAndChainOnlyIsExplicit) {
  DcapConfig cfg{{Load(kRootDer)}, {}};
  cfg.signature_and_chain_only = true;
  ASSERT_OK_AND_ASSIGN(auto v, DcapVerifier::Create(DcapTee::kTdx, cfg));
  ASSERT_OK_AND_ASSIGN(Claims c, v->Verify({Load(kTdx3), {}, {}, Unix(kTdx3Now)}));
  EXPECT_EQ(c.GetString("tcb.status").value_or(""), "NotEvaluated");
  // Outside the collateral's 30-day window, where full verification fails, the chain still holds.
  EXPECT_OK(v->Verify({Load(kTdx3), {}, {}, At(2026, 1, 1, 0, 0, 0)}));
  EXPECT_CODE(v->Verify({Load(kTdx3), Load(kTdx3Collateral), {}, Unix(kTdx3Now)}),
              Code::kInvalidArgument);
  Bytes flipped = Load(kTdx3);
  flipped[0x3C] ^= 0x01;  // a TD quote body byte: the quote signature fails
  EXPECT_CODE(v->Verify({flipped, {}, {}, Unix(kTdx3Now)}), Code::kVerificationFailed);
  cfg.default_collateral = Load(kTdx3Collateral);
  EXPECT_CODE(DcapVerifier::Create(DcapTee::kTdx, cfg), Code::kInvalidArgument);
}

TEST(DcapVerifier, WrongTeeRefused) {
  EXPECT_CODE(Make(DcapTee::kTdx)->Verify({Load(kSgx1), Load(kSgx1Collateral), {}, Unix(kSgx1Now)}),
              Code::kMalformedEvidence);
  EXPECT_CODE(Make(DcapTee::kSgx)->Verify({Load(kTdx3), Load(kTdx3Collateral), {}, Unix(kTdx3Now)}),
              Code::kMalformedEvidence);
}

// MANIFEST: after 2025-07-19T10:00:35Z (PCK CRL / TCB info nextUpdate) and before
// 2025-06-19T10:32:27Z (QE identity issueDate) the TDX-3 collateral is not valid.
TEST(DcapVerifier, CollateralOutsideValidityWindowRefused) {
  auto v = Make(DcapTee::kTdx);
  const Bytes quote = Load(kTdx3);
  const Bytes coll = Load(kTdx3Collateral);
  EXPECT_OK(v->Verify({quote, coll, {}, Unix(kTdx3Now)}));
  EXPECT_CODE(v->Verify({quote, coll, {}, Unix(kTdx3Now + 2)}), Code::kExpired);
  EXPECT_CODE(v->Verify({quote, coll, {}, At(2025, 6, 19, 10, 32, 26)}), Code::kExpired);
  EXPECT_CODE(v->Verify({quote, coll, {}, At(2030, 1, 1, 0, 0, 0)}), Code::kExpired);
  auto s = Make(DcapTee::kSgx);
  EXPECT_OK(s->Verify({Load(kSgx1), Load(kSgx1Collateral), {}, Unix(kSgx1Now)}));
  EXPECT_CODE(s->Verify({Load(kSgx1), Load(kSgx1Collateral), {}, Unix(kSgx1Now + 2)}),
              Code::kExpired);
}

TEST(DcapVerifier, TamperedCollateralRefused) {
  auto v = Make(DcapTee::kTdx);
  const Bytes quote = Load(kTdx3);
  const Json j = ParseJson(LoadText(kTdx3Collateral), "c").value();
  for (const char* key : {"tcb_info_signature", "qe_identity_signature"}) {
    SCOPED_TRACE(key);
    std::string sig = j[key].get<std::string>();
    sig[10] = sig[10] == '0' ? '1' : '0';
    EXPECT_CODE(v->Verify({quote, EditedTdx3Collateral(key, sig), {}, Unix(kTdx3Now)}),
                Code::kVerificationFailed);
  }
  for (const char* key : {"tcb_info", "qe_identity"}) {
    SCOPED_TRACE(key);
    std::string body = j[key].get<std::string>();
    const std::size_t at = body.find("UpToDate");
    ASSERT_NE(at, std::string::npos);
    body.replace(at, 8, "OutOfDat");
    EXPECT_CODE(v->Verify({quote, EditedTdx3Collateral(key, body), {}, Unix(kTdx3Now)}),
                Code::kVerificationFailed);
  }
  // A CRL that is not Intel's (the root CRL standing in for the PCK CRL): the leaf has no CRL.
  EXPECT_FALSE(v->Verify({quote,
                          EditedTdx3Collateral("pck_crl", j["root_ca_crl"].get<std::string>()),
                          {}, Unix(kTdx3Now)})
                   .has_value());
  EXPECT_CODE(v->Verify({quote, EditedTdx3Collateral("pck_crl", "00ff"), {}, Unix(kTdx3Now)}),
              Code::kMalformedEvidence);
  EXPECT_CODE(v->Verify({quote, ToBytes("{"), {}, Unix(kTdx3Now)}), Code::kMalformedEvidence);
}

TEST(DcapVerifier, ExtractSignedObjectIsExact) {
  ASSERT_OK_AND_ASSIGN(std::string body,
                       ExtractSignedObject(R"({"a":1, "tcbInfo" : {"x":"}\"{","y":{}} ,"s":2})",
                                           "tcbInfo"));
  EXPECT_EQ(body, R"({"x":"}\"{","y":{}})");
  EXPECT_CODE(ExtractSignedObject(R"({"tcbInfo":{"x":1)", "tcbInfo"), Code::kMalformedEvidence);
  EXPECT_CODE(ExtractSignedObject(R"({"other":{}})", "tcbInfo"), Code::kMalformedEvidence);
}

}  // namespace
}  // namespace sigil::attestation::dcap
