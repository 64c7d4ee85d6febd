#include "broker/keys/token.h"

#include <gtest/gtest.h>

#include "core/ed25519.h"
#include "tests/support/matchers.h"

namespace sigil::broker {
namespace {

TEST(Token, SignVerifyAndRefusals) {
  ASSERT_OK_AND_ASSIGN(Ed25519KeyPair kp, Ed25519Generate());
  ASSERT_OK_AND_ASSIGN(Ed25519KeyPair other, Ed25519Generate());
  TokenBody b{"acme", "dev", "jti1", 100, 400, Bytes(32, 9), "ab", {}};
  b.claims.Set("tee", std::string("dev"));
  b.claims.Set("debug", false);
  ASSERT_OK_AND_ASSIGN(std::string tok, SignToken(b, kp.seed));
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

}  // namespace
}  // namespace sigil::broker
