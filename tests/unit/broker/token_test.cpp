#include "broker/keys/token.h"

#include <gtest/gtest.h>

#include "core/ed25519.h"
#include "core/encoding.h"
#include "tests/support/matchers.h"

namespace sigil::broker {
namespace {

// The broker signs tokens with its token key expanded once (Ed25519Signer).
Ed25519Signer SignerOf(const Ed25519KeyPair& kp) {
  auto signer = Ed25519Signer::FromSeed(kp.seed.Reveal(SecretAccess::Get()));
  EXPECT_TRUE(signer.has_value());
  return std::move(*signer);
}


TEST(Token, SignVerifyAndRefusals) {
  ASSERT_OK_AND_ASSIGN(Ed25519KeyPair kp, Ed25519Generate());
  ASSERT_OK_AND_ASSIGN(Ed25519KeyPair other, Ed25519Generate());
  TokenBody b{"acme", "dev", "jti1", 100, 400, Bytes(32, 9), "ab", {}};
  b.claims.Set("tee", std::string("dev"));
  b.claims.Set("debug", false);
  ASSERT_OK_AND_ASSIGN(std::string tok, SignToken(b, SignerOf(kp)));
  ASSERT_OK_AND_ASSIGN(TokenBody back, VerifyToken(tok, kp.public_key, 200));
  EXPECT_EQ(back.tenant, "acme");
  EXPECT_EQ(back.tee_public_key, b.tee_public_key);
  EXPECT_EQ(back.claims, b.claims);
  EXPECT_CODE(VerifyToken(tok, kp.public_key, 400), Code::kExpired);
  EXPECT_CODE(VerifyToken(tok, other.public_key, 200), Code::kUnauthenticated);
  std::string tampered = tok;
  tampered[tok.find('.') + 5] ^= 1;
  EXPECT_CODE(VerifyToken(tampered, kp.public_key, 200), Code::kUnauthenticated);
  EXPECT_CODE(VerifyToken("a.b", kp.public_key, 200), Code::kUnauthenticated);
  EXPECT_CODE(VerifyToken("", kp.public_key, 200), Code::kUnauthenticated);
}

// RFC 8037 appendix A.3: the thumbprint of the Ed25519 key of appendix A.1 is
// kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k (a worked example in the RFC, so the key id
// relying parties recompute is the one the broker sends).
TEST(Token, KeyIdIsTheRfc7638ThumbprintAndNamedInTheHeaderAndKeySet) {
  ASSERT_OK_AND_ASSIGN(Bytes x, Base64UrlDecode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"));
  EXPECT_EQ(TokenKeyId(x), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
  ASSERT_OK_AND_ASSIGN(Ed25519KeyPair kp, Ed25519Generate());
  TokenBody b{"acme", "dev", "jti1", 100, 400, Bytes(32, 9), "ab", {}};
  ASSERT_OK_AND_ASSIGN(std::string tok, SignToken(b, SignerOf(kp)));
  ASSERT_OK_AND_ASSIGN(Bytes header, Base64UrlDecode(tok.substr(0, tok.find('.'))));
  EXPECT_EQ(ToString(header), R"({"alg":"EdDSA","kid":")" + TokenKeyId(kp.public_key) + R"(","typ":"JWT"})");
  const Json set = TokenKeySet(kp.public_key);
  ASSERT_EQ(set["keys"].size(), 1u);
  EXPECT_EQ(set["keys"][0]["kid"], TokenKeyId(kp.public_key));
  EXPECT_EQ(set["keys"][0]["x"], Base64UrlEncode(kp.public_key));
  EXPECT_EQ(set["keys"][0]["crv"], "Ed25519");
}

}  // namespace
}  // namespace sigil::broker
