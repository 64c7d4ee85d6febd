// Synthetic quotes: a TPMS_ATTEST marshalled with tss2-mu and signed here with freshly
// generated keys, to cover what the real vectors cannot: ECDSA P-256/P-384, RSA-PSS, SHA-384
// schemes, several PCR banks in listed order, and a 32-byte qualifying data == binding[0..32).
#include <gtest/gtest.h>
#include <openssl/ecdsa.h>
#include <openssl/rsa.h>
#include <tss2/tss2_mu.h>

#include <cstring>

#include "attestation/tpm/evidence.h"
#include "attestation/tpm/pcrs.h"
#include "attestation/tpm/signature.h"
#include "attestation/tpm/verifier.h"
#include "core/digest.h"
#include "core/encoding.h"
#include "tests/support/matchers.h"

namespace sigil::attestation::tpm {
namespace {

struct Scheme {
  const char* name;
  std::uint16_t sig_alg;
  std::uint16_t hash_alg;
};

EvpPkeyPtr NewKey(const Scheme& s) {
  if (s.sig_alg == kAlgEcdsa) {
    return EvpPkeyPtr(
        EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", s.hash_alg == kAlgSha384 ? "P-384" : "P-256"));
  }
  return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048}));
}

Bytes Binding() {
  Bytes b(64);
  for (std::size_t i = 0; i < b.size(); ++i) {
    b[i] = static_cast<std::uint8_t>(i * 7 + 1);
  }
  return b;
}

// PCR values: sha384 bank PCR 0 listed FIRST, then sha256 PCRs 0 and 1.
PcrValues Pcrs() {
  PcrValues p;
  p[kAlgSha384][0] = Bytes(48, 0x38);
  p[kAlgSha256][0] = Bytes(32, 0x01);
  p[kAlgSha256][1] = Bytes(32, 0x02);
  return p;
}

Bytes MakeAttest(std::uint16_t digest_alg, ByteSpan extra) {
  TPMS_ATTEST a{};
  a.magic = TPM2_GENERATED_VALUE;
  a.type = TPM2_ST_ATTEST_QUOTE;
  a.qualifiedSigner.size = 4;
  std::memset(a.qualifiedSigner.name, 0xab, 4);
  a.extraData.size = static_cast<UINT16>(extra.size());
  std::memcpy(a.extraData.buffer, extra.data(), extra.size());
  a.clockInfo = TPMS_CLOCK_INFO{1000, 1, 0, 1};
  a.firmwareVersion = 0x0102030405060708ULL;
  TPML_PCR_SELECTION& sel = a.attested.quote.pcrSelect;
  sel.count = 2;
  sel.pcrSelections[0] = TPMS_PCR_SELECTION{TPM2_ALG_SHA384, 3, {0x01, 0, 0, 0}};
  sel.pcrSelections[1] = TPMS_PCR_SELECTION{TPM2_ALG_SHA256, 3, {0x03, 0, 0, 0}};
  const PcrValues p = Pcrs();
  const Bytes concat =
      Concat({p.at(kAlgSha384).at(0), p.at(kAlgSha256).at(0), p.at(kAlgSha256).at(1)});
  const Bytes digest = *TpmHash(digest_alg, concat);
  a.attested.quote.pcrDigest.size = static_cast<UINT16>(digest.size());
  std::memcpy(a.attested.quote.pcrDigest.buffer, digest.data(), digest.size());
  Bytes out(sizeof(TPMS_ATTEST));
  std::size_t off = 0;
  EXPECT_EQ(Tss2_MU_TPMS_ATTEST_Marshal(&a, out.data(), out.size(), &off), TSS2_RC_SUCCESS);
  out.resize(off);
  return out;
}

Bytes Sign(EVP_PKEY& key, const Scheme& s, ByteSpan attest) {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  const EVP_MD* md = s.hash_alg == kAlgSha384 ? EVP_sha384() : EVP_sha256();
  EXPECT_EQ(EVP_DigestSignInit(ctx.get(), &pctx, md, nullptr, &key), 1);
  if (s.sig_alg == kAlgRsapss) {
    EXPECT_EQ(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
    EXPECT_EQ(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST), 1);
  }
  std::size_t len = 0;
  EXPECT_EQ(EVP_DigestSign(ctx.get(), nullptr, &len, attest.data(), attest.size()), 1);
  Bytes sig(len);
  EXPECT_EQ(EVP_DigestSign(ctx.get(), sig.data(), &len, attest.data(), attest.size()), 1);
  sig.resize(len);
  TPMT_SIGNATURE t{};
  t.sigAlg = s.sig_alg;
  if (s.sig_alg == kAlgEcdsa) {
    const unsigned char* p = sig.data();
    ECDSA_SIG* e = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
    t.signature.ecdsa.hash = s.hash_alg;
    t.signature.ecdsa.signatureR.size =
        static_cast<UINT16>(BN_bn2bin(ECDSA_SIG_get0_r(e), t.signature.ecdsa.signatureR.buffer));
    t.signature.ecdsa.signatureS.size =
        static_cast<UINT16>(BN_bn2bin(ECDSA_SIG_get0_s(e), t.signature.ecdsa.signatureS.buffer));
    ECDSA_SIG_free(e);
  } else {
    t.signature.rsassa.hash = s.hash_alg;
    t.signature.rsassa.sig.size = static_cast<UINT16>(sig.size());
    std::memcpy(t.signature.rsassa.sig.buffer, sig.data(), sig.size());
  }
  Bytes out(sizeof(TPMT_SIGNATURE));
  std::size_t off = 0;
  EXPECT_EQ(Tss2_MU_TPMT_SIGNATURE_Marshal(&t, out.data(), out.size(), &off), TSS2_RC_SUCCESS);
  out.resize(off);
  return out;
}

