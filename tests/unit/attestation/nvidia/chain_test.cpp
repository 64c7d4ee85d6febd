// Refusals that need a signature Sigil can make: the real report's content re-signed with the
// key of a generated P-384 leaf under a generated root (nvidia_test_util.h). Covers CRL
// revocation, stale and forged CRLs, a leaf certifying another FWID, and a duplicated block or
// opaque record that is correctly signed.
#include <gtest/gtest.h>
#include <openssl/ocsp.h>

#include <algorithm>

#include "attestation/nvidia/chain.h"
#include "attestation/nvidia/verifier.h"
#include "core/encoding.h"
#include "tests/support/matchers.h"
#include "tests/unit/attestation/nvidia/nvidia_test_util.h"

namespace sigil::attestation::nvidia {
namespace {

using namespace sigil::testing::nvidia;  // NOLINT: test helpers

constexpr std::int64_t k20241201 = 1733011200;
constexpr std::int64_t k20241215 = 1734220800;
constexpr std::int64_t k20250201 = 1738368000;

std::array<std::uint8_t, 48> VectorFwid() {
  const Bytes b = HexDecode(kFwidHex).value();
  std::array<std::uint8_t, 48> out{};
  std::copy(b.begin(), b.end(), out.begin());
  return out;
}

class NvidiaTestPkiTest : public ::testing::Test {
 protected:
  NvidiaTestPkiTest() : pki_(MakePki(VectorFwid())) {
    NvidiaConfig config;
    config.roots.push_back(ToBytes(Pem(*pki_.root)));
    verifier_ = NvidiaVerifier::Create(std::move(config)).value();
    report_ = ParseReport(ReportBytes()).value();
  }

  Result<Claims> Verify(const Bytes& evidence, const std::string& extra_collateral = "") {
    const std::string collateral = Pem(*pki_.leaf) + Pem(*pki_.root) + extra_collateral;
    return verifier_->Verify({evidence, ToBytes(collateral), ExpectedNonce(), VerifyTime(), {}});
  }

  TestPki pki_;
  std::unique_ptr<Verifier> verifier_;
  Report report_;
};

TEST_F(NvidiaTestPkiTest, ResignedReportVerifiesWithoutRevocationData) {
  ASSERT_OK_AND_ASSIGN(const Claims c, Verify(SignReport(report_, *pki_.leaf_key)));
  EXPECT_EQ(c.GetString("nvidia.revocation"), "not-checked");
  EXPECT_EQ(c.GetString("nvidia.fwid"), kFwidHex);
}

TEST_F(NvidiaTestPkiTest, CurrentCrlNotListingTheLeafGivesGood) {
  const std::string crl = CrlPem(*pki_.root, *pki_.root_key, k20241201, k20250201, nullptr);
  ASSERT_OK_AND_ASSIGN(const Claims c, Verify(SignReport(report_, *pki_.leaf_key), crl));
  EXPECT_EQ(c.GetString("nvidia.revocation"), "good");
}

TEST_F(NvidiaTestPkiTest, RevokedLeafIsRefused) {
  const std::string crl = CrlPem(*pki_.root, *pki_.root_key, k20241201, k20250201, pki_.leaf.get());
  auto r = Verify(SignReport(report_, *pki_.leaf_key), crl);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kVerificationFailed);
  EXPECT_NE(r.error().message().find("'Sigil Test GSP FMC LF' is revoked"), std::string::npos)
      << r.error().message();
}

TEST_F(NvidiaTestPkiTest, StaleCrlIsRefused) {
  const std::string crl = CrlPem(*pki_.root, *pki_.root_key, k20241201, k20241215, nullptr);
  EXPECT_CODE(Verify(SignReport(report_, *pki_.leaf_key), crl), Code::kExpired);
  const std::string future = CrlPem(*pki_.root, *pki_.root_key, k20250201, k20250201 + 86400,
                                    nullptr);
  EXPECT_CODE(Verify(SignReport(report_, *pki_.leaf_key), future), Code::kExpired);
}

TEST_F(NvidiaTestPkiTest, CrlNotSignedByTheIssuerIsRefused) {
  // Same issuer name, another key: a forged "nothing is revoked" list.
  const TestPki other = MakePki(VectorFwid());
  const std::string crl = CrlPem(*pki_.root, *other.root_key, k20241201, k20250201, nullptr);
  auto r = Verify(SignReport(report_, *pki_.leaf_key), crl);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kVerificationFailed);
  EXPECT_NE(r.error().message().find("signature does not verify"), std::string::npos);
}

