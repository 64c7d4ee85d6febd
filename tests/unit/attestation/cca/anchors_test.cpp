// attestation/cca/anchors.h: trust-anchor files split into keys, never losing one silently.
#include "attestation/cca/anchors.h"

#include <gtest/gtest.h>

#include "core/ec_key.h"
#include "core/encoding.h"
#include "tests/support/matchers.h"
#include "tests/unit/attestation/cca/cca_test_util.h"

namespace sigil::attestation::cca {
namespace {

using namespace sigil::testing::cca;  // NOLINT: test helpers

std::string Jwk(const EVP_PKEY* key, const char* crv) {
  const Bytes point = EcPublicPoint(key).value();
  const std::size_t n = (point.size() - 1) / 2;
  return std::string(R"({"kty":"EC","crv":")") + crv + R"(","x":")" +
         Base64UrlEncode(ByteSpan(point).subspan(1, n)) + R"(","y":")" +
         Base64UrlEncode(ByteSpan(point).subspan(1 + n, n)) + R"("})";
}

TEST(KeyAnchorsFromFiles, PemBundlesJwkSetsAndDer) {
  const Bytes bundle = Concat({ToBytes("comment line\n"), Cca1Cpak(), Psa1Iak()});
  auto p256 = NewKey("P-256");
  auto p384 = NewKey("P-384");
  const std::string jwks = R"({"keys":[)" + Jwk(p256.get(), "P-256") + "," + Jwk(p384.get(), "P-384") + "]}";
  ASSERT_OK_AND_ASSIGN(auto anchors,
                       KeyAnchorsFromFiles({bundle, ToBytes(jwks), ToBytes(Jwk(p256.get(), "P-256"))}, "anchors"));
  ASSERT_EQ(anchors.size(), 5u);
  for (const auto& a : anchors) {
    EXPECT_TRUE(a.instance_id.empty());
    EXPECT_OK(EcPublicKeyFromText(a.key, "anchor"));
  }
  ASSERT_OK_AND_ASSIGN(AnchorSet set, AnchorSet::Create(anchors, "anchors"));
  EXPECT_EQ(set.Candidates(Bytes(33, 1)).size(), 5u);
}

TEST(KeyAnchorsFromFiles, RefusesWhatItCannotUse) {
  const std::string pem = ToString(Psa1Iak());
  // A broken second block is refused, not skipped.
  std::string broken = pem + pem;
  broken[pem.size() + 40] = '!';
  EXPECT_CODE(KeyAnchorsFromFiles({ToBytes(broken)}, "a"), Code::kInvalidArgument);
  EXPECT_CODE(KeyAnchorsFromFiles({ToBytes(pem.substr(0, pem.size() - 26))}, "a"), Code::kInvalidArgument);
  EXPECT_CODE(KeyAnchorsFromFiles({ToBytes(R"({"keys":[]})")}, "a"), Code::kInvalidArgument);
  EXPECT_CODE(KeyAnchorsFromFiles({ToBytes(R"({"kty":"OKP","crv":"X25519","x":"AAAA"})")}, "a"),
              Code::kInvalidArgument);
  EXPECT_CODE(KeyAnchorsFromFiles({ToBytes("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")}, "a"),
              Code::kInvalidArgument);
  EXPECT_CODE(KeyAnchorsFromFiles({Bytes{0x30, 0x03, 0x02, 0x01, 0x01}}, "a"), Code::kInvalidArgument);
}

}  // namespace
}  // namespace sigil::attestation::cca
