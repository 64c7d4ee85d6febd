// SnpVerifier on the real vectors of /work/shared/vectors/sev-snp (MANIFEST SNP-1, SNP-2), plus
// one negative test per refusal branch, each built by mutating a real report or certificate.
#include "attestation/snp/verifier.h"

#include <gtest/gtest.h>

#include "attestation/snp/certs.h"
#include "core/encoding.h"
#include "tests/support/matchers.h"
#include "tests/unit/attestation/snp/snp_test_util.h"

namespace sigil::attestation::snp {
namespace {

using namespace sigil::testing::snp;  // NOLINT: test helpers

Bytes MilanChain() { return ReadVector("go-sev-guest/ask_ark_milan.pem"); }
Bytes GenoaChain() { return ReadVector("go-sev-guest/ask_ark_genoa.pem"); }
Bytes Snp1Vcek() { return ReadVector("go-sev-guest/vcek.der"); }
Bytes Snp2Vcek() { return ReadVector("virtee-sev/vcek_milan.der"); }

std::string DerToPem(const Bytes& der) {
  std::string b64 = Base64Encode(der);
  std::string pem = "-----BEGIN CERTIFICATE-----\n";
  for (std::size_t i = 0; i < b64.size(); i += 64) {
    pem += b64.substr(i, 64) + "\n";
  }
  return pem + "-----END CERTIFICATE-----\n";
}

// Anchors = the Milan KDS cert_chain file (ASK goes to intermediates automatically), and both
// VCEKs cached: collateral can then be empty, so the loops below reuse parsed certificates.
std::unique_ptr<Verifier> MakeVerifier(Bytes anchors = MilanChain(), bool cache = true) {
  SnpConfig config;
  config.anchors.roots.push_back(std::move(anchors));
  if (cache) {
    config.vcek_cache = {Snp1Vcek(), Snp2Vcek()};
  }
  return SnpVerifier::Create(std::move(config)).value();
}

Result<Claims> VerifyAt(const Verifier& v, ByteSpan report, std::chrono::system_clock::time_point t,
                        ByteSpan collateral = {}) {
  auto parsed = ParseReport(report);
  const Bytes binding = parsed ? Bytes(parsed->report_data.begin(), parsed->report_data.end())
                               : Bytes(64, 0);
  return v.Verify({report, collateral, binding, t});
}

TEST(SnpVerifierTest, Snp1PassesWithManifestClaims) {
  auto v = MakeVerifier();
  EXPECT_EQ(v->tee(), "sev-snp");
  ASSERT_OK_AND_ASSIGN(Claims c, VerifyAt(*v, Snp1Report(), Snp1Time()));
  EXPECT_EQ(c.GetString("tee"), "sev-snp");
  EXPECT_EQ(c.GetBool("debug"), true);  // MANIFEST: policy 0xB0000 has DEBUG allowed (bit 19)
  EXPECT_EQ(c.GetBool("snp.policy.debug"), true);
  EXPECT_EQ(c.GetBool("snp.policy.smt"), true);
  EXPECT_EQ(c.GetBool("snp.policy.migrate_ma"), false);
  EXPECT_EQ(c.GetInt("snp.policy.abi_major"), 0);
  EXPECT_EQ(c.GetInt("snp.policy.abi_minor"), 0);
  EXPECT_EQ(c.GetString("measurement"),
            "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608"
            "eb0cf2e4872b01");
  EXPECT_EQ(c.GetString("platform.id"),
            "3ac3fe21e13fb0990eb28a802e3fb6a29483a6b0753590c951bdd3b8e53786184ca39e359669a2b7"
            "6a1936776b564ea464cdce40c05f63c9b610c5068b006b5d");
  EXPECT_EQ(c.GetString("snp.report_data"), "0102030405" + std::string(118, '0'));
  EXPECT_EQ(c.GetString("snp.host_data"), std::string(64, '0'));
  EXPECT_EQ(c.GetInt("snp.version"), 2);
  EXPECT_EQ(c.GetInt("snp.guest_svn"), 0);
  EXPECT_EQ(c.GetInt("snp.vmpl"), 0);
  EXPECT_EQ(c.GetInt("snp.reported_tcb.bootloader"), 2);
  EXPECT_EQ(c.GetInt("snp.reported_tcb.tee"), 0);
  EXPECT_EQ(c.GetInt("snp.reported_tcb.snp"), 5);
  EXPECT_EQ(c.GetInt("snp.reported_tcb.microcode"), 68);
  EXPECT_EQ(c.Find("snp.reported_tcb.fmc"), nullptr);
  EXPECT_EQ(c.GetString("snp.signing_key"), "vcek");
  EXPECT_EQ(c.GetString("snp.product"), "Milan");
  EXPECT_EQ(c.GetString("tcb.status"), "Endorsed");
}

TEST(SnpVerifierTest, Snp2PassesWithManifestClaims) {
  auto v = MakeVerifier();
  ASSERT_OK_AND_ASSIGN(Claims c, VerifyAt(*v, Snp2Report(), Snp2Time()));
  EXPECT_EQ(c.GetBool("debug"), false);
  EXPECT_EQ(c.GetString("measurement"),
            "7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd"
            "95b9c480cd81841f");
  EXPECT_EQ(c.GetString("platform.id"),
            "d49554ec717f4e5b0fe6b143bcf0405bd7ae304727edf46603f2a76aef6a3abc15d7af38db757039"
            "029f0efacfd08e244324884738c72b082e2f87a44d541eb6");
  EXPECT_EQ(c.GetInt("snp.reported_tcb.bootloader"), 3);
  EXPECT_EQ(c.GetInt("snp.reported_tcb.tee"), 0);
  EXPECT_EQ(c.GetInt("snp.reported_tcb.snp"), 8);
  EXPECT_EQ(c.GetInt("snp.reported_tcb.microcode"), 115);
  EXPECT_EQ(c.GetString("snp.product"), "Milan");
}

TEST(SnpVerifierTest, CollateralFormats) {
  auto v = MakeVerifier(ReadVector("go-sev-guest/ask_ark_milan.pem"), /*cache=*/false);
  const std::string chain = ToString(MilanChain());
  // 1. concatenated PEM: VCEK + KDS cert_chain.
  EXPECT_OK(VerifyAt(*v, Snp1Report(), Snp1Time(), ToBytes(DerToPem(Snp1Vcek()) + chain)));
  // 2. a single DER VCEK (ASK from the configured bundle).
  EXPECT_OK(VerifyAt(*v, Snp2Report(), Snp2Time(), Snp2Vcek()));
  // 3. JSON {"vcek": base64 DER, "chain": PEM}.
  Json j = {{"vcek", Base64Encode(Snp1Vcek())}, {"chain", chain}};
  EXPECT_OK(VerifyAt(*v, Snp1Report(), Snp1Time(), ToBytes(j.dump())));
  // No VCEK anywhere.
  EXPECT_CODE(VerifyAt(*v, Snp1Report(), Snp1Time()), Code::kVerificationFailed);
  // The other chip's VCEK (at a time both VCEKs are valid): hwID/TCB/signature do not match.
  EXPECT_CODE(VerifyAt(*v, Snp1Report(), Snp2Time(), Snp2Vcek()), Code::kVerificationFailed);
  for (std::string bad : {"{", "{\"vcek\": 5}", "{\"x\": \"\"}", "{\"vcek\": \"!!\"}", "junk"}) {
    SCOPED_TRACE(bad);
    EXPECT_CODE(VerifyAt(*v, Snp1Report(), Snp1Time(), ToBytes(bad)), Code::kMalformedEvidence);
  }
  // Two EC certificates.
  EXPECT_CODE(VerifyAt(*v, Snp1Report(), Snp1Time(),
                       ToBytes(DerToPem(Snp1Vcek()) + DerToPem(Snp2Vcek()))),
              Code::kMalformedEvidence);
}

TEST(SnpVerifierTest, EverySignedByteFlipIsRefused) {
  auto v = MakeVerifier();
  struct Case {
    Bytes report;
    std::chrono::system_clock::time_point at;
  };
  for (const Case& c : {Case{Snp1Report(), Snp1Time()}, Case{Snp2Report(), Snp2Time()}}) {
    const Bytes expected(c.report.begin() + 0x50, c.report.begin() + 0x90);
    for (std::size_t i = 0; i < kReportSize; ++i) {  // signed region and the signature
      Bytes b = c.report;
      b[i] ^= 0x01;
      auto r = v->Verify({b, {}, expected, c.at});
      ASSERT_FALSE(r.has_value()) << "flip at " << i << " accepted";
    }
  }
}

TEST(SnpVerifierTest, VirteeByte21FlipIsSignatureFailure) {
  Bytes b = Snp2Report();
  b[21] ^= 0x80;  // MANIFEST SNP-2 milan_report_invalid
  EXPECT_CODE(VerifyAt(*MakeVerifier(), b, Snp2Time()), Code::kVerificationFailed);
}

TEST(SnpVerifierTest, WrongRootIsRefused) {
  auto genoa = MakeVerifier(GenoaChain());
  auto r = VerifyAt(*genoa, Snp1Report(), Snp1Time());
  EXPECT_CODE(r, Code::kVerificationFailed);
  EXPECT_NE(r.error().message().find("ARK-Milan"), std::string::npos) << r.error().message();
  // A Milan chain in the collateral is not trusted just because it is there.
  auto with_chain = VerifyAt(*genoa, Snp1Report(), Snp1Time(),
                             ToBytes(DerToPem(Snp1Vcek()) + ToString(MilanChain())));
  EXPECT_CODE(with_chain, Code::kVerificationFailed);
  EXPECT_NE(with_chain.error().message().find("not a configured"), std::string::npos);
}

TEST(SnpVerifierTest, CertificateValidityUsesInputNow) {
  auto v = MakeVerifier();
  EXPECT_CODE(VerifyAt(*v, Snp1Report(), At(1884905729)), Code::kExpired);  // after notAfter
  EXPECT_CODE(VerifyAt(*v, Snp1Report(), At(1663980927)), Code::kExpired);  // before notBefore
  EXPECT_OK(VerifyAt(*v, Snp1Report(), At(1884905727)));                    // just inside
}

TEST(SnpVerifierTest, TamperedVcekIsRefused) {
  auto v = MakeVerifier(MilanChain(), /*cache=*/false);
  Bytes vcek = Snp2Vcek();
  vcek[40] ^= 0xff;  // MANIFEST SNP-2 milan_chain_invalid
  auto r = VerifyAt(*v, Snp2Report(), Snp2Time(), vcek);
  ASSERT_FALSE(r.has_value());
}

TEST(SnpVerifierTest, BindingMismatchAndSkip) {
  auto v = MakeVerifier();
  const Bytes report = Snp1Report();
  Bytes wrong(report.begin() + 0x50, report.begin() + 0x90);
  wrong[63] ^= 1;
  EXPECT_CODE(v->Verify({report, {}, wrong, Snp1Time()}), Code::kVerificationFailed);
  EXPECT_CODE(v->Verify({report, {}, Bytes(63, 0), Snp1Time()}), Code::kInvalidArgument);
  EXPECT_OK(v->Verify({report, {}, {}, Snp1Time()}));  // empty = explicitly skipped
}

// The ForTest hook skips only the report signature, so mutated real reports reach the TCB and
// chip-id checks (with the signature on, they fail earlier).
TEST(SnpVerifierTest, ReportedTcbAboveVcekIsRefused) {
  auto v = MakeVerifier();
  auto* snp = dynamic_cast<SnpVerifier*>(v.get());
  ASSERT_NE(snp, nullptr);
  Bytes b = Snp1Report();
  EXPECT_OK(snp->VerifyWithoutReportSignatureForTest({b, Snp1Vcek(), {}, Snp1Time()}));
  b[0x187] = 69;  // reported_tcb.microcode 68 -> 69
  auto r = snp->VerifyWithoutReportSignatureForTest({b, Snp1Vcek(), {}, Snp1Time()});
  EXPECT_CODE(r, Code::kVerificationFailed);
  EXPECT_NE(r.error().message().find("microcode = 69 is above"), std::string::npos);
  EXPECT_CODE(v->Verify({b, Snp1Vcek(), {}, Snp1Time()}), Code::kVerificationFailed);
  b[0x187] = 68;
  b[0x180] = 3;  // bootloader 2 -> 3
  EXPECT_CODE(snp->VerifyWithoutReportSignatureForTest({b, Snp1Vcek(), {}, Snp1Time()}),
              Code::kVerificationFailed);
}

TEST(SnpVerifierTest, ChipIdAndSigningKeyChecks) {
  auto v = MakeVerifier();
  auto* snp = dynamic_cast<SnpVerifier*>(v.get());
  Bytes b = Snp1Report();
  b[0x1A0] ^= 1;  // chip_id differs from the VCEK hwID
  auto r = snp->VerifyWithoutReportSignatureForTest({b, Snp1Vcek(), {}, Snp1Time()});
  EXPECT_CODE(r, Code::kVerificationFailed);
  EXPECT_NE(r.error().message().find("hwID"), std::string::npos);
  b[0x048] = 0x02;  // MASK_CHIP_KEY: chip id not compared
  EXPECT_OK(snp->VerifyWithoutReportSignatureForTest({b, Snp1Vcek(), {}, Snp1Time()}));
  b[0x048] = 1 << 2;  // signing_key = VLEK, but the certificate is a VCEK
  EXPECT_CODE(snp->VerifyWithoutReportSignatureForTest({b, Snp1Vcek(), {}, Snp1Time()}),
              Code::kVerificationFailed);
  b[0x048] = 2 << 2;  // reserved signing key
  EXPECT_CODE(snp->VerifyWithoutReportSignatureForTest({b, Snp1Vcek(), {}, Snp1Time()}),
              Code::kVerificationFailed);
}

TEST(SnpVerifierTest, Version3CpuidFamilyMustMatchProduct) {
  auto v = MakeVerifier();
  auto* snp = dynamic_cast<SnpVerifier*>(v.get());
  Bytes b = Snp1Report();
  b[0x000] = 3;
  b[0x188] = 0x19;  // family 19h = Milan
  b[0x189] = 0x01;
  ASSERT_OK_AND_ASSIGN(Claims c,
                       snp->VerifyWithoutReportSignatureForTest({b, Snp1Vcek(), {}, Snp1Time()}));
  EXPECT_EQ(c.GetInt("snp.version"), 3);
  EXPECT_EQ(c.GetInt("snp.cpuid.family"), 0x19);
  EXPECT_EQ(c.GetInt("snp.cpuid.model"), 0x01);
  EXPECT_EQ(c.GetInt("snp.cpuid.stepping"), 0);
  b[0x188] = 0x1A;  // Turin family with a Milan VCEK
  EXPECT_CODE(snp->VerifyWithoutReportSignatureForTest({b, Snp1Vcek(), {}, Snp1Time()}),
              Code::kVerificationFailed);
}

TEST(SnpVerifierTest, CollateralArkChosenByProduct) {
  auto v = MakeVerifier(MilanChain(), /*cache=*/false);
  const std::string both = ToString(GenoaChain()) + DerToPem(Snp1Vcek()) + ToString(MilanChain());
  EXPECT_OK(VerifyAt(*v, Snp1Report(), Snp1Time(), ToBytes(both)));
}

TEST(SnpVerifierTest, CreateRejectsBadConfig) {
  EXPECT_CODE(SnpVerifier::Create({}), Code::kInvalidArgument);
  SnpConfig only_vcek;
  only_vcek.anchors.roots = {Snp1Vcek()};
  EXPECT_CODE(SnpVerifier::Create(std::move(only_vcek)), Code::kInvalidArgument);
  SnpConfig junk;
  junk.anchors.roots = {ToBytes("not a cert")};
  EXPECT_CODE(SnpVerifier::Create(std::move(junk)), Code::kInvalidArgument);
}

}  // namespace
}  // namespace sigil::attestation::snp
