// SnpConfig::cert_source (the broker's imported VCEKs/ASKs) and the memoised chain check.
#include <gtest/gtest.h>

#include "attestation/snp/certs.h"
#include "attestation/snp/verifier.h"
#include "core/json.h"
#include "tests/support/matchers.h"
#include "tests/unit/attestation/snp/snp_test_util.h"

namespace sigil::attestation::snp {
namespace {

using namespace sigil::testing::snp;

// Certificates as the broker's store would hand them out: VCEKs of both vectors and the ASK.
std::vector<X509Ptr> StoreCerts() {
  std::vector<X509Ptr> out;
  for (const char* f : {"go-sev-guest/vcek.der", "virtee-sev/vcek_milan.der", "go-sev-guest/ask_ark_milan.pem"}) {
    auto certs = LoadCertificates(ReadVector(f), Code::kInvalidArgument);
    EXPECT_TRUE(certs.has_value()) << f;
    for (X509Ptr& c : *certs) out.push_back(std::move(c));
  }
  return out;
}

std::unique_ptr<Verifier> WithSource(std::function<std::vector<X509Ptr>()> source) {
  SnpConfig cfg;
  // Anchor only the ARK: the ASK must come from the source.
  const std::string pem = ToString(ReadVector("go-sev-guest/ask_ark_milan.pem"));
  cfg.anchors.roots = {ToBytes(pem.substr(pem.find("-----BEGIN CERTIFICATE-----", 10)))};
  cfg.cert_source = std::move(source);
  auto v = SnpVerifier::Create(std::move(cfg));
  EXPECT_TRUE(v.has_value()) << (v ? "" : v.error().message());
  return std::move(v).value();
}

TEST(SnpCertSource, PicksTheMatchingImportedVcekForEachReport) {
  int calls = 0;
  auto v = WithSource([&] {
    ++calls;
    return StoreCerts();
  });
  EXPECT_OK(v->Verify({Snp1Report(), {}, {}, Snp1Time()}));
  EXPECT_OK(v->Verify({Snp2Report(), {}, {}, Snp2Time()}));
  EXPECT_EQ(calls, 2);
  // A VCEK in the request is used with the store's ASK ...
  EXPECT_OK(v->Verify({Snp1Report(), ReadVector("go-sev-guest/vcek.der"), {}, Snp1Time()}));
  EXPECT_EQ(calls, 3);
  // ... and a request carrying VCEK and ASK does not consult the store.
  // (collateral JSON form, attestation/snp/collateral.h)
  const Json j{{"vcek", Base64Encode(ReadVector("go-sev-guest/vcek.der"))},
               {"chain", ToString(ReadVector("go-sev-guest/ask_ark_milan.pem"))}};
  const Bytes chain = ToBytes(j.dump());
  EXPECT_OK(v->Verify({Snp1Report(), chain, {}, Snp1Time()}));
  EXPECT_EQ(calls, 3);
}

TEST(SnpCertSource, EmptyStoreRefuses) {
  auto v = WithSource([] { return std::vector<X509Ptr>{}; });
  EXPECT_CODE(v->Verify({Snp1Report(), {}, {}, Snp1Time()}), Code::kVerificationFailed);
}

TEST(SnpChainCache, ValidityIsStillCheckedAfterACachedSuccess) {
  auto v = WithSource(StoreCerts);
  EXPECT_OK(v->Verify({Snp1Report(), {}, {}, Snp1Time()}));
  EXPECT_OK(v->Verify({Snp1Report(), {}, {}, Snp1Time()}));
  // The VCEK expires 2029-09-24T00:55:28Z: a later time is outside the cached window.
  EXPECT_CODE(v->Verify({Snp1Report(), {}, {}, At(1900000000)}), Code::kExpired);
  // And a changed report is refused even though its chain is cached.
  Bytes bad = Snp1Report();
  bad[0x90] ^= 1;  // MEASUREMENT
  EXPECT_CODE(v->Verify({bad, {}, {}, Snp1Time()}), Code::kVerificationFailed);
}

}  // namespace
}  // namespace sigil::attestation::snp
