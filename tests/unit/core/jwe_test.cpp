// JWE to RSA and EC JWKs: the Concat KDF against RFC 7518 appendix C, round trips decrypted here
// with OpenSSL from the RFC's steps (the integration test decrypts with jwcrypto), and the
// refusals of keys the broker must not encrypt to.
#include "core/jwe.h"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "core/aead.h"
#include "core/encoding.h"
#include "tests/support/matchers.h"

namespace sigil::jwe {
namespace {

Bytes B64(std::string_view s) {
  auto b = Base64UrlDecode(s);
  SIGIL_CHECK(b.has_value());
  return *b;
}

// RFC 7518 appendix C: Z from Alice's ephemeral and Bob's static P-256 keys, "A128GCM",
// apu "Alice", apv "Bob" -> the 128-bit key VqqN6vgjbSBcIijNcacQGg.
TEST(ConcatKdf, Rfc7518AppendixC) {
  const Bytes z = {158, 86,  217, 29,  129, 113, 53,  211, 114, 131, 66,  131, 191, 132, 38,  156,
                   251, 49,  110, 163, 218, 128, 106, 72,  246, 218, 167, 121, 140, 254, 144, 196};
  const std::string apu = "Alice", apv = "Bob";
  EXPECT_EQ(Base64UrlEncode(ConcatKdf(z, "A128GCM", AsBytes(apu), AsBytes(apv), 16)), "VqqN6vgjbSBcIijNcacQGg");
}

// The Z of the same appendix, computed here from its keys with OpenSSL, so ECDH itself is
// checked against the RFC too.
TEST(ConcatKdf, Rfc7518AppendixCFromTheKeys) {
  Json bob{{"kty", "EC"}, {"crv", "P-256"}, {"x", "weNJy2HscCSM6AEDTDg04biOvhFhyyWvOHQfeF_PxMQ"},
           {"y", "e8lnCO-AlStT-NJVX-crhB7QRYhiix03illJOVAOyck"}};
  ASSERT_OK_AND_ASSIGN(RecipientKey bob_key, ParseRecipientJwk(bob, "bob"));
  // Alice's ephemeral private key d.
  const Bytes d = B64("0_NxaRPUMQoAJt50Gz8YiTr8gRTwyEaCumd-MToTmIo");
  BignumPtr bn(BN_bin2bn(d.data(), static_cast<int>(d.size()), nullptr));
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  ASSERT_NE(bld, nullptr);
  OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0);
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, bn.get());
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EvpPkeyCtxPtr fctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  ASSERT_EQ(EVP_PKEY_fromdata_init(fctx.get()), 1);
  ASSERT_EQ(EVP_PKEY_fromdata(fctx.get(), &raw, EVP_PKEY_KEYPAIR, params), 1);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  EvpPkeyPtr alice(raw);
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, alice.get(), nullptr));
  ASSERT_EQ(EVP_PKEY_derive_init(ctx.get()), 1);
  ASSERT_EQ(EVP_PKEY_derive_set_peer(ctx.get(), bob_key.pkey.get()), 1);
  Bytes z(32);
  std::size_t len = z.size();
  ASSERT_EQ(EVP_PKEY_derive(ctx.get(), z.data(), &len), 1);
  const std::string apu = "Alice", apv = "Bob";
  EXPECT_EQ(Base64UrlEncode(ConcatKdf(z, "A128GCM", AsBytes(apu), AsBytes(apv), 16)), "VqqN6vgjbSBcIijNcacQGg");
}

Json PublicJwk(EVP_PKEY* pkey, const char* crv) {
  Json j;
  if (crv == nullptr) {
    BIGNUM *n = nullptr, *e = nullptr;
    SIGIL_CHECK(EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) == 1);
    SIGIL_CHECK(EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) == 1);
    BignumPtr nn(n), ee(e);
    Bytes nb(static_cast<std::size_t>(BN_num_bytes(n))), eb(static_cast<std::size_t>(BN_num_bytes(e)));
    BN_bn2bin(n, nb.data());
    BN_bn2bin(e, eb.data());
    return Json{{"kty", "RSA"}, {"n", Base64UrlEncode(nb)}, {"e", Base64UrlEncode(eb)}};
  }
  const std::size_t field = std::string(crv) == "P-256" ? 32 : 48;
  BIGNUM *x = nullptr, *y = nullptr;
  SIGIL_CHECK(EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x) == 1);
  SIGIL_CHECK(EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y) == 1);
  BignumPtr xx(x), yy(y);
  Bytes xb(field), yb(field);
  BN_bn2binpad(x, xb.data(), static_cast<int>(field));
  BN_bn2binpad(y, yb.data(), static_cast<int>(field));
  return Json{{"kty", "EC"}, {"crv", crv}, {"x", Base64UrlEncode(xb)}, {"y", Base64UrlEncode(yb)}};
}

