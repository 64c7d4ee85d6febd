// The HCL report's layers on the real captures, with exactly the outcomes of
// /work/shared/vectors/azure-cvm/MANIFEST.md: SNP binding PASS, AMD chain PASS (2023-03-13),
// report signature FAIL (the VCEK in certs.pem is for another chip); TDX binding and hash
// consistency PASS, authenticity NOT VERIFIABLE.
#include "attestation/azure/hcl_verify.h"

#include <gtest/gtest.h>

#include "attestation/azure/binding.h"
#include "attestation/snp/certs.h"
#include "attestation/snp/chain.h"
#include "attestation/snp/collateral.h"
#include "attestation/snp/signature.h"
#include "attestation/tpm/signature.h"
#include "core/encoding.h"
#include "tests/support/matchers.h"
#include "tests/unit/attestation/azure/azure_test_util.h"

namespace sigil::attestation::azure {
namespace {

using namespace sigil::testing::azure;  // NOLINT: test helpers

// The ARK (and ASK) of certs.pem are DER-identical to the sev-snp Milan anchors (MANIFEST).
AzureConfig SnpConfig() {
  AzureConfig config;
  config.platform = AzurePlatform::kSnp;
  config.snp.anchors.roots.push_back(
      ReadVector("../../sev-snp/go-sev-guest/ask_ark_milan.pem"));
  return config;
}

AzureConfig TdxConfig() {
  AzureConfig config;
  config.platform = AzurePlatform::kTdx;
  return config;
}

Bytes PemToDer(const Bytes& pem) {
  return tpm::AkDer(*tpm::LoadAk(pem, Code::kInvalidArgument).value()).value();
}

std::string Message(const Result<HclVerification>& r) { return r ? "" : r.error().message(); }

TEST(HclBindingTest, BothCapturesAreBoundToTheirRuntimeData) {
  for (const Bytes& hcl : {SnpHcl(), TdxHcl()}) {
    ASSERT_OK_AND_ASSIGN(BoundHcl b, ParseAndBindHclReport(hcl));
    EXPECT_FALSE(b.claims.GetString("azure.ak")->empty());
  }
  ASSERT_OK_AND_ASSIGN(BoundHcl snp, ParseAndBindHclReport(SnpHcl()));
  EXPECT_EQ(snp.report_type, HclReportType::kSnp);
  EXPECT_EQ(snp.ak_spki_der, PemToDer(ReadVector("derived_snp_hclakpub.pem")));
  EXPECT_TRUE(snp.ek_spki_der.empty());
  ASSERT_OK_AND_ASSIGN(BoundHcl tdx, ParseAndBindHclReport(TdxHcl()));
  EXPECT_EQ(tdx.report_type, HclReportType::kTdx);
  EXPECT_EQ(tdx.ak_spki_der, PemToDer(ReadVector("derived_tdx_hclakpub.pem")));
  EXPECT_FALSE(tdx.ek_spki_der.empty());
  // The expected REPORT_DATA is SHA-256(runtime data) || 32 zero bytes (MANIFEST).
  // HclReport's spans point into the buffer it parsed, so the buffer is kept alive here.
  const Bytes snp_hcl = SnpHcl();
  const HclReport parsed = ParseHclReport(snp_hcl).value();
  EXPECT_EQ(HexEncode(ExpectedReportData(parsed)),
            "1d0a466a9eed975e88f889f7aed4abc1c97e87c4f43e5e3478c9a4a5853cbd7d" + std::string(64, '0'));
}

TEST(HclBindingTest, EveryRuntimeDataByteFlipBreaksTheBinding) {
  for (const Bytes& full : {SnpHcl(), TdxHcl()}) {
    const HclReport parsed = ParseHclReport(full).value();
    const std::size_t begin = kRuntimeDataOffset;
    const std::size_t end = begin + parsed.runtime_data.size();
    for (std::size_t off = begin; off < end; ++off) {
      Bytes b = full;
      b[off] ^= 0x01;
      auto r = ParseAndBindHclReport(b);
      ASSERT_FALSE(r.has_value()) << "offset " << off;
      EXPECT_EQ(r.error().code(), Code::kVerificationFailed) << off;
      EXPECT_NE(r.error().message().find("runtime-data binding"), std::string::npos) << off;
    }
  }
}

TEST(HclBindingTest, EveryByteFlipIsAnsweredWithAValueNeverACrash) {
  // Whole-buffer sweep: each flip either still parses and binds (a field outside the runtime
  // data, REPORT_DATA and the checked header/padding, e.g. the SNP signature or a measurement,
  // which the hardware layer then covers) or is refused as malformed / not bound.
  for (const Bytes& full : {SnpHcl(), TdxHcl()}) {
    std::size_t refused = 0;
    for (std::size_t off = 0; off < full.size(); ++off) {
      Bytes b = full;
      b[off] ^= 0xFF;
      auto r = ParseAndBindHclReport(b);
      if (!r) {
        ++refused;
        EXPECT_TRUE(r.error().code() == Code::kMalformedEvidence ||
                    r.error().code() == Code::kVerificationFailed)
            << off << ": " << r.error().message();
      }
      const bool in_runtime_data = off >= kRuntimeDataOffset && off < ParseHclReport(full)->report_size;
      // 0x0C..0x0F is the request type, recorded but meaningless to verification (and, like the
      // whole envelope outside the hardware report, covered by no signature).
      const bool request_type = off >= 0x0C && off < 0x10;
      if (!request_type && (in_runtime_data || off < kHclHeaderSize || off >= kRequestDataOffset)) {
        EXPECT_FALSE(r.has_value()) << "offset " << off;
      }
    }
    EXPECT_GT(refused, 0u);
  }
}

TEST(HclBindingTest, ReportDataFlipsBreakTheBinding) {
  // REPORT_DATA at 0x50 of the SNP report (0x70 in the HCL), 128 of the TDREPORT (0xA0).
  for (auto [full, at] : {std::pair{SnpHcl(), std::size_t{0x70}}, std::pair{TdxHcl(), std::size_t{0xA0}}}) {
    for (std::size_t i : {std::size_t{0}, std::size_t{31}, std::size_t{32}, std::size_t{63}}) {
      Bytes b = full;
      b[at + i] ^= 0x80;
      auto r = ParseAndBindHclReport(b);
      ASSERT_FALSE(r.has_value()) << i;
      EXPECT_NE(r.error().message().find(i < 32 ? "REPORT_DATA[0:32]" : "REPORT_DATA[32:64] is not zero"),
                std::string::npos)
          << r.error().message();
    }
  }
}

TEST(HclBindingTest, ARuntimeDataShortenedConsistentlyIsRefusedByTheBinding) {
  Bytes b = SnpHcl();
  b[0x08] = static_cast<std::uint8_t>(1818 & 0xFF);  // 1819 -> 1818 (0x71A): low byte only
  b[0x4C0] = static_cast<std::uint8_t>(602 & 0xFF);  // 603 -> 602
  b[0x4D0] = static_cast<std::uint8_t>(582 & 0xFF);  // 583 -> 582
  b[1818] = 0;
  auto r = ParseAndBindHclReport(b);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kVerificationFailed);
}

TEST(HclSnpTest, AmdChainPassesAtTheManifestTimeAndFailsOutsideIt) {
  auto certs = snp::ParseCollateral(ReadVector("certs.pem")).value();
  ASSERT_TRUE(certs.vek);
  ASSERT_EQ(certs.asks.size(), 1u);
  ASSERT_EQ(certs.arks.size(), 1u);
  auto trusted = snp::LoadCertificates(ReadVector("../../sev-snp/go-sev-guest/ask_ark_milan.pem"),
                                       Code::kInvalidArgument)
                     .value();
  std::vector<X509Ptr> arks;
  for (X509Ptr& c : trusted) {
    if (snp::SubjectCommonName(*c) == "ARK-Milan") arks.push_back(std::move(c));
  }
  snp::ChainInput in{certs.vek.get(), certs.asks[0].get(), certs.arks[0].get(),
                     snp::Product::kMilan, false, SnpChainTime()};
  EXPECT_OK(snp::VerifyChain(in, arks));
  in.now = AfterVcekExpiry();
  EXPECT_CODE(snp::VerifyChain(in, arks), Code::kExpired);
  in.now = BeforeVcekValidity();
  EXPECT_CODE(snp::VerifyChain(in, arks), Code::kExpired);
}

TEST(HclSnpTest, ReportSignatureFailsWithTheCertsPemVcek) {
  // MANIFEST: the VCEK's hwID is da8a5695...cbe8d2, the report's CHIP_ID 3a5d5b1d...1a775a.
  auto certs = snp::ParseCollateral(ReadVector("certs.pem")).value();
  const auto ext = snp::ReadVcekExtensions(*certs.vek).value();
  ASSERT_TRUE(ext.hw_id.has_value());
  EXPECT_EQ(HexEncode(*ext.hw_id).substr(0, 8), "da8a5695");
  EXPECT_EQ(ext.product_name, "Milan-B0");
  const Bytes report_bytes = ReadVector("derived_snp_report.bin");
  const snp::Report report = snp::ParseReport(report_bytes).value();
  EXPECT_EQ(HexEncode(report.chip_id).substr(0, 8), "3a5d5b1d");
  EXPECT_NE(*ext.hw_id, Bytes(report.chip_id.begin(), report.chip_id.end()));
  EXPECT_EQ(report.reported_tcb, report.committed_tcb);  // az-snp-vtpm's rule: PASS
  auto sig = snp::VerifyReportSignature(report_bytes, report, *X509_get0_pubkey(certs.vek.get()));
  ASSERT_FALSE(sig.has_value());
  EXPECT_EQ(sig.error().code(), Code::kVerificationFailed);
}

TEST(HclSnpTest, HardwareLayerRefusesTheVcekOfAnotherChip) {
  const Bytes hcl = SnpHcl();
  for (auto when : {SnpChainTime(), AfterVcekExpiry()}) {
    auto r = VerifyHclReport(hcl, ReadVector("certs.pem"), SnpConfig(), when);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), Code::kVerificationFailed);
    EXPECT_NE(Message(r).find("VCEK is for another chip"), std::string::npos) << Message(r);
  }
}

