// The vTPM quote layer and AzureVtpmVerifier on the real captures (MANIFEST AZ-VTPM-1): the
// quote verifies with its own AK (quote_akpub.pem) through the plain TPM path, and is refused
// against the HCL reports' HCLAkPub (the files come from different VMs); the full verifier
// therefore refuses both captures, naming each layer that fails.
#include "attestation/azure/verifier.h"

#include <gtest/gtest.h>

#include "attestation/azure/evidence.h"
#include "attestation/azure/quote_layer.h"
#include "attestation/purpose.h"
#include "attestation/tpm/evidence.h"
#include "attestation/tpm/signature.h"
#include "attestation/tpm/verifier.h"
#include "core/encoding.h"
#include "tests/support/matchers.h"
#include "tests/unit/attestation/azure/azure_test_util.h"

namespace sigil::attestation::azure {
namespace {

using namespace sigil::testing::azure;  // NOLINT: test helpers

// MANIFEST AZ-VTPM-1: no PCR values were shipped; the quote selects sha256 PCR 15, 16, 22 and
// its pcrDigest equals SHA-256(00 x 32 || 00 x 32 || ff x 32).
Bytes PcrText() {
  return ToBytes(std::string(64, '0') + "\n" + std::string(64, '0') + "\n" + std::string(64, 'f') + "\n");
}

Bytes QuoteEvidence(const Bytes& ak_pem) {
  return tpm::EvidenceFromTpm2Tools(ReadVector("quote_msg"), ReadVector("quote_sig"), PcrText(), ak_pem)
      .value();
}

Bytes HclAkDer(const char* pem_name) {
  return tpm::AkDer(*tpm::LoadAk(ReadVector(pem_name), Code::kInvalidArgument).value()).value();
}

AzureConfig Config(AzurePlatform platform) {
  AzureConfig config;
  config.platform = platform;
  config.snp.anchors.roots.push_back(ReadVector("../../sev-snp/go-sev-guest/ask_ark_milan.pem"));
  return config;
}

std::string Message(const Result<Claims>& r) { return r ? "" : r.error().message(); }

TEST(VtpmQuoteTest, QuoteVerifiesWithItsOwnAk) {
  const Bytes evidence = QuoteEvidence(ReadVector("quote_akpub.pem"));
  ASSERT_OK_AND_ASSIGN(Claims c, VerifyVtpmQuote(ReadVector("quote_akpub.pem"), evidence, {}));
  EXPECT_EQ(c.GetString("tpm.ak"),
            "000bc5476ff7b4793a4a7896d8b8d01f256ebd7d8fe09700d1cefb8b84b92e974760");
  EXPECT_EQ(c.GetString("tpm.firmware"), "2020031200120003");
  EXPECT_EQ(c.GetInt("tpm.clock"), 177952818);
  EXPECT_EQ(c.GetInt("tpm.reset_count"), 3);
  EXPECT_EQ(c.GetString("tpm.pcr.sha256.22"), std::string(64, 'f'));
  // extraData is 010203: the offline comparison passes for it and fails for 01020304.
  EXPECT_OK(tpm::CheckQualifyingData(evidence, Bytes{1, 2, 3}));
  EXPECT_CODE(tpm::CheckQualifyingData(evidence, Bytes{1, 2, 3, 4}), Code::kVerificationFailed);
  // Sigil's 64-byte binding is not in this quote.
  EXPECT_CODE(VerifyVtpmQuote(ReadVector("quote_akpub.pem"), evidence, Bytes(64, 1)),
              Code::kVerificationFailed);
}

TEST(VtpmQuoteTest, QuoteIsRefusedAgainstHclAkPub) {
  for (const char* pem : {"derived_snp_hclakpub.pem", "derived_tdx_hclakpub.pem"}) {
    // The quote names its own AK: refused as not the HCL's AK.
    auto named = VerifyVtpmQuote(HclAkDer(pem), QuoteEvidence(ReadVector("quote_akpub.pem")), {});
    ASSERT_FALSE(named.has_value()) << pem;
    EXPECT_EQ(named.error().code(), Code::kVerificationFailed);
    EXPECT_NE(Message(named).find("02e54c432678997b9adf4e369097e990ccf576fb785fd4cc5fc2d185b1d4dc86"),
              std::string::npos)
        << Message(named);  // the quote AK's fingerprint (MANIFEST SPKI SHA-256)
    // No AK in the evidence: the signature does not verify with HCLAkPub.
    auto unnamed = VerifyVtpmQuote(HclAkDer(pem), QuoteEvidence({}), {});
    ASSERT_FALSE(unnamed.has_value()) << pem;
    EXPECT_EQ(unnamed.error().code(), Code::kVerificationFailed);
    EXPECT_NE(Message(unnamed).find("HCLAkPub"), std::string::npos) << Message(unnamed);
  }
}

TEST(VtpmQuoteTest, TamperedQuoteIsRefused) {
  const Bytes ak = ReadVector("quote_akpub.pem");
  Bytes sig = ReadVector("quote_sig");
  std::reverse(sig.begin(), sig.end());
  auto reversed = tpm::EvidenceFromTpm2Tools(ReadVector("quote_msg"), sig, PcrText(), ak).value();
  EXPECT_CODE(VerifyVtpmQuote(ak, reversed, {}), Code::kVerificationFailed);
  Bytes pcrs = PcrText();
  pcrs[0] = '1';
  auto changed = tpm::EvidenceFromTpm2Tools(ReadVector("quote_msg"), ReadVector("quote_sig"), pcrs, ak).value();
  EXPECT_CODE(VerifyVtpmQuote(ak, changed, {}), Code::kVerificationFailed);
}

// The purpose layer on the real Azure vTPM quote (AZ-VTPM-1 selects sha256 15, 16, 22; 15 is
// zero): the quote verifies first, then a purpose log in it is parsed by the TPM parser (its
// limits) and replayed against the quoted PCR. No log the capture's PCRs support exists (15 is
// zero, and a replay to zero would need a SHA-256 preimage), so only refusals can be shown here;
// the positive path is the swtpm test (tests/unit/enclave/azure, AzureAttesterTest.Purpose*).
TEST(VtpmQuoteTest, PurposeLogIsReplayedAgainstTheVerifiedQuote) {
  const Bytes ak = ReadVector("quote_akpub.pem");
  ASSERT_OK_AND_ASSIGN(tpm::Evidence quote, tpm::ParseEvidence(QuoteEvidence(ak)));
  const std::string event = PurposeEvent(WorkloadPurpose{"sealed-memory", std::string(96, 'a'), std::string(64, 'b')});
  auto with_log = [&](const tpm::PurposeLog& log) {
    tpm::Evidence e = quote;
    e.purpose_log = log;
    return VerifyVtpmQuote(ak, tpm::SerializeEvidence(e), {});
  };
  // Quoted and allowed, but the event does not replay to the quoted zero value.
  auto mismatch = with_log(tpm::PurposeLog{15, Bytes(32, 0), {event}});
  EXPECT_CODE(mismatch, Code::kVerificationFailed);
  EXPECT_NE(Message(mismatch).find("does not reproduce the quoted PCR sha256:15"), std::string::npos)
      << Message(mismatch);
  // Quoted, but resettable from locality 0.
  auto resettable = with_log(tpm::PurposeLog{16, Bytes(32, 0), {event}});
  EXPECT_CODE(resettable, Code::kVerificationFailed);
  EXPECT_NE(Message(resettable).find("PCR 16 cannot hold the workload purpose"), std::string::npos)
      << Message(resettable);
  // Allowed, but not quoted.
  auto unquoted = with_log(tpm::PurposeLog{13, Bytes(32, 0), {event}});
  EXPECT_CODE(unquoted, Code::kVerificationFailed);
  EXPECT_NE(Message(unquoted).find("sha256:13 is not in the quote's selection"), std::string::npos)
      << Message(unquoted);
  EXPECT_CODE(with_log(tpm::PurposeLog{15, Bytes(32, 0), {}}), Code::kMalformedEvidence);
  EXPECT_CODE(with_log(tpm::PurposeLog{15, Bytes(32, 0), {"sigil-purpose/v1 mode=sealed-memory"}}),
              Code::kMalformedEvidence);
  // The TPM parser's limits hold inside Azure evidence too.
  EXPECT_CODE(with_log(tpm::PurposeLog{15, Bytes(32, 0), std::vector<std::string>(tpm::kMaxPurposeEvents + 1, event)}),
              Code::kMalformedEvidence);
  ASSERT_OK_AND_ASSIGN(Claims plain, VerifyVtpmQuote(ak, tpm::SerializeEvidence(quote), {}));
  EXPECT_FALSE(plain.GetString("workload.mode").has_value());
}

TEST(AzureEvidenceTest, RoundTripAndRefusals) {
  const Bytes quote = QuoteEvidence(ReadVector("quote_akpub.pem"));
  ASSERT_OK_AND_ASSIGN(Bytes ev, MakeAzureEvidence(SnpHcl(), quote));
  ASSERT_OK_AND_ASSIGN(AzureEvidence parsed, ParseAzureEvidence(ev));
  EXPECT_EQ(parsed.hcl_report, SnpHcl());
  ASSERT_TRUE(parsed.quote.has_value());
  EXPECT_EQ(*parsed.quote, quote);  // both canonical JSON
  ASSERT_OK_AND_ASSIGN(Bytes alone, MakeAzureEvidence(SnpHcl(), {}));
  EXPECT_FALSE(ParseAzureEvidence(alone)->quote.has_value());
  EXPECT_CODE(MakeAzureEvidence({}, quote), Code::kInvalidArgument);
  EXPECT_CODE(MakeAzureEvidence(SnpHcl(), ToBytes("[1]")), Code::kInvalidArgument);

  const std::string b64 = Base64UrlEncode(Bytes{1, 2, 3});
  for (const std::string& bad : std::vector<std::string>{
           "{}",
           "{\"format\":\"sigil-azure-vtpm/v2\",\"hcl_report\":\"" + b64 + "\"}",
           std::string("{\"format\":\"sigil-azure-vtpm/v1\",\"hcl_report\":\"AQID=\"}"),
           "{\"format\":\"sigil-azure-vtpm/v1\",\"hcl_report\":\"\"}",
           "{\"format\":\"sigil-azure-vtpm/v1\",\"hcl_report\":\"" + b64 + "\",\"quote\":\"x\"}",
           "{\"format\":\"sigil-azure-vtpm/v1\",\"hcl_report\":\"" + b64 + "\",\"extra\":1}",
           "{\"format\":\"sigil-azure-vtpm/v1\",\"hcl_report\":\"" + b64 + "\",\"hcl_report\":\"" + b64 + "\"}",
       }) {
    SCOPED_TRACE(bad);
    EXPECT_CODE(ParseAzureEvidence(ToBytes(bad)), Code::kMalformedEvidence);
  }
}

TEST(AzureVtpmVerifierTest, NamesAndConfiguration) {
  auto snp = AzureVtpmVerifier::Create(Config(AzurePlatform::kSnp)).value();
  auto tdx = AzureVtpmVerifier::Create(Config(AzurePlatform::kTdx)).value();
  EXPECT_EQ(snp->tee(), "azure-snp-vtpm");
  EXPECT_EQ(tdx->tee(), "azure-tdx-vtpm");
  EXPECT_CODE(AzureVtpmVerifier::Create(AzureConfig{}), Code::kInvalidArgument);
}

TEST(AzureVtpmVerifierTest, SnpCaptureIsRefusedAtBothLayers) {
  auto v = AzureVtpmVerifier::Create(Config(AzurePlatform::kSnp)).value();
  const Bytes ev = MakeAzureEvidence(SnpHcl(), QuoteEvidence(ReadVector("quote_akpub.pem"))).value();
  auto r = v->Verify(VerifyInput{ev, ReadVector("certs.pem"), {}, SnpChainTime(), {}});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kVerificationFailed);
  EXPECT_NE(Message(r).find("is not registered"), std::string::npos) << Message(r);   // quote AK
  EXPECT_NE(Message(r).find("VCEK is for another chip"), std::string::npos) << Message(r);
}

TEST(AzureVtpmVerifierTest, TdxCaptureIsRefusedBecauseATdReportCannotBeAuthenticated) {
  auto v = AzureVtpmVerifier::Create(Config(AzurePlatform::kTdx)).value();
  const Bytes ev = MakeAzureEvidence(TdxHcl(), QuoteEvidence({})).value();
  auto r = v->Verify(VerifyInput{ev, {}, {}, SnpChainTime(), {}});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kVerificationFailed);
  EXPECT_NE(Message(r).find("verifies the quote"), std::string::npos) << Message(r);
  EXPECT_NE(Message(r).find("cannot be authenticated offline"), std::string::npos) << Message(r);
}

