// Certificate loading, VCEK extensions (pub. 57230) and the ARK/ASK chain, including the Turin
// chain-only vector (MANIFEST SNP-3).
#include "attestation/snp/chain.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "attestation/snp/certs.h"
#include "attestation/snp/collateral.h"
#include "attestation/snp/report.h"
#include "core/digest.h"
#include "core/encoding.h"
#include "tests/support/matchers.h"
#include "tests/unit/attestation/snp/snp_test_util.h"

namespace sigil::attestation::snp {
namespace {

using namespace sigil::testing::snp;  // NOLINT: test helpers

X509Ptr LoadOne(const std::string& rel) {
  auto certs = LoadCertificates(ReadVector(rel), Code::kInvalidArgument).value();
  return std::move(certs.front());
}

SortedCerts LoadChain(const std::string& rel) {
  auto certs = LoadCertificates(ReadVector(rel), Code::kInvalidArgument).value();
  return SortCertificates(std::move(certs), Code::kInvalidArgument).value();
}

TEST(SnpCertsTest, MilanVcekExtensions) {
  X509Ptr vcek = LoadOne("go-sev-guest/vcek.der");
  ASSERT_OK_AND_ASSIGN(VcekExtensions ext, ReadVcekExtensions(*vcek));
  EXPECT_EQ(ext.product_name, "Milan-B0");
  EXPECT_EQ(ext.tcb, (TcbVersion{2, 0, 5, 68, std::nullopt}));
  ASSERT_TRUE(ext.hw_id.has_value());
  const Report r = ParseReport(Snp1Report()).value();
  EXPECT_EQ(*ext.hw_id, Bytes(r.chip_id.begin(), r.chip_id.end()));
  EXPECT_EQ(SubjectCommonName(*vcek), "SEV-VCEK");

  X509Ptr vcek2 = LoadOne("virtee-sev/vcek_milan.der");
  ASSERT_OK_AND_ASSIGN(VcekExtensions ext2, ReadVcekExtensions(*vcek2));
  EXPECT_EQ(ext2.product_name, "Milan-B0");
  EXPECT_EQ(ext2.tcb, (TcbVersion{3, 0, 8, 115, std::nullopt}));
}

TEST(SnpCertsTest, TurinVcekExtensionsAndChain) {
  X509Ptr vcek = LoadOne("virtee-sev/vcek_turin.der");
  ASSERT_OK_AND_ASSIGN(VcekExtensions ext, ReadVcekExtensions(*vcek));
  EXPECT_EQ(ext.product_name, "Turin");
  EXPECT_EQ(ext.tcb, (TcbVersion{0, 0, 0, 9, std::uint8_t{0}}));
  ASSERT_TRUE(ext.hw_id.has_value());
  EXPECT_EQ(ext.hw_id->size(), 8u);

  SortedCerts turin = LoadChain("virtee-sev/cert_chain_turin.pem");
  ASSERT_EQ(turin.asks.size(), 1u);
  ASSERT_EQ(turin.arks.size(), 1u);
  ChainInput in{vcek.get(), turin.asks[0].get(), turin.arks[0].get(), Product::kTurin, false,
                Snp3Time()};
  EXPECT_OK(VerifyChain(in, turin.arks));
  // Cross-check: the Turin VCEK against the Milan chain must fail (product and signature).
  SortedCerts milan = LoadChain("go-sev-guest/ask_ark_milan.pem");
  ChainInput cross{vcek.get(), milan.asks[0].get(), milan.arks[0].get(), Product::kTurin, false,
                   Snp3Time()};
  EXPECT_CODE(VerifyChain(cross, milan.arks), Code::kVerificationFailed);
  cross.product = Product::kMilan;  // even if the product check is fooled, the signature is not
  EXPECT_CODE(VerifyChain(cross, milan.arks), Code::kVerificationFailed);
  // ARK not configured.
  EXPECT_CODE(VerifyChain(in, milan.arks), Code::kVerificationFailed);
}

TEST(SnpCertsTest, MilanChainChecks) {
  X509Ptr vcek = LoadOne("go-sev-guest/vcek.der");
  SortedCerts milan = LoadChain("go-sev-guest/ask_ark_milan.pem");
  ChainInput in{vcek.get(), milan.asks[0].get(), milan.arks[0].get(), Product::kMilan, false,
                Snp1Time()};
  EXPECT_OK(VerifyChain(in, milan.arks));
  ChainInput genoa = in;
  genoa.product = Product::kGenoa;
  EXPECT_CODE(VerifyChain(genoa, milan.arks), Code::kVerificationFailed);
  ChainInput vlek = in;
  vlek.vlek = true;  // a VLEK must chain through SEV-VLEK-Milan (the ASVK), not SEV-Milan
  EXPECT_CODE(VerifyChain(vlek, milan.arks), Code::kVerificationFailed);
  ChainInput swapped = in;
  swapped.ask = milan.arks[0].get();  // ARK used as ASK: VCEK issuer name does not match
  EXPECT_CODE(VerifyChain(swapped, milan.arks), Code::kVerificationFailed);
  ChainInput missing = in;
  missing.ask = nullptr;
  EXPECT_CODE(VerifyChain(missing, milan.arks), Code::kVerificationFailed);

  SortedCerts asvk = LoadChain("go-sev-guest/ask_ark_milan_vlek.pem");
  ASSERT_EQ(asvk.asks.size(), 1u);
  EXPECT_EQ(SubjectCommonName(*asvk.asks[0]), "SEV-VLEK-Milan");
  EXPECT_EQ(CertDer(*asvk.arks[0]), CertDer(*milan.arks[0]));
}

// `cert` (a real AMD certificate) re-keyed to `key` when given, issued by `issuer_name`, and
// re-signed RSASSA-PSS/SHA-384 by `signer` as AMD signs (CCF's approach: mutate real
// certificates, do not hand-build them). Test keys stand in for AMD's, so the ARK built this way
// is passed as the trust anchor.
X509Ptr ReSigned(const X509& cert, EVP_PKEY* key, const X509_NAME* issuer_name, EVP_PKEY* signer) {
  X509Ptr out(X509_dup(const_cast<X509*>(&cert)));
  EXPECT_TRUE(out);
  if (key != nullptr) {
    EXPECT_EQ(X509_set_pubkey(out.get(), key), 1);
  }
  EXPECT_EQ(X509_set_issuer_name(out.get(), issuer_name), 1);
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  EXPECT_EQ(EVP_DigestSignInit(ctx.get(), &pctx, EVP_sha384(), nullptr, signer), 1);
  EXPECT_EQ(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
  EXPECT_EQ(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 48), 1);
  EXPECT_GT(X509_sign_ctx(out.get(), ctx.get()), 0);
  return out;
}

// A VLEK chain VLEK -> ASVK (SEV-VLEK-Milan) -> ARK-Milan built from the real Milan ASVK/ARK
// and the real VCEK (validity 2022-09-24..2029-09-24) re-signed with test keys: an expired VLEK
// is reported as the VLEK, not as "VCEK".
TEST(SnpCertsTest, ExpiredVlekIsNamedVlek) {
  SortedCerts asvk_chain = LoadChain("go-sev-guest/ask_ark_milan_vlek.pem");
  ASSERT_EQ(asvk_chain.asks.size(), 1u);
  ASSERT_EQ(asvk_chain.arks.size(), 1u);
  X509Ptr leaf_real = LoadOne("go-sev-guest/vcek.der");
  EvpPkeyPtr ark_key(EVP_RSA_gen(2048));
  EvpPkeyPtr asvk_key(EVP_RSA_gen(2048));
  ASSERT_TRUE(ark_key && asvk_key);
  const X509& ark_real = *asvk_chain.arks[0];
  X509Ptr ark = ReSigned(ark_real, ark_key.get(), X509_get_subject_name(&ark_real), ark_key.get());
  X509Ptr asvk = ReSigned(*asvk_chain.asks[0], asvk_key.get(), X509_get_subject_name(ark.get()),
                          ark_key.get());
  X509Ptr vlek = ReSigned(*leaf_real, nullptr, X509_get_subject_name(asvk.get()), asvk_key.get());
  std::vector<X509Ptr> anchors;
  anchors.push_back(X509Ptr(X509_dup(ark.get())));

  ChainInput in{vlek.get(), asvk.get(), ark.get(), Product::kMilan, /*vlek=*/true, At(1735689600)};
  EXPECT_OK(VerifyChain(in, anchors));  // 2025-01-01: the rebuilt chain itself is sound
  in.now = At(1893456000);               // 2030-01-01: the leaf expired 2029-09-24
  auto expired = VerifyChain(in, anchors);
  ASSERT_FALSE(expired.has_value());
  EXPECT_EQ(expired.error().code(), Code::kExpired);
  EXPECT_EQ(expired.error().message(), "VLEK expired before the verification time");
  in.now = At(1609459200);  // 2021-01-01: before the leaf and the ASVK
  auto early = VerifyChain(in, anchors);
  ASSERT_FALSE(early.has_value());
  EXPECT_EQ(early.error().message(), "ASVK is not yet valid at the verification time");
  // The same leaf in a VCEK chain is still named VCEK.
  X509Ptr ask = ReSigned(*LoadChain("go-sev-guest/ask_ark_milan.pem").asks[0], asvk_key.get(),
                         X509_get_subject_name(ark.get()), ark_key.get());
  X509Ptr vcek = ReSigned(*leaf_real, nullptr, X509_get_subject_name(ask.get()), asvk_key.get());
  ChainInput vcek_in{vcek.get(), ask.get(), ark.get(), Product::kMilan, false, At(1893456000)};
  auto vcek_expired = VerifyChain(vcek_in, anchors);
  ASSERT_FALSE(vcek_expired.has_value());
  EXPECT_EQ(vcek_expired.error().message(), "VCEK expired before the verification time");
}

// sigil attest verify --collateral VCEK --collateral CHAIN: the files are joined by what their
// certificates are, in either order; the DER VCEK is not lost next to a PEM bundle.
TEST(SnpCertsTest, CombineCollateralSortsByWhatCertificatesAre) {
  const Bytes vcek = ReadVector("go-sev-guest/vcek.der");
  const Bytes chain = ReadVector("go-sev-guest/ask_ark_milan.pem");
  for (const auto& parts : {std::vector<Bytes>{vcek, chain}, std::vector<Bytes>{chain, vcek}}) {
    auto combined = CombineCollateral(parts);
    ASSERT_OK(combined);
    auto sorted = ParseCollateral(*combined);
    ASSERT_OK(sorted);
    ASSERT_TRUE(sorted->vek);
    EXPECT_EQ(CertDer(*sorted->vek), vcek);
    ASSERT_EQ(sorted->asks.size(), 1u);
    EXPECT_EQ(SubjectCommonName(*sorted->asks[0]), "SEV-Milan");
    ASSERT_EQ(sorted->arks.size(), 1u);
  }
  // The naive concatenation the CLI used to pass loses the DER VCEK.
  Bytes naive = vcek;
  naive.insert(naive.end(), chain.begin(), chain.end());
  EXPECT_FALSE(ParseCollateral(naive)->vek);

  auto two = CombineCollateral({vcek, ReadVector("virtee-sev/vcek_milan.der")});
  EXPECT_CODE(two, Code::kInvalidArgument);
  auto empty = CombineCollateral({vcek, Bytes{}});
  ASSERT_FALSE(empty.has_value());
  EXPECT_NE(empty.error().message().find("#2"), std::string::npos) << empty.error().message();
  auto garbage = CombineCollateral({ToBytes("not a certificate"), chain});
  ASSERT_FALSE(garbage.has_value());
  EXPECT_NE(garbage.error().message().find("#1"), std::string::npos) << garbage.error().message();
}

TEST(SnpCertsTest, ArkAndAskDigestsMatchManifest) {
  SortedCerts milan = LoadChain("go-sev-guest/ask_ark_milan.pem");
  EXPECT_EQ(HexEncode(Sha256(CertDer(*milan.arks[0]))),
            "69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd");
  EXPECT_EQ(HexEncode(Sha256(CertDer(*milan.asks[0]))),
            "67d303bd3905fd38db8b20e0793699870e7fa612eaad5dec358293fd8c0bac1b");
}

// Serial numbers: the vector VCEKs have serial 0 and go-sev-guest reports negative serials from
// KDS. Both parse (OpenSSL accepts them); the chain signature is what authenticates a VCEK.
TEST(SnpCertsTest, ZeroAndNegativeSerialsParse) {
  const Bytes der = ReadVector("go-sev-guest/vcek.der");
  ASSERT_EQ(der[13], 0x02);  // tbsCertificate.serialNumber INTEGER, length 1, value 0
  ASSERT_EQ(der[14], 0x01);
  ASSERT_EQ(der[15], 0x00);
  ASSERT_OK_AND_ASSIGN(auto zero, LoadCertificates(der, Code::kInvalidArgument));
  EXPECT_EQ(ASN1_INTEGER_get(X509_get0_serialNumber(zero[0].get())), 0);
  Bytes negative = der;
  negative[15] = 0xFF;  // INTEGER -1
  ASSERT_OK_AND_ASSIGN(auto neg, LoadCertificates(negative, Code::kInvalidArgument));
  EXPECT_EQ(ASN1_INTEGER_get(X509_get0_serialNumber(neg[0].get())), -1);
  // ...but the altered certificate no longer chains (its signature covers the serial).
  SortedCerts milan = LoadChain("go-sev-guest/ask_ark_milan.pem");
  ChainInput in{neg[0].get(), milan.asks[0].get(), milan.arks[0].get(), Product::kMilan, false,
                Snp1Time()};
  EXPECT_CODE(VerifyChain(in, milan.arks), Code::kVerificationFailed);
}

TEST(SnpCertsTest, LoadRejectsGarbage) {
  EXPECT_CODE(LoadCertificates(ToBytes("garbage"), Code::kMalformedEvidence),
              Code::kMalformedEvidence);
  Bytes der = ReadVector("go-sev-guest/vcek.der");
  der.push_back(0);
  EXPECT_CODE(LoadCertificates(der, Code::kMalformedEvidence), Code::kMalformedEvidence);
  EXPECT_CODE(LoadCertificates(ToBytes("-----BEGIN CERTIFICATE-----\nAAAA\n"),
                               Code::kMalformedEvidence),
              Code::kMalformedEvidence);
}

}  // namespace
}  // namespace sigil::attestation::snp