TEST(HclSnpTest, SnpVerifierItselfPassesTheChainAndFailsTheSignature) {
  // What the hardware layer delegates to, without the chip pre-check: SnpVerifier checks the
  // chain (its step 4) before the signature (step 5), so this failure means the chain passed.
  auto v = snp::SnpVerifier::Create(SnpConfig().snp).value();
  const Bytes report = ReadVector("derived_snp_report.bin");
  const ReportData binding = ExpectedReportData(ParseHclReport(SnpHcl()).value());
  auto r = v->Verify(VerifyInput{report, ReadVector("certs.pem"), binding, SnpChainTime(), {}});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kVerificationFailed);
  EXPECT_NE(r.error().message().find("SEV-SNP report signature does not verify"), std::string::npos)
      << r.error().message();
  // After the VCEK's expiry the chain fails first.
  auto late = v->Verify(VerifyInput{report, ReadVector("certs.pem"), binding, AfterVcekExpiry(), {}});
  EXPECT_CODE(late, Code::kExpired);
}

TEST(HclSnpTest, WithoutAVcekForThisChipNothingVerifies) {
  // No collateral: no VCEK at all. The certs.pem VCEK in the cache: it does not fit this chip.
  auto none = VerifyHclReport(SnpHcl(), SnpConfig(), SnpChainTime());
  ASSERT_FALSE(none.has_value());
  EXPECT_NE(Message(none).find("no VCEK/VLEK certificate"), std::string::npos) << Message(none);
  AzureConfig cached = SnpConfig();
  cached.snp.vcek_cache.push_back(ReadVector("certs.pem"));
  auto r = VerifyHclReport(SnpHcl(), cached, SnpChainTime());
  EXPECT_CODE(r, Code::kVerificationFailed);
}