TEST_F(NvidiaTestPkiTest, CrlOfAnotherIssuerDoesNotCount) {
  // Issued by a name no chain certificate has as its issuer.
  const std::string crl = CrlPem(*pki_.leaf, *pki_.leaf_key, k20241201, k20250201, nullptr);
  ASSERT_OK_AND_ASSIGN(const Claims c, Verify(SignReport(report_, *pki_.leaf_key), crl));
  EXPECT_EQ(c.GetString("nvidia.revocation"), "not-checked");
}

// root -> ICA -> leaf: revocation must cover both the leaf and the ICA to be "good".
TEST(NvidiaThreeLevelPkiTest, RevocationCoversEveryCertificateBelowTheRoot) {
  const TestPki3 pki = MakePki3(VectorFwid());
  NvidiaConfig config;
  config.roots.push_back(ToBytes(Pem(*pki.base.root)));
  auto v = NvidiaVerifier::Create(std::move(config)).value();
  const Bytes evidence = SignReport(ParseReport(ReportBytes()).value(), *pki.base.leaf_key);
  const std::string chain = Pem(*pki.base.leaf) + Pem(*pki.ica);
  const auto run = [&](const std::string& extra) {
    return v->Verify({evidence, ToBytes(chain + extra), ExpectedNonce(), VerifyTime(), {}});
  };
  ASSERT_OK_AND_ASSIGN(const Claims none, run(""));
  EXPECT_EQ(none.GetString("nvidia.revocation"), "not-checked");
  const std::string ica_crl = CrlPem(*pki.ica, *pki.ica_key, k20241201, k20250201, nullptr);
  ASSERT_OK_AND_ASSIGN(const Claims partial, run(ica_crl));
  EXPECT_EQ(partial.GetString("nvidia.revocation"), "partial");
  const std::string root_ocsp = OcspPem(*pki.ica, *pki.base.root, *pki.base.root,
                                        *pki.base.root_key, V_OCSP_CERTSTATUS_GOOD, k20241201,
                                        k20250201);
  ASSERT_OK_AND_ASSIGN(const Claims good, run(ica_crl + root_ocsp));
  EXPECT_EQ(good.GetString("nvidia.revocation"), "good");
  // A revoked intermediate refuses the report even though the leaf itself is fine.
  const std::string root_crl =
      CrlPem(*pki.base.root, *pki.base.root_key, k20241201, k20250201, pki.ica.get());
  auto revoked = run(ica_crl + root_crl);
  ASSERT_FALSE(revoked.has_value());
  EXPECT_NE(revoked.error().message().find("'Sigil Test ICA' is revoked"), std::string::npos)
      << revoked.error().message();
  // An OCSP response signed by the ICA for the leaf (the issuer answering for its own child).
  const std::string ica_ocsp = OcspPem(*pki.base.leaf, *pki.ica, *pki.ica, *pki.ica_key,
                                       V_OCSP_CERTSTATUS_REVOKED, k20241201, k20250201);
  EXPECT_CODE(run(ica_ocsp), Code::kVerificationFailed);
}

TEST_F(NvidiaTestPkiTest, GoodOcspResponseGivesGood) {
  const std::string ocsp = OcspPem(*pki_.leaf, *pki_.root, *pki_.root, *pki_.root_key,
                                   V_OCSP_CERTSTATUS_GOOD, k20241201, k20250201);
  ASSERT_OK_AND_ASSIGN(const Claims c, Verify(SignReport(report_, *pki_.leaf_key), ocsp));
  EXPECT_EQ(c.GetString("nvidia.revocation"), "good");
}

TEST_F(NvidiaTestPkiTest, OcspRevokedOrUnknownIsRefused) {
  const Bytes evidence = SignReport(report_, *pki_.leaf_key);
  auto revoked = Verify(evidence, OcspPem(*pki_.leaf, *pki_.root, *pki_.root, *pki_.root_key,
                                          V_OCSP_CERTSTATUS_REVOKED, k20241201, k20250201));
  ASSERT_FALSE(revoked.has_value());
  EXPECT_EQ(revoked.error().code(), Code::kVerificationFailed);
  EXPECT_NE(revoked.error().message().find("is revoked (OCSP"), std::string::npos)
      << revoked.error().message();
  EXPECT_CODE(Verify(evidence, OcspPem(*pki_.leaf, *pki_.root, *pki_.root, *pki_.root_key,
                                       V_OCSP_CERTSTATUS_UNKNOWN, k20241201, k20250201)),
              Code::kVerificationFailed);
}

