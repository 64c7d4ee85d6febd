// Parser tests over the real TPMS_ATTEST vectors (/work/shared/vectors/tpm2/MANIFEST.md).
#include "attestation/tpm/attest.h"

#include <gtest/gtest.h>

#include "core/encoding.h"
#include "core/file_io.h"
#include "tests/support/matchers.h"
#include "tests/unit/attestation/tpm/tpm_test_util.h"

namespace sigil::attestation::tpm {
namespace {

TEST(TpmAttest, ParsesTrusteeVectorAsManifestSays) {
  ASSERT_OK_AND_ASSIGN(Quote q, ParseQuote(ReadVector("trustee/derived_attest.bin")));
  EXPECT_EQ(HexEncode(q.qualified_signer),
            "000b3081a4cbbe307f3de1456f9875a3c2632528a70d91fcf578ccf092465e4e8e09");
  EXPECT_EQ(HexEncode(q.extra_data),
            "a04182b506878d4f29b91ee606a71a0d3361ccf1b22db20c98adcaa537bea393ef0e41a18b3569ab678f"
            "1497fbc5c12000000000000000000000000000000000");
  EXPECT_EQ(q.clock, 1913548331U);
  EXPECT_EQ(q.reset_count, 2U);
  EXPECT_EQ(q.restart_count, 0U);
  EXPECT_TRUE(q.safe);
  EXPECT_EQ(q.firmware_version, 0x2019102300163636ULL);
  ASSERT_EQ(q.pcr_select.size(), 1U);
  EXPECT_EQ(q.pcr_select[0].hash_alg, kAlgSha256);
  EXPECT_EQ(q.pcr_select[0].pcrs.size(), 24U);
  EXPECT_EQ(HexEncode(q.pcr_digest),
            "019de64c9318655e422c3d03831169896e31f02a1d74e4d8fef575bf4e0d75fa");
}

TEST(TpmAttest, ParsesAzureVectorAsManifestSays) {
  ASSERT_OK_AND_ASSIGN(Quote q, ParseQuote(ReadVector("azure-cvm-tooling/derived_attest.bin")));
  EXPECT_EQ(HexEncode(q.qualified_signer),
            "000bbf2498e2f2b96bee3a52db769ef9e9b8dc78fb75eb6a72550473ea3546f90590");
  EXPECT_EQ(ToString(q.extra_data), "challenge");
  EXPECT_EQ(q.clock, 3131573U);
  EXPECT_EQ(q.reset_count, 3U);
  EXPECT_EQ(q.restart_count, 0U);
  EXPECT_EQ(q.firmware_version, 0x2020031200120003ULL);
  ASSERT_EQ(q.pcr_select.size(), 1U);
  EXPECT_EQ(q.pcr_select[0].pcrs.size(), 24U);
  EXPECT_EQ(HexEncode(q.pcr_digest),
            "04fabd988106412e438c1b93ad3b4b046c760f8f99ec557d87adf2ab02b7a4a0");
}

TEST(TpmAttest, EveryTruncationAndExtensionIsRefused) {
  const Bytes attest = ReadVector("trustee/derived_attest.bin");
  for (std::size_t n = 0; n < attest.size(); ++n) {
    SCOPED_TRACE(n);
    EXPECT_CODE(ParseQuote(ByteSpan(attest).first(n)), Code::kMalformedEvidence);
  }
  Bytes longer = attest;
  longer.push_back(0);
  EXPECT_CODE(ParseQuote(longer), Code::kMalformedEvidence);
}

TEST(TpmAttest, WrongMagicOrTypeIsRefused) {
  Bytes attest = ReadVector("trustee/derived_attest.bin");
  Bytes bad = attest;
  bad[0] ^= 0x01;  // magic
  EXPECT_CODE(ParseQuote(bad), Code::kMalformedEvidence);
  bad = attest;
  bad[5] = 0x17;  // type 0x8017 TPM_ST_ATTEST_CERTIFY: union layout differs
  EXPECT_CODE(ParseQuote(bad), Code::kMalformedEvidence);
  bad = attest;
  bad[5] = 0x99;  // unknown TPMI_ST_ATTEST
  EXPECT_CODE(ParseQuote(bad), Code::kMalformedEvidence);
}

TEST(TpmAttest, OversizedTpm2bIsRefused) {
  Bytes attest = ReadVector("trustee/derived_attest.bin");
  // qualifiedSigner.size at offset 6 (after magic and type): claim more than TPM2B_NAME holds.
  attest[6] = 0xff;
  attest[7] = 0xff;
  EXPECT_CODE(ParseQuote(attest), Code::kMalformedEvidence);
}

TEST(TpmAttest, SignatureParsesAndRefusesUnknownAlgorithms) {
  const Bytes sig = ReadVector("trustee/derived_tpmt_signature.bin");
  ASSERT_OK_AND_ASSIGN(Signature s, ParseSignature(sig));
  EXPECT_EQ(s.sig_alg, kAlgRsassa);
  EXPECT_EQ(s.hash_alg, kAlgSha256);
  EXPECT_EQ(s.rsa_sig.size(), 256U);
  Bytes bad = sig;
  bad[1] = 0x15;  // 0x0015 TPM_ALG_RSAES: not a signature scheme
  EXPECT_CODE(ParseSignature(bad), Code::kMalformedEvidence);
  bad = sig;
  bad[1] = 0x05;  // 0x0005 TPM_ALG_HMAC: refused by us
  EXPECT_CODE(ParseSignature(bad), Code::kMalformedEvidence);
  EXPECT_CODE(ParseSignature(ByteSpan(sig).first(sig.size() - 1)), Code::kMalformedEvidence);
  bad = sig;
  bad.push_back(0);
  EXPECT_CODE(ParseSignature(bad), Code::kMalformedEvidence);
}

}  // namespace
}  // namespace sigil::attestation::tpm