TEST(HclSnpTest, AReportFromAHigherVmplIsRefused) {
  // VMPL (report 0x30, HCL 0x50) is outside REPORT_DATA, so the binding still holds.
  Bytes hcl = SnpHcl();
  hcl[0x50] = 2;
  ASSERT_OK(ParseAndBindHclReport(hcl));
  auto r = VerifyHclReport(hcl, ReadVector("certs.pem"), SnpConfig(), SnpChainTime());
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(Message(r).find("VMPL (0x30) is 2, not 0"), std::string::npos) << Message(r);
}

TEST(HclSnpTest, PlatformMismatchIsRefused) {
  auto tdx_as_snp = VerifyHclReport(TdxHcl(), SnpConfig(), SnpChainTime());
  ASSERT_FALSE(tdx_as_snp.has_value());
  EXPECT_NE(Message(tdx_as_snp).find("carries a TDX TDREPORT"), std::string::npos);
  auto snp_as_tdx = VerifyHclReport(SnpHcl(), TdxConfig(), SnpChainTime());
  ASSERT_FALSE(snp_as_tdx.has_value());
  EXPECT_NE(Message(snp_as_tdx).find("carries a SEV-SNP report"), std::string::npos);
}

TEST(HclSnpTest, ConfigWithoutArkIsRefused) {
  AzureConfig config;
  EXPECT_CODE(HclReportVerifier::Create(config), Code::kInvalidArgument);
  EXPECT_OK(HclReportVerifier::Create(TdxConfig()));  // TDX needs no AMD anchors
}