TEST_F(NvidiaTestPkiTest, StaleOrForgedOcspIsRefused) {
  const Bytes evidence = SignReport(report_, *pki_.leaf_key);
  EXPECT_CODE(Verify(evidence, OcspPem(*pki_.leaf, *pki_.root, *pki_.root, *pki_.root_key,
                                       V_OCSP_CERTSTATUS_GOOD, k20241201, k20241215)),
              Code::kExpired);
  // Signed by an unrelated root (not the issuer, not delegated by it).
  const TestPki other = MakePki(VectorFwid());
  EXPECT_CODE(Verify(evidence, OcspPem(*pki_.leaf, *pki_.root, *other.root, *other.root_key,
                                       V_OCSP_CERTSTATUS_GOOD, k20241201, k20250201)),
              Code::kVerificationFailed);
  // An OCSP response about another certificate does not count.
  const std::string elsewhere = OcspPem(*other.leaf, *other.root, *other.root, *other.root_key,
                                        V_OCSP_CERTSTATUS_REVOKED, k20241201, k20250201);
  ASSERT_OK_AND_ASSIGN(const Claims c, Verify(evidence, elsewhere));
  EXPECT_EQ(c.GetString("nvidia.revocation"), "not-checked");
}

TEST_F(NvidiaTestPkiTest, LeafCertifyingAnotherFwidIsRefused) {
  auto fwid = VectorFwid();
  fwid[0] ^= 0x01;
  const TestPki pki = MakePki(fwid);
  NvidiaConfig config;
  config.roots.push_back(ToBytes(Pem(*pki.root)));
  auto v = NvidiaVerifier::Create(std::move(config)).value();
  const Bytes evidence = SignReport(report_, *pki.leaf_key);  // signature itself is good
  auto r = v->Verify({evidence, ToBytes(Pem(*pki.leaf) + Pem(*pki.root)), ExpectedNonce(),
                      VerifyTime(), {}});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kVerificationFailed);
  EXPECT_NE(r.error().message().find("FWID"), std::string::npos) << r.error().message();
}

TEST_F(NvidiaTestPkiTest, ReportWithoutFwidIsRefused) {
  Report r = report_;
  std::erase_if(r.opaque, [](const OpaqueRecord& o) { return o.type == kOpaqueFwid; });
  EXPECT_CODE(Verify(SignReport(r, *pki_.leaf_key)), Code::kVerificationFailed);
}

TEST_F(NvidiaTestPkiTest, SignedDuplicatesAreStillRefused) {
  Report dup_block = report_;
  dup_block.blocks[1].index = 1;
  EXPECT_CODE(Verify(SignReport(dup_block, *pki_.leaf_key)), Code::kMalformedEvidence);
  Report dup_opaque = report_;
  dup_opaque.opaque.push_back({kOpaqueDriverVersion, ToBytes("999.99")});
  EXPECT_CODE(Verify(SignReport(dup_opaque, *pki_.leaf_key)), Code::kMalformedEvidence);
  Bytes trailing = SignReport(report_, *pki_.leaf_key);
  trailing.push_back(0);
  EXPECT_CODE(Verify(trailing), Code::kMalformedEvidence);
}

// The measurement claim is defined over blocks in index order, whatever the wire order.
TEST_F(NvidiaTestPkiTest, MeasurementDoesNotDependOnBlockOrder) {
  ASSERT_OK_AND_ASSIGN(const Claims in_order, Verify(SignReport(report_, *pki_.leaf_key)));
  Report reversed = report_;
  std::reverse(reversed.blocks.begin(), reversed.blocks.end());
  ASSERT_OK_AND_ASSIGN(const Claims c, Verify(SignReport(reversed, *pki_.leaf_key)));
  EXPECT_EQ(c.GetString("measurement"), in_order.GetString("measurement"));
  EXPECT_EQ(c.GetString("nvidia.measurement.2"), in_order.GetString("nvidia.measurement.2"));
  EXPECT_EQ(c, in_order);
}

TEST_F(NvidiaTestPkiTest, FeatureFlagsArePublishedRaw) {
  Report r = report_;
  r.opaque.push_back({kOpaqueFeatureFlags, Bytes{0x01, 0x00, 0x00, 0x00}});
  ASSERT_OK_AND_ASSIGN(const Claims c, Verify(SignReport(r, *pki_.leaf_key)));
  EXPECT_EQ(c.GetString("nvidia.cc_mode"), "flags:01000000");
}

}  // namespace
}  // namespace sigil::attestation::nvidia