class TpmSynthetic : public ::testing::TestWithParam<Scheme> {};

TEST_P(TpmSynthetic, VerifiesWithBindingAndRefusesMutations) {
  const Scheme s = GetParam();
  EvpPkeyPtr key = NewKey(s);
  ASSERT_NE(key, nullptr);
  ASSERT_OK_AND_ASSIGN(Bytes der, AkDer(*key));
  ASSERT_OK_AND_ASSIGN(auto v, TpmVerifier::Create(TpmConfig{{der}, true}));
  const Bytes binding = Binding();
  Evidence e;
  e.attest = MakeAttest(s.hash_alg, ByteSpan(binding).first(32));
  e.signature = Sign(*key, s, e.attest);
  e.pcrs = Pcrs();
  e.ak = der;
  const auto now = std::chrono::system_clock::now();
  ASSERT_OK_AND_ASSIGN(Claims c, v->Verify({SerializeEvidence(e), {}, binding, now}));
  const Bytes concat = Concat({Bytes(48, 0x38), Bytes(32, 0x01), Bytes(32, 0x02)});
  EXPECT_EQ(c.GetString("measurement"), HexEncode(Sha384(concat)));
  EXPECT_EQ(c.GetString("tpm.pcr.sha384.0"), HexEncode(Bytes(48, 0x38)));
  EXPECT_EQ(c.GetString("tpm.pcr.sha256.1"), HexEncode(Bytes(32, 0x02)));
  EXPECT_EQ(c.GetString("tpm.ak"), "abababab");
  EXPECT_EQ(c.GetString("tpm.firmware"), "0102030405060708");
  // Same quote again: the replay guard refuses it.
  EXPECT_CODE(v->Verify({SerializeEvidence(e), {}, binding, now}), Code::kReplay);

  ASSERT_OK_AND_ASSIGN(auto fresh, TpmVerifier::Create(TpmConfig{{der}, false}));
  Bytes other = binding;
  other[31] ^= 1;
  EXPECT_CODE(fresh->Verify({SerializeEvidence(e), {}, other, now}), Code::kVerificationFailed);
  other = binding;
  other[63] ^= 1;  // only the first 32 bytes are bound
  EXPECT_OK(fresh->Verify({SerializeEvidence(e), {}, other, now}));
  Evidence bad = e;
  bad.pcrs[kAlgSha384][0][0] ^= 1;
  EXPECT_CODE(fresh->Verify({SerializeEvidence(bad), {}, binding, now}), Code::kVerificationFailed);
  for (std::size_t i = 0; i < e.attest.size(); ++i) {
    bad = e;
    bad.attest[i] ^= 0x10;
    EXPECT_FALSE(fresh->Verify({SerializeEvidence(bad), {}, binding, now}).has_value()) << i;
  }
  for (std::size_t i = 0; i < e.signature.size(); ++i) {
    bad = e;
    bad.signature[i] ^= 0x10;
    EXPECT_FALSE(fresh->Verify({SerializeEvidence(bad), {}, binding, now}).has_value()) << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Schemes, TpmSynthetic,
                         ::testing::Values(Scheme{"EcdsaP256", kAlgEcdsa, kAlgSha256},
                                           Scheme{"EcdsaP384", kAlgEcdsa, kAlgSha384},
                                           Scheme{"RsaPss", kAlgRsapss, kAlgSha256},
                                           Scheme{"RsassaSha384", kAlgRsassa, kAlgSha384}),
                         [](const auto& p) { return std::string(p.param.name); });

TEST(TpmSyntheticNegative, Sha256BankIsRequired) {
  Quote q;
  q.pcr_select = {PcrBankSelection{kAlgSha384, {0}}};
  PcrValues p;
  p[kAlgSha384][0] = Bytes(48, 0);
  q.pcr_digest = *TpmHash(kAlgSha256, p[kAlgSha384][0]);
  EXPECT_CODE(CheckPcrs(q, p, kAlgSha256), Code::kVerificationFailed);
  q.pcr_select = {PcrBankSelection{0x0012 /* TPM_ALG_SM3_256 */, {0}}};
  EXPECT_CODE(CheckPcrs(q, p, kAlgSha256), Code::kMalformedEvidence);
}

}  // namespace
}  // namespace sigil::attestation::tpm
