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

// A token this broker remembers issuing skips the signature check, and only that exact token:
// one whose bytes differ anywhere is verified, and refused, as before.
TEST(Token, IssuedTokensAreRecognisedExactlyAndForgottenOldestFirst) {
  ASSERT_OK_AND_ASSIGN(Ed25519KeyPair kp, Ed25519Generate());
  TokenBody b{"acme", "dev", "jti1", 100, 400, Bytes(32, 9), "ab", {}};
  b.claims.Set("tee", std::string("dev"));
  ASSERT_OK_AND_ASSIGN(std::string tok, SignToken(b, SignerOf(kp)));
  // The same header and payload with a signature that does not verify: refused unless this
  // very string is remembered (which shows the remembered path skips the verification).
  std::string unsigned_tok = tok.substr(0, tok.rfind('.') + 1) + Base64UrlEncode(Bytes(64, 1));
  IssuedTokens issued(2);
  EXPECT_CODE(VerifyToken(unsigned_tok, kp.public_key, 200, &issued), Code::kUnauthenticated);
  issued.Remember(unsigned_tok, 400, 100);
  ASSERT_OK(VerifyToken(unsigned_tok, kp.public_key, 200, &issued));
  EXPECT_CODE(VerifyToken(unsigned_tok, kp.public_key, 200), Code::kUnauthenticated);
  std::string altered = unsigned_tok;
  altered.back() = altered.back() == 'A' ? 'B' : 'A';
  EXPECT_CODE(VerifyToken(altered, kp.public_key, 200, &issued), Code::kUnauthenticated);
  // Expiry still applies, and the header still names this broker's key.
  EXPECT_CODE(VerifyToken(unsigned_tok, kp.public_key, 400, &issued), Code::kExpired);
  ASSERT_OK_AND_ASSIGN(Ed25519KeyPair other, Ed25519Generate());
  EXPECT_CODE(VerifyToken(unsigned_tok, other.public_key, 200, &issued), Code::kUnauthenticated);
  // Capacity 2: a third token forgets the first; an expired one is dropped on the next remember.
  issued.Remember(tok, 400, 100);
  issued.Remember("third", 400, 100);
  EXPECT_FALSE(issued.Contains(unsigned_tok));
  EXPECT_TRUE(issued.Contains(tok));
  IssuedTokens short_lived(10);
  short_lived.Remember("a", 150, 100);
  short_lived.Remember("b", 400, 160);
  EXPECT_FALSE(short_lived.Contains("a"));
  EXPECT_TRUE(short_lived.Contains("b"));
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
