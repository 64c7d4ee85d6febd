// Certificate loading, VCEK extensions (pub. 57230) and the ARK/ASK chain, including the Turin
// chain-only vector (MANIFEST SNP-3).
#include "attestation/snp/chain.h"

#include <gtest/gtest.h>

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
