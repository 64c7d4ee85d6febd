#include <gtest/gtest.h>

#include "core/aead.h"
#include "core/digest.h"
#include "core/ed25519.h"
#include "core/encoding.h"
#include "core/hkdf.h"
#include "core/json.h"
#include "core/protocol.h"
#include "tests/support/matchers.h"

namespace sigil {
namespace {

TEST(Digest, KnownAnswers) {
  EXPECT_EQ(HexEncode(Sha256(AsBytes("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Hkdf, Rfc5869Case1) {
  ASSERT_OK_AND_ASSIGN(Bytes ikm, HexDecode("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"));
  ASSERT_OK_AND_ASSIGN(Bytes salt, HexDecode("000102030405060708090a0b0c"));
  ASSERT_OK_AND_ASSIGN(Bytes info, HexDecode("f0f1f2f3f4f5f6f7f8f9"));
  ASSERT_OK_AND_ASSIGN(SecretBytes prk, HkdfExtract(HkdfHash::kSha256, salt, ikm));
  EXPECT_EQ(HexEncode(prk.Reveal(SecretAccess::Get())),
            "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5");
  ASSERT_OK_AND_ASSIGN(SecretBytes okm, HkdfExpand(HkdfHash::kSha256, prk.Reveal(SecretAccess::Get()), info, 42));
  EXPECT_EQ(HexEncode(okm.Reveal(SecretAccess::Get())),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

TEST(Aead, SealOpenAndTamper) {
  Bytes key(32, 7), nonce(12, 1);
  ASSERT_OK_AND_ASSIGN(Bytes ct, AeadSeal(AeadAlg::kAes256Gcm, key, nonce, AsBytes("aad"), AsBytes("hello")));
  ASSERT_OK_AND_ASSIGN(Bytes pt, AeadOpen(AeadAlg::kAes256Gcm, key, nonce, AsBytes("aad"), ct));
  EXPECT_EQ(ToString(pt), "hello");
  for (std::size_t i = 0; i < ct.size(); ++i) {
    Bytes bad = ct;
    bad[i] ^= 1;
    EXPECT_CODE(AeadOpen(AeadAlg::kAes256Gcm, key, nonce, AsBytes("aad"), bad), Code::kVerificationFailed);
  }
  EXPECT_CODE(AeadOpen(AeadAlg::kAes256Gcm, key, nonce, AsBytes("aaD"), ct), Code::kVerificationFailed);
}

TEST(Ed25519, SignVerify) {
  ASSERT_OK_AND_ASSIGN(Ed25519KeyPair kp, Ed25519Generate());
  ASSERT_OK_AND_ASSIGN(Bytes sig, Ed25519Sign(kp.seed, AsBytes("msg")));
  EXPECT_OK(Ed25519Verify(kp.public_key, AsBytes("msg"), sig));
  EXPECT_CODE(Ed25519Verify(kp.public_key, AsBytes("msh"), sig), Code::kVerificationFailed);
}

TEST(Json, ParseErrorsAndCanonicalForm) {
  EXPECT_CODE(ParseJson("{\"a\":", "req"), Code::kInvalidArgument);
  EXPECT_CODE(ParseJson("{/*c*/\"a\":1}", "req"), Code::kInvalidArgument);
  ASSERT_OK_AND_ASSIGN(Json j, ParseJson("{\"b\":1, /* c */ \"a\":[true,\"x\"]}", "p.json", true));
  EXPECT_EQ(CanonicalJson(j), "{\"a\":[true,\"x\"],\"b\":1}");
  EXPECT_CODE(GetString(j, "b", "$"), Code::kInvalidArgument);
  EXPECT_CODE(GetInt(j, "zz", "$"), Code::kInvalidArgument);
}

TEST(Protocol, BindingAndInfoAreStable) {
  Bytes nonce(32, 0x11), pk(32, 0x22);
  auto b = protocol::Binding(nonce, pk);
  EXPECT_EQ(b, Sha512(Concat({AsBytes("sigil/v1/binding"), nonce, pk})));
  EXPECT_EQ(ToString(protocol::DekSealInfo("acme", "llama", 3)), std::string("sigil/v1/dek\0acme\0llama\0" "3", 25));
}

}  // namespace
}  // namespace sigil