TEST(AzureVtpmVerifierTest, TdxWithAnUnrelatedTdQuoteIsRefused) {
  const Bytes td_quote = ReadVector("../../tdx/dcap-qvl/tdx_quote.bin");
  const Bytes ev = MakeAzureEvidence(TdxHcl(), QuoteEvidence({}), td_quote).value();
  ASSERT_OK_AND_ASSIGN(AzureEvidence parsed, ParseAzureEvidence(ev));
  EXPECT_EQ(parsed.td_quote, td_quote);
  AzureConfig config = Config(AzurePlatform::kTdx);
  dcap::DcapConfig dcap;
  dcap.trusted_root_certs.push_back(ReadVector("../../tdx/dcap-qvl/TrustedRootCA.der"));
  dcap.signature_and_chain_only = true;
  config.tdx = dcap;
  auto v = AzureVtpmVerifier::Create(config).value();
  auto r = v->Verify(VerifyInput{ev, {}, {}, At(1767225600), {}});
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(Message(r).find("verifies the quote"), std::string::npos) << Message(r);
  EXPECT_NE(Message(r).find("azure-tdx-vtpm TD quote"), std::string::npos) << Message(r);
  const std::string b64 = Base64UrlEncode(Bytes{1});
  EXPECT_CODE(ParseAzureEvidence(ToBytes("{\"format\":\"sigil-azure-vtpm/v1\",\"hcl_report\":\"" +
                                         b64 + "\",\"td_quote\":\"\"}")),
              Code::kMalformedEvidence);
}