TEST(HclTdxTest, BindingPassesAndTheHardwareLayerIsNotVerifiable) {
  ASSERT_OK_AND_ASSIGN(HclVerification v, VerifyHclReport(TdxHcl(), TdxConfig(), SnpChainTime()));
  EXPECT_EQ(v.report_type, HclReportType::kTdx);
  EXPECT_FALSE(v.hardware_verified);
  EXPECT_NE(v.hardware_status.find("cannot be authenticated offline"), std::string::npos);
  EXPECT_EQ(v.ak_spki_der, PemToDer(ReadVector("derived_tdx_hclakpub.pem")));
  EXPECT_EQ(v.ak_pem, ToString(ReadVector("derived_tdx_hclakpub.pem")));
  EXPECT_EQ(v.runtime_data, ReadVector("derived_tdx_runtime_data.json"));
  const Claims& c = v.claims;
  EXPECT_EQ(c.GetString("tee"), "azure-tdx-vtpm");
  EXPECT_EQ(c.GetBool("azure.hardware_verified"), false);
  EXPECT_EQ(c.GetString("tcb.status"), "NotEvaluated");
  EXPECT_EQ(c.GetBool("debug"), false);
  EXPECT_EQ(c.GetString("measurement"),
            "75f3acc2e1dfc3acf404d7eaa69a2eefcd0475a0dd6516ef5ba3cb83399c61b4aa1c638e3622bb650a514b"
            "fc6e858886");
  EXPECT_EQ(c.GetString("tdx.rtmr0"), std::string(96, '0'));
  EXPECT_EQ(c.GetString("tdx.xfam"), "e718060000000000");
  EXPECT_EQ(c.GetBool("azure.secure_boot"), false);
  EXPECT_EQ(c.GetBool("azure.console_enabled"), true);
  EXPECT_EQ(c.GetBool("azure.tpm_enabled"), true);
  EXPECT_EQ(c.GetBool("azure.tpm_persisted"), false);
  EXPECT_EQ(c.GetString("azure.vm_unique_id"), "D270E56B-F668-4990-A5BC-9B624576841D");
  EXPECT_EQ(c.GetString("azure.user_data"), std::string(128, '0'));
  EXPECT_EQ(c.GetString("azure.ak"), "bd29cb2d7f1db3bc6ecb0b1ddb1db5837c1bcb94c7eac48e2575defd64bbf35b");
  EXPECT_EQ(c.GetString("azure.ek"), "bdec87d416270b9c35c052c41c3347c2e28b889d2c274fa0a2f07f0f5923a477");
  EXPECT_EQ(c.GetString("azure.hcl.report_type"), "tdx");
  // The envelope's header and request data are covered by no signature: no claims from them.
  EXPECT_EQ(c.Find("azure.hcl.header_version"), nullptr);
  EXPECT_EQ(c.Find("azure.hcl.request_type"), nullptr);
}

TEST(HclTdxTest, InconsistentTdReportHashesAreRefused) {
  // MRTD (TDINFO+16, HCL 0x20+528) changed: TEE_INFO_HASH no longer matches. Outside REPORTDATA,
  // so the binding holds; the MAC would catch it on the platform, we catch it by the hash.
  Bytes hcl = TdxHcl();
  hcl[0x20 + 528] ^= 1;
  auto r = VerifyHclReport(hcl, TdxConfig(), SnpChainTime());
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(Message(r).find("TEE_INFO_HASH"), std::string::npos) << Message(r);
  hcl = TdxHcl();
  hcl[0x20 + 280] ^= 1;  // MRSEAM
  r = VerifyHclReport(hcl, TdxConfig(), SnpChainTime());
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(Message(r).find("TEE_TCB_INFO_HASH"), std::string::npos) << Message(r);
}

}  // namespace
}  // namespace sigil::attestation::azure