// Decrypts `jwe` with the recipient's private key following RFC 7516 section 5.2 by hand.
Bytes Decrypt(const Json& jwe, EVP_PKEY* recipient) {
  const std::string prot = jwe["protected"].get<std::string>();
  auto header = ParseJson(ToString(B64(prot)), "header");
  SIGIL_CHECK(header.has_value());
  const Bytes ek = B64(jwe["encrypted_key"].get<std::string>());
  Bytes cek(512);  // RSA decryption wants room for a whole modulus
  std::size_t cek_len = cek.size();
  if ((*header)["alg"] == "RSA-OAEP-256") {
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, recipient, nullptr));
    SIGIL_CHECK(EVP_PKEY_decrypt_init(ctx.get()) == 1);
    EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING);
    EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), EVP_sha256());
    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), EVP_sha256());
    SIGIL_CHECK(EVP_PKEY_decrypt(ctx.get(), cek.data(), &cek_len, ek.data(), ek.size()) == 1);
  } else {
    SIGIL_CHECK((*header)["alg"] == "ECDH-ES+A256KW");
    auto epk = ParseRecipientJwk((*header)["epk"], "epk");
    SIGIL_CHECK(epk.has_value());
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, recipient, nullptr));
    Bytes z(66);
    std::size_t z_len = z.size();
    SIGIL_CHECK(EVP_PKEY_derive_init(ctx.get()) == 1 && EVP_PKEY_derive_set_peer(ctx.get(), epk->pkey.get()) == 1 &&
                EVP_PKEY_derive(ctx.get(), z.data(), &z_len) == 1);
    z.resize(z_len);
    const Bytes kek = ConcatKdf(z, "ECDH-ES+A256KW", {}, {}, 32);
    EvpCipherCtxPtr c(EVP_CIPHER_CTX_new());
    EVP_CIPHER_CTX_set_flags(c.get(), EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
    int l1 = 0, l2 = 0;
    SIGIL_CHECK(EVP_DecryptInit_ex(c.get(), EVP_aes_256_wrap(), nullptr, kek.data(), nullptr) == 1 &&
                EVP_DecryptUpdate(c.get(), cek.data(), &l1, ek.data(), static_cast<int>(ek.size())) == 1 &&
                EVP_DecryptFinal_ex(c.get(), cek.data() + l1, &l2) == 1);
    cek_len = static_cast<std::size_t>(l1 + l2);
  }
  cek.resize(cek_len);
  Bytes ct = B64(jwe["ciphertext"].get<std::string>());
  const Bytes tag = B64(jwe["tag"].get<std::string>());
  ct.insert(ct.end(), tag.begin(), tag.end());
  auto pt = AeadOpen(AeadAlg::kAes256Gcm, cek, B64(jwe["iv"].get<std::string>()), AsBytes(prot), ct);
  SIGIL_CHECK(pt.has_value());
  return *pt;
}

struct Case {
  const char* type;
  const char* curve;  // null: RSA 2048
};

class JweRoundTrip : public ::testing::TestWithParam<Case> {};

TEST_P(JweRoundTrip, DecryptsToThePlaintext) {
  const Case c = GetParam();
  EvpPkeyPtr key(c.curve == nullptr ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048})
                                    : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", c.curve));
  ASSERT_NE(key, nullptr);
  ASSERT_OK_AND_ASSIGN(RecipientKey rk, ParseRecipientJwk(PublicJwk(key.get(), c.curve), "jwk"));
  const Bytes secret(32, 0x5a);
  ASSERT_OK_AND_ASSIGN(Json jwe, Encrypt(rk, secret));
  EXPECT_EQ(Decrypt(jwe, key.get()), secret);
  // The tag covers the protected header: one changed header byte and decryption must fail.
  Json altered = jwe;
  Bytes tag = B64(jwe["tag"].get<std::string>());
  tag[0] ^= 1;
  altered["tag"] = Base64UrlEncode(tag);
  Bytes ct = B64(altered["ciphertext"].get<std::string>());
  ct.insert(ct.end(), tag.begin(), tag.end());
  EXPECT_FALSE(AeadOpen(AeadAlg::kAes256Gcm, Bytes(32), B64(jwe["iv"].get<std::string>()), {}, ct).has_value());
}

INSTANTIATE_TEST_SUITE_P(Keys, JweRoundTrip,
                         ::testing::Values(Case{"RSA", nullptr}, Case{"EC", "P-256"}, Case{"EC", "P-384"}),
                         [](const auto& p) { return std::string(p.param.curve ? "EC" : "RSA") +
                                                       (p.param.curve ? std::string(p.param.curve).substr(2) : ""); });

TEST(ParseRecipientJwk, RefusesKeysItMustNotEncryptTo) {
  EvpPkeyPtr ec(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  const Json good = PublicJwk(ec.get(), "P-256");
  EXPECT_OK(ParseRecipientJwk(good, "k"));
  Json with_d = good;
  with_d["d"] = "AAAA";
  EXPECT_CODE(ParseRecipientJwk(with_d, "k"), Code::kInvalidArgument);
  Json off_curve = good;
  Bytes y = B64(good["y"].get<std::string>());
  y[31] ^= 1;
  off_curve["y"] = Base64UrlEncode(y);
  EXPECT_CODE(ParseRecipientJwk(off_curve, "k"), Code::kInvalidArgument);
  Json p521 = good;
  p521["crv"] = "P-521";
  EXPECT_CODE(ParseRecipientJwk(p521, "k"), Code::kInvalidArgument);
  Json wrong_alg = good;
  wrong_alg["alg"] = "ECDH-ES";
  EXPECT_CODE(ParseRecipientJwk(wrong_alg, "k"), Code::kInvalidArgument);
  EvpPkeyPtr small(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{1024}));
  EXPECT_CODE(ParseRecipientJwk(PublicJwk(small.get(), nullptr), "k"), Code::kInvalidArgument);
  EvpPkeyPtr rsa(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048}));
  Json rsa1_5 = PublicJwk(rsa.get(), nullptr);
  EXPECT_OK(ParseRecipientJwk(rsa1_5, "k"));
  rsa1_5["alg"] = "RSA1_5";  // Bleichenbacher-prone: never served
  EXPECT_CODE(ParseRecipientJwk(rsa1_5, "k"), Code::kInvalidArgument);
  EXPECT_CODE(ParseRecipientJwk(Json{{"kty", "oct"}, {"k", "AAAA"}}, "k"), Code::kInvalidArgument);
}

}  // namespace
}  // namespace sigil::jwe
