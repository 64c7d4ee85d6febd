// The verification caches (attestation/verified_cache.h): DcapVerifier memoises verified
// collateral by its bytes' digest, only inside the validity window, and never a failure.
#include <gtest/gtest.h>

#include "attestation/dcap/verifier.h"
#include "tests/support/matchers.h"
#include "tests/unit/attestation/dcap/dcap_test_util.h"

namespace sigil::attestation::dcap {
namespace {

using namespace testing;

std::unique_ptr<Verifier> Tdx() {
  DcapConfig cfg;
  cfg.trusted_root_certs = {Load(kRootDer)};
  auto v = DcapVerifier::Create(DcapTee::kTdx, cfg);
  EXPECT_TRUE(v.has_value());
  return std::move(v).value();
}

const DcapVerifier& AsDcap(const Verifier& v) { return static_cast<const DcapVerifier&>(v); }

TEST(DcapCache, CollateralIsVerifiedOnceAndReusedInsideItsWindow) {
  auto v = Tdx();
  const Bytes quote = Load(kTdx3);
  const Bytes collateral = Load(kTdx3Collateral);
  const TimePoint t = At(2025, 7, 19, 10, 0, 34);
  for (int i = 0; i < 3; ++i) EXPECT_OK(v->Verify({quote, collateral, {}, t}));
  EXPECT_EQ(AsDcap(*v).CachedCollateralCountForTest(), 1u);
  // Past the TCB info's nextUpdate (10:16:03) the cached entry does not apply: re-verified, refused.
  EXPECT_CODE(v->Verify({quote, collateral, {}, At(2025, 7, 19, 11, 0, 0)}), Code::kExpired);
  // Before the documents' issueDate (2025-06-19) likewise; inside the window the entry serves.
  EXPECT_FALSE(v->Verify({quote, collateral, {}, At(2025, 6, 1, 0, 0, 0)}).has_value());
  EXPECT_OK(v->Verify({quote, collateral, {}, At(2025, 7, 1, 0, 0, 0)}));
  EXPECT_EQ(AsDcap(*v).CachedCollateralCountForTest(), 1u);
}

TEST(DcapCache, FailuresAreNotCached) {
  auto v = Tdx();
  Bytes collateral = Load(kTdx3Collateral);
  const std::string text = ToString(collateral);
  const auto pos = text.find("UpToDate");
  ASSERT_NE(pos, std::string::npos);
  collateral[pos] = 'D';  // the signed TCB info text changes
  const TimePoint t = At(2025, 7, 19, 10, 0, 34);
  for (int i = 0; i < 2; ++i) {
    EXPECT_CODE(v->Verify({Load(kTdx3), collateral, {}, t}), Code::kVerificationFailed);
  }
  EXPECT_EQ(AsDcap(*v).CachedCollateralCountForTest(), 0u);
}

TEST(DcapCache, CachedChainStillChecksEachQuote) {
  auto v = Tdx();
  const Bytes collateral = Load(kTdx3Collateral);
  const TimePoint t = At(2025, 7, 19, 10, 0, 34);
  Bytes quote = Load(kTdx3);
  EXPECT_OK(v->Verify({quote, collateral, {}, t}));  // PCK chain now cached
  quote[48 + 136] ^= 0x01;                           // MRTD byte inside the signed body
  EXPECT_CODE(v->Verify({quote, collateral, {}, t}), Code::kVerificationFailed);
}

}  // namespace
}  // namespace sigil::attestation::dcap
