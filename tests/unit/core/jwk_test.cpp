#include "core/jwk.h"

#include <gtest/gtest.h>

#include <string>

#include "core/encoding.h"
#include "tests/support/matchers.h"

namespace sigil {
namespace {

// RFC 7748 section 6.1, Bob's public key; RFC 8037 appendix A.6 shows it as this JWK.
constexpr char kBobHex[] = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
constexpr char kBobX[] = "3p7bfXt9wbTTW2HC7OQ1Nz-DQ8hbeGdNrfx-FG-IK08";

Json JwkWithX(const std::string& x) { return Json{{"kty", "OKP"}, {"crv", "X25519"}, {"x", x}}; }

Json JwkWithKey(std::string_view hex) {
  Result<Bytes> key = HexDecode(hex);
  SIGIL_CHECK(key.has_value());
  return JwkWithX(Base64UrlEncode(*key));
}

// Expects kInvalidArgument with a message that names `field`.
void ExpectRefused(const Json& jwk, const std::string& field) {
  Result<Bytes> r = X25519PublicKeyFromJwk(jwk, "$.tee_public_key");
  ASSERT_FALSE(r.has_value()) << CanonicalJson(jwk);
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  EXPECT_NE(r.error().message().find("$.tee_public_key" + field), std::string::npos)
      << r.error().message();
}

TEST(Jwk, MatchesRfc8037AndRoundTrips) {
  ASSERT_OK_AND_ASSIGN(Bytes bob, HexDecode(kBobHex));
  Json jwk = X25519PublicKeyToJwk(bob);
  EXPECT_EQ(CanonicalJson(jwk),
            std::string("{\"crv\":\"X25519\",\"kty\":\"OKP\",\"x\":\"") + kBobX + "\"}");
  ASSERT_OK_AND_ASSIGN(Bytes back, X25519PublicKeyFromJwk(jwk, "$"));
  EXPECT_EQ(HexEncode(back), kBobHex);
  Json with_extras = jwk;
  with_extras["kid"] = "tee-1";
  with_extras["use"] = "enc";
  EXPECT_OK(X25519PublicKeyFromJwk(with_extras, "$"));
}

TEST(Jwk, RefusesWrongShapeNamingTheMember) {
  ExpectRefused(Json::array({1, 2}), "");
  ExpectRefused(Json{{"crv", "X25519"}, {"x", kBobX}}, ".kty");
  ExpectRefused(Json{{"kty", "EC"}, {"crv", "X25519"}, {"x", kBobX}}, ".kty");
  ExpectRefused(Json{{"kty", 1}, {"crv", "X25519"}, {"x", kBobX}}, ".kty");
  ExpectRefused(Json{{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", kBobX}}, ".crv");
  ExpectRefused(Json{{"kty", "OKP"}, {"x", kBobX}}, ".crv");
  ExpectRefused(Json{{"kty", "OKP"}, {"crv", "X25519"}}, ".x");
  ExpectRefused(Json{{"kty", "OKP"}, {"crv", "X25519"}, {"x", 5}}, ".x");
  Json with_d = JwkWithX(kBobX);
  with_d["d"] = kBobX;
  ExpectRefused(with_d, ".d");
}

TEST(Jwk, RefusesBadEncodingsOfX) {
  ExpectRefused(JwkWithX(std::string(kBobX) + "="), ".x");                       // padded
  ExpectRefused(JwkWithX("3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx/FG+IK08"), ".x");  // base64, not url
  ExpectRefused(JwkWithX("3p7bfXt9wbTTW2HC7OQ1Nz-DQ8hbeGdNrfx-FG-IK09"), ".x");  // stray low bits
  ExpectRefused(JwkWithX(Base64UrlEncode(Bytes(31, 9))), ".x");
  ExpectRefused(JwkWithX(Base64UrlEncode(Bytes(33, 9))), ".x");
  ExpectRefused(JwkWithX(""), ".x");
}

// RFC 7748 section 6.1: DH with these is all-zero. The u-coordinates of the points of order
// 1, 2, 4 and 8 on the curve and its twist, and their non-canonical encodings.
TEST(Jwk, RefusesSmallOrderAndNonCanonicalKeys) {
  const char* const kRefused[] = {
      "0000000000000000000000000000000000000000000000000000000000000000",  // 0
      "0100000000000000000000000000000000000000000000000000000000000000",  // 1
      "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",  // order 8
      "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",  // order 8
      "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // p - 1
      "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // p (= 0)
      "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // p + 1 (= 1)
      "efffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // p + 2, non-canonical
      "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882bcf",  // Bob, top bit set
  };
  for (const char* hex : kRefused) {
    SCOPED_TRACE(hex);
    ExpectRefused(JwkWithKey(hex), ".x");
  }
  // The largest canonical value that is not small-order is accepted.
  EXPECT_OK(X25519PublicKeyFromJwk(
      JwkWithKey("ebffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"), "$"));
}

// For a key that must then equal one already checked in full: the encoding rules hold, the
// small-order test (an X25519 operation) is the one left out.
TEST(Jwk, ToCompareChecksEverythingButTheSmallOrderTest) {
  ASSERT_OK_AND_ASSIGN(Bytes zero, X25519PublicKeyFromJwkToCompare(
                                       JwkWithKey("0000000000000000000000000000000000000000000000000000000000000000"), "$"));
  EXPECT_EQ(zero, Bytes(32, 0));
  Json short_key = JwkWithKey("00000000000000000000000000000000000000000000000000000000000000");
  EXPECT_CODE(X25519PublicKeyFromJwkToCompare(short_key, "$"), Code::kInvalidArgument);
  Json private_key = JwkWithKey("0100000000000000000000000000000000000000000000000000000000000000");
  private_key["d"] = "AA";
  EXPECT_CODE(X25519PublicKeyFromJwkToCompare(private_key, "$"), Code::kInvalidArgument);
  Json ec = JwkWithKey("0100000000000000000000000000000000000000000000000000000000000000");
  ec["crv"] = "P-256";
  EXPECT_CODE(X25519PublicKeyFromJwkToCompare(ec, "$"), Code::kInvalidArgument);
}

}  // namespace
}  // namespace sigil
