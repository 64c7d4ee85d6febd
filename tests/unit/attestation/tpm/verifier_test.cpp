// TpmVerifier over the two real vectors (/work/shared/vectors/tpm2/MANIFEST.md) and mutations.
// Both vectors' extraData is not 32 bytes (trustee: 64, Azure: "challenge", 9), so it can never
// equal expected_binding[0..32): the positive cases use the documented empty-binding skip path,
// and a 64-byte binding is refused. The 32-byte binding path is covered in synthetic_test.cpp.
#include "attestation/tpm/verifier.h"

#include <gtest/gtest.h>

#include "attestation/tpm/evidence.h"
#include "core/digest.h"
#include "core/encoding.h"
#include "tests/support/matchers.h"
#include "tests/unit/attestation/tpm/tpm_test_util.h"

namespace sigil::attestation::tpm {
namespace {

std::unique_ptr<Verifier> MakeVerifier(bool guard = false) {
  TpmConfig config;
  config.registered_aks = {ReadVector("trustee/derived_ak_pub.der"),
                           ReadVector("azure-cvm-tooling/akpub.pem")};
  config.monotonic_clock_guard = guard;
  auto v = TpmVerifier::Create(std::move(config));
  return v ? std::move(v).value() : nullptr;
}

Result<Claims> VerifyEvidence(const Verifier& v, ByteSpan evidence, ByteSpan binding = {}) {
  return v.Verify(VerifyInput{evidence, {}, binding, std::chrono::system_clock::now()});
}

Bytes PcrConcat(const std::string& rel) {
  std::string hex;
  for (std::uint8_t c : ReadVector(rel)) {
    if (c != '\n' && c != '\r') {
      hex.push_back(static_cast<char>(c));
    }
  }
  return *HexDecode(hex);
}

TEST(TpmVerifier, TrusteeVectorVerifies) {
  auto v = MakeVerifier();
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->tee(), "tpm");
  ASSERT_OK_AND_ASSIGN(Claims c, VerifyEvidence(*v, TrusteeEvidence()));
  const std::string ak = "000b3081a4cbbe307f3de1456f9875a3c2632528a70d91fcf578ccf092465e4e8e09";
  EXPECT_EQ(c.GetString("tee"), "tpm");
  EXPECT_EQ(c.GetBool("debug"), false);
  EXPECT_EQ(c.GetString("tpm.ak"), ak);
  EXPECT_EQ(c.GetString("platform.id"), ak);
  EXPECT_EQ(c.GetString("tpm.firmware"), "2019102300163636");
  EXPECT_EQ(c.GetInt("tpm.clock"), 1913548331);
  EXPECT_EQ(c.GetInt("tpm.reset_count"), 2);
  EXPECT_EQ(c.GetInt("tpm.restart_count"), 0);
  EXPECT_EQ(c.GetBool("tpm.clock_safe"), true);
  EXPECT_EQ(c.GetString("tcb.status"), "NotApplicable");
  EXPECT_EQ(c.GetString("measurement"),
            HexEncode(Sha384(PcrConcat("trustee/derived_pcrs_sha256.txt"))));
  for (int n = 0; n < 24; ++n) {
    const bool ff = n >= 17 && n <= 22;
    EXPECT_EQ(c.GetString("tpm.pcr.sha256." + std::to_string(n)), std::string(64, ff ? 'f' : '0'))
        << n;
  }
  // Without "ak" the registered AKs are tried in turn.
  EXPECT_OK(VerifyEvidence(*v, TrusteeEvidence(/*with_ak=*/false)));
}

TEST(TpmVerifier, AzureVectorVerifies) {
  auto v = MakeVerifier();
  ASSERT_NE(v, nullptr);
  ASSERT_OK_AND_ASSIGN(Claims c, VerifyEvidence(*v, AzureEvidence()));
  EXPECT_EQ(c.GetString("tpm.ak"),
            "000bbf2498e2f2b96bee3a52db769ef9e9b8dc78fb75eb6a72550473ea3546f90590");
  EXPECT_EQ(c.GetString("tpm.firmware"), "2020031200120003");
  EXPECT_EQ(c.GetInt("tpm.clock"), 3131573);
  EXPECT_EQ(c.GetInt("tpm.reset_count"), 3);
  EXPECT_EQ(c.GetInt("tpm.restart_count"), 0);
  EXPECT_EQ(c.GetString("tpm.pcr.sha256.0"),
            "f3a7e99a5f819a034386bce753a48a73cfdaa0bea0ecfc124bedbf5a8c4799be");
  EXPECT_EQ(c.GetString("tpm.pcr.sha256.4"),
            "1d3b1cb141906329dd8ab09584214a88dffaf839ed14c8ef677a6bcf6ea27a02");
  EXPECT_EQ(c.GetString("tpm.pcr.sha256.7"),
            "32fe42b385b47cb22c906b8a7e4f134e9f2270818f90e94072d1101ef72f1c00");
  EXPECT_EQ(c.GetString("tpm.pcr.sha256.17"), std::string(64, 'f'));
}

TEST(TpmVerifier, BindingNotMatchingExtraDataIsRefused) {
  auto v = MakeVerifier();
  ASSERT_NE(v, nullptr);
  // The trustee extraData's first 32 bytes, padded to 64: still refused, because extraData is
  // 64 bytes and must equal exactly expected_binding[0..32).
  Bytes binding = *HexDecode(
      "a04182b506878d4f29b91ee606a71a0d3361ccf1b22db20c98adcaa537bea393ef0e41a18b3569ab678f1497"
      "fbc5c12000000000000000000000000000000000");
  EXPECT_CODE(VerifyEvidence(*v, TrusteeEvidence(), binding), Code::kVerificationFailed);
  Bytes azure_binding(64, 0);
  std::copy_n(std::string("challenge").begin(), 9, azure_binding.begin());
  EXPECT_CODE(VerifyEvidence(*v, AzureEvidence(), azure_binding), Code::kVerificationFailed);
  EXPECT_CODE(VerifyEvidence(*v, AzureEvidence(), Bytes(10, 0)), Code::kInvalidArgument);
}

TEST(TpmVerifier, EverySingleByteFlipOfTheAttestIsRefused) {
  auto v = MakeVerifier();
  ASSERT_NE(v, nullptr);
  for (const char* dir : {"trustee", "azure-cvm-tooling"}) {
    ASSERT_OK_AND_ASSIGN(
        Evidence e,
        ParseEvidence(std::string(dir) == "trustee" ? TrusteeEvidence() : AzureEvidence()));
    for (std::size_t i = 0; i < e.attest.size(); ++i) {
      Evidence bad = e;
      bad.attest[i] ^= 0x01;
      EXPECT_FALSE(VerifyEvidence(*v, SerializeEvidence(bad)).has_value()) << dir << " byte " << i;
    }
  }
}

TEST(TpmVerifier, SignatureFlipsAreRefused) {
  auto v = MakeVerifier();
  ASSERT_NE(v, nullptr);
  for (const char* dir : {"trustee", "azure-cvm-tooling"}) {
    ASSERT_OK_AND_ASSIGN(
        Evidence e,
        ParseEvidence(std::string(dir) == "trustee" ? TrusteeEvidence() : AzureEvidence()));
    for (std::size_t i = 0; i < e.signature.size(); ++i) {
      Evidence bad = e;
      bad.signature[i] ^= 0x80;
      EXPECT_FALSE(VerifyEvidence(*v, SerializeEvidence(bad)).has_value()) << dir << " byte " << i;
    }
    Evidence reversed = e;  // the Azure tooling's own negative test (raw RSASSA)
    std::reverse(reversed.signature.begin(), reversed.signature.end());
    EXPECT_FALSE(VerifyEvidence(*v, SerializeEvidence(reversed)).has_value());
  }
}

TEST(TpmVerifier, PcrChangesAreRefused) {
  auto v = MakeVerifier();
  ASSERT_NE(v, nullptr);
  ASSERT_OK_AND_ASSIGN(Evidence e, ParseEvidence(AzureEvidence()));
  for (std::uint32_t n = 0; n < 24; ++n) {
    Evidence bad = e;
    bad.pcrs[kAlgSha256][n][31] ^= 0x01;
    SCOPED_TRACE(n);
    EXPECT_CODE(VerifyEvidence(*v, SerializeEvidence(bad)), Code::kVerificationFailed);
  }
  Evidence missing = e;
  missing.pcrs[kAlgSha256].erase(5);
  EXPECT_CODE(VerifyEvidence(*v, SerializeEvidence(missing)), Code::kMalformedEvidence);
  Evidence extra = e;
  extra.pcrs[kAlgSha1][0] = Bytes(20, 0);
  EXPECT_CODE(VerifyEvidence(*v, SerializeEvidence(extra)), Code::kMalformedEvidence);
}

TEST(TpmVerifier, UnknownAkIsRefused) {
  TpmConfig config;
  config.registered_aks = {ReadVector("azure-cvm-tooling/akpub.pem")};
  ASSERT_OK_AND_ASSIGN(auto v, TpmVerifier::Create(std::move(config)));
  EXPECT_CODE(VerifyEvidence(*v, TrusteeEvidence()), Code::kVerificationFailed);
  EXPECT_CODE(VerifyEvidence(*v, TrusteeEvidence(/*with_ak=*/false)), Code::kVerificationFailed);
  EXPECT_OK(VerifyEvidence(*v, AzureEvidence()));
}

TEST(TpmVerifier, CreateRefusesBadConfig) {
  EXPECT_CODE(TpmVerifier::Create(TpmConfig{}), Code::kInvalidArgument);
  EXPECT_CODE(TpmVerifier::Create(TpmConfig{{ToBytes("not a key")}}), Code::kInvalidArgument);
}

TEST(TpmVerifier, MalformedEvidenceIsRefused) {
  auto v = MakeVerifier();
  ASSERT_NE(v, nullptr);
  for (
      const char* text :
      {"", "[]", "{}", R"({"format":"sigil-tpm-quote/v2","attest":"","signature":"","pcrs":{}})",
       R"({"format":"sigil-tpm-quote/v1","attest":"AA","signature":"AA","pcrs":{},"x":1})",
       R"({"format":"sigil-tpm-quote/v1","attest":"AA","signature":"AA","pcrs":{"sm3":{}}})",
       R"({"format":"sigil-tpm-quote/v1","attest":"AA","signature":"AA","pcrs":{"sha256":{"01":"00"}}})",
       R"({"format":"sigil-tpm-quote/v1","attest":"A+","signature":"AA","pcrs":{}})"}) {
    SCOPED_TRACE(text);
    EXPECT_CODE(VerifyEvidence(*v, AsBytes(text)), Code::kMalformedEvidence);
  }
}

TEST(TpmVerifier, ReplayGuardRefusesTheSameQuoteTwice) {
  auto v = MakeVerifier(/*guard=*/true);
  ASSERT_NE(v, nullptr);
  EXPECT_OK(VerifyEvidence(*v, AzureEvidence()));
  EXPECT_CODE(VerifyEvidence(*v, AzureEvidence()), Code::kReplay);
  EXPECT_OK(VerifyEvidence(*v, TrusteeEvidence()));  // another AK: its own state
}

TEST(TpmReplayGuard, OrdersResetRestartClock) {
  ReplayGuard g;
  EXPECT_OK(g.Observe("ak", ClockState{2, 1, 100}));
  EXPECT_CODE(g.Observe("ak", ClockState{2, 1, 100}), Code::kReplay);
  EXPECT_CODE(g.Observe("ak", ClockState{2, 0, 500}), Code::kReplay);
  EXPECT_CODE(g.Observe("ak", ClockState{1, 9, 900}), Code::kReplay);
  EXPECT_OK(g.Observe("ak", ClockState{2, 1, 101}));
  EXPECT_OK(g.Observe("ak", ClockState{3, 0, 5}));
}

TEST(TpmEvidence, BinaryValuesPcrFileEqualsTextFile) {
  const Bytes bin = PcrConcat("azure-cvm-tooling/derived_pcrs_sha256.txt");
  ASSERT_OK_AND_ASSIGN(
      Bytes e,
      EvidenceFromTpm2Tools(ReadVector("azure-cvm-tooling/derived_attest.bin"),
                            ReadVector("azure-cvm-tooling/derived_signature_rsassa_raw.bin"), bin,
                            ReadVector("azure-cvm-tooling/akpub.pem")));
  EXPECT_EQ(e, AzureEvidence());
  EXPECT_CODE(EvidenceFromTpm2Tools(ReadVector("azure-cvm-tooling/derived_attest.bin"), {},
                                    ByteSpan(bin).first(bin.size() - 1), {}),
              Code::kMalformedEvidence);
}

}  // namespace
}  // namespace sigil::attestation::tpm