TEST(AzureVtpmVerifierTest, InputRefusals) {
  auto v = AzureVtpmVerifier::Create(Config(AzurePlatform::kSnp)).value();
  const Bytes ev = MakeAzureEvidence(SnpHcl(), QuoteEvidence({})).value();
  EXPECT_CODE(v->Verify(VerifyInput{ev, {}, Bytes(32, 0), SnpChainTime(), {}}), Code::kInvalidArgument);
  const Bytes alone = MakeAzureEvidence(SnpHcl(), {}).value();
  auto no_quote = v->Verify(VerifyInput{alone, {}, {}, SnpChainTime(), {}});
  EXPECT_CODE(no_quote, Code::kMalformedEvidence);
  EXPECT_CODE(v->Verify(VerifyInput{SnpHcl(), {}, {}, SnpChainTime(), {}}), Code::kMalformedEvidence);
  Bytes hcl = SnpHcl();
  hcl[0x4D4 + 10] ^= 1;  // runtime data
  const Bytes tampered = MakeAzureEvidence(hcl, QuoteEvidence({})).value();
  auto r = v->Verify(VerifyInput{tampered, {}, {}, SnpChainTime(), {}});
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(Message(r).find("runtime-data binding"), std::string::npos) << Message(r);
}

}  // namespace
}  // namespace sigil::attestation::azure
