// AzureVtpmAttester against a real TPM (swtpm) set up as Azure's paravisor leaves a CVM's vTPM:
// the REAL HCL report of /work/shared/vectors/azure-cvm (AZ-SNP-1) written to NV index
// 0x01400001, an RSA AK persisted at 0x81000003. The evidence parses with the broker's own
// parser, carries the NV bytes unchanged and a quote that verifies with swtpm's AK over our
// binding; and the broker's full verifier refuses it because the report's runtime data names
// Azure's AK (HCLAkPub), not swtpm's. The positive path needs a real Azure confidential VM, whose
// paravisor writes a report naming the vTPM's own AK.
// libtpms caps an NV index at 2048 bytes (MAX_NV_INDEX_SIZE), and the TDX capture (AZ-TDX-1) is
// 2600 bytes as read (2438 without its padding), so azure-tdx-vtpm runs on a TDX HCL report
// built from it: the real TDREPORT with shorter runtime data naming swtpm's AK, REPORTDATA set to
// its hash (1730 bytes; nothing checks a TDREPORT's MAC offline), and a fake IMDS (fake_imds.h)
// answering with the real dcap-qvl TD quote. The broker's verifier then passes the binding and
// the quote layer and refuses only the TD quote, whose REPORTDATA is not this TDREPORT's.
// The same report carries the purpose tests: the purpose PCR extended on swtpm, its log in the
// quote, replayed by the broker's Azure quote layer (HCLAkPub from that report) into workload.*,
// and every log the quote does not vouch for refused.
#include "enclave/azure/azure_attester.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

#include "attestation/azure/evidence.h"
#include "attestation/azure/hcl_verify.h"
#include "attestation/azure/quote_layer.h"
#include "attestation/azure/verifier.h"
#include "attestation/purpose.h"
#include "attestation/tpm/attest.h"
#include "attestation/tpm/evidence.h"
#include "attestation/tpm/purpose_log.h"
#include "attestation/tpm/verifier.h"
#include "core/bytes.h"
#include "core/digest.h"
#include "core/encoding.h"
#include "enclave/tpm/ak.h"
#include "enclave/tpm/esys.h"
#include "enclave/tpm/purpose_pcr.h"
#include "tests/support/matchers.h"
#include "tests/support/swtpm.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/attestation/azure/azure_test_util.h"
#include "tests/unit/enclave/azure/azure_vtpm_provision.h"
#include "tests/unit/enclave/azure/fake_imds.h"
#include "tests/unit/enclave/tpm/tpm_test_util.h"

namespace sigil::enclave::azure {
namespace {

using sigil::testing::FakeImds;
using sigil::testing::RealTdQuote;
using sigil::testing::TdxHclNaming;
using sigil::testing::WriteNvIndex;
using sigil::testing::ImdsRequest;
using sigil::testing::Swtpm;
using sigil::testing::TempDir;
namespace az = attestation::azure;
namespace att = attestation::tpm;
namespace vectors = sigil::testing::azure;

Bytes TestBinding(std::uint8_t seed) {
  Bytes b(64);
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(seed + 3 * i);
  return b;
}

// Where the TDX test report lives (a second NV index: the SNP report stays at 0x01400001).
constexpr TPM2_HANDLE kTdxReportIndex = 0x01400003;

// The purpose a test load states ("sealed-memory" unless `mode` says otherwise).
attestation::WorkloadPurpose TestPurpose(std::string mode = "sealed-memory") {
  return attestation::WorkloadPurpose{std::move(mode), std::string(96, 'a'), std::string(64, 'b')};
}

class AzureAttesterTest : public ::testing::Test {
 protected:
  // One swtpm for the suite, provisioned like an Azure SNP CVM's vTPM.
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    auto sw = Swtpm::Start(dir_->path());
    ASSERT_TRUE(sw.has_value()) << sw.error().message();
    swtpm_ = new Swtpm(std::move(*sw));
    ASSERT_OK_AND_ASSIGN(tpm::EsysContext ctx, tpm::OpenTpm(swtpm_->Tcti()));
    ASSERT_OK(WriteNvIndex(ctx, kHclReportNvIndex, vectors::SnpHcl()));
    // Azure's AK is an RSA-2048 RSASSA/SHA-256 restricted signing key.
    ASSERT_OK_AND_ASSIGN(tpm::LoadedAk ak,
                         tpm::PersistAk(ctx, tpm::AkKind::kRsaSsaSha256, kAzureAkHandle));
    ASSERT_OK_AND_ASSIGN(std::string pem, tpm::PublicAreaToSpkiPem(ak.pub));
    ak_pem_ = new Bytes(ToBytes(pem));
    const auto& rsa = ak.pub.publicArea.unique.rsa;
    tdx_hcl_ = new Bytes(TdxHclNaming(Bytes(rsa.buffer, rsa.buffer + rsa.size)));
    ASSERT_LE(tdx_hcl_->size(), 2048u);
    ASSERT_OK(WriteNvIndex(ctx, kTdxReportIndex, *tdx_hcl_));
  }
  static void TearDownTestSuite() {
    delete tdx_hcl_;
    delete ak_pem_;
    delete swtpm_;
    delete dir_;
  }

  static AzureAttesterConfig Config(std::string tee) {
    AzureAttesterConfig c;
    c.tee = std::move(tee);
    c.tcti = swtpm_->Tcti();
    return c;
  }
  // azure-tdx-vtpm on the TDX report built from AZ-TDX-1, asking `imds` for the TD quote.
  static AzureAttesterConfig TdxConfig(const std::string& imds_url) {
    AzureAttesterConfig c = Config("azure-tdx-vtpm");
    c.hcl_report_index = kTdxReportIndex;
    c.imds.url = imds_url;
    return c;
  }

  // The same with a purpose, as sigil-load always configures one; its event log lives in `logs`.
  static AzureAttesterConfig TdxPurposeConfig(const std::string& imds_url, const TempDir& logs) {
    AzureAttesterConfig c = TdxConfig(imds_url);
    tpm::TpmPurposeConfig purpose;
    purpose.event = TestPurpose();
    purpose.log_path = logs.File("purpose.json");
    c.purpose = purpose;
    return c;
  }

  // The evidence's quote checked as tee "tpm" would check it, with swtpm's AK registered.
  static Result<attestation::Claims> VerifyQuoteWithSwtpmAk(const az::AzureEvidence& parsed, const Bytes& binding) {
    att::TpmConfig tc;
    tc.registered_aks = {*ak_pem_};
    SIGIL_ASSIGN_OR_RETURN(auto tpm_verifier, att::TpmVerifier::Create(tc));
    attestation::VerifyInput in;
    in.evidence = *parsed.quote;
    in.expected_binding = binding;
    return tpm_verifier->Verify(in);
  }

  static TempDir* dir_;
  static Swtpm* swtpm_;
  static Bytes* ak_pem_;
  static Bytes* tdx_hcl_;
};
TempDir* AzureAttesterTest::dir_ = nullptr;
Swtpm* AzureAttesterTest::swtpm_ = nullptr;
Bytes* AzureAttesterTest::ak_pem_ = nullptr;
Bytes* AzureAttesterTest::tdx_hcl_ = nullptr;

TEST_F(AzureAttesterTest, EvidenceCarriesTheNvReportAndAQuoteOverTheBinding) {
  // SEV-SNP needs no TD quote: IMDS is never asked.
  FakeImds imds([](const ImdsRequest&) { return sigil::testing::HttpAnswer(500, "{}"); });
  AzureAttesterConfig snp = Config("azure-snp-vtpm");
  snp.imds.url = imds.url();
  ASSERT_OK_AND_ASSIGN(AttesterPtr attester, AzureVtpmAttester::Create(snp));
  EXPECT_EQ(attester->tee(), "azure-snp-vtpm");
  const Bytes binding = TestBinding(5);
  ASSERT_OK_AND_ASSIGN(Bytes evidence, attester->Evidence(binding));

  // The broker's own parser takes it; the HCL report is the NV index's bytes, padding included.
  ASSERT_OK_AND_ASSIGN(az::AzureEvidence parsed, az::ParseAzureEvidence(evidence));
  EXPECT_EQ(parsed.hcl_report, vectors::SnpHcl());
  EXPECT_TRUE(parsed.td_quote.empty());
  ASSERT_TRUE(parsed.quote.has_value());

  // The quote is swtpm's AK's, over binding[0..32), and verifies as tee "tpm" would.
  ASSERT_OK_AND_ASSIGN(att::Evidence quote, att::ParseEvidence(*parsed.quote));
  ASSERT_OK_AND_ASSIGN(att::Quote body, att::ParseQuote(quote.attest));
  EXPECT_EQ(body.extra_data, Bytes(binding.begin(), binding.begin() + 32));
  ASSERT_OK_AND_ASSIGN(attestation::Claims claims, VerifyQuoteWithSwtpmAk(parsed, binding));
  EXPECT_TRUE(claims.GetString("tpm.pcr.sha256.7").has_value());
  EXPECT_CODE(VerifyQuoteWithSwtpmAk(parsed, TestBinding(6)), Code::kVerificationFailed);

  ASSERT_OK_AND_ASSIGN(tpm::EsysContext ctx, tpm::OpenTpm(swtpm_->Tcti()));
  ASSERT_OK_AND_ASSIGN(auto transients, tpm::TransientHandlesInTpm(ctx));
  EXPECT_TRUE(transients.empty()) << transients.size() << " transient objects left in the TPM";
  EXPECT_TRUE(imds.requests().empty());
}

// azure-tdx-vtpm: the attester sends the NV report's TDREPORT to IMDS and puts the answer in the
// evidence as "td_quote"; the broker's verifier takes the binding and the quote layer (the
// report names swtpm's AK here) and reaches the TD quote, which it refuses only because the
// vectors' quote was made for another TD. Without "td_quote" it refuses the unverifiable
// TDREPORT instead, as before this attester collected one.
TEST_F(AzureAttesterTest, TdxEvidenceCarriesTheTdQuoteIMDSMadeFromTheNvReport) {
  const Bytes quote = RealTdQuote();
  ASSERT_FALSE(quote.empty());
  FakeImds imds([&](const ImdsRequest& req) {
    if (req.metadata != "true") return sigil::testing::HttpAnswer(400, R"({"error":"metadata"})");
    return sigil::testing::HttpAnswer(200, R"({"quote":")" + Base64UrlEncode(quote) + R"("})");
  });
  ASSERT_OK_AND_ASSIGN(AttesterPtr attester, AzureVtpmAttester::Create(TdxConfig(imds.url())));
  const Bytes binding = TestBinding(21);
  ASSERT_OK_AND_ASSIGN(Bytes evidence, attester->Evidence(binding));
  ASSERT_OK_AND_ASSIGN(az::AzureEvidence parsed, az::ParseAzureEvidence(evidence));
  EXPECT_EQ(parsed.hcl_report, *tdx_hcl_);
  EXPECT_EQ(parsed.td_quote, quote);
  ASSERT_TRUE(parsed.quote.has_value());
  const auto reqs = imds.requests();
  ASSERT_EQ(reqs.size(), 1u);
  const Bytes td_report(tdx_hcl_->begin() + 0x20, tdx_hcl_->begin() + 0x20 + 1024);
  EXPECT_EQ(reqs[0].body, R"({"report":")" + Base64UrlEncode(td_report) + R"("})");

  az::AzureConfig config = vectors::TdxSignatureOnlyConfig();
  ASSERT_OK_AND_ASSIGN(auto verifier, az::AzureVtpmVerifier::Create(std::move(config)));
  const auto now = vectors::At(1767225600);
  auto r = verifier->Verify(attestation::VerifyInput{evidence, {}, binding, now, {}});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kVerificationFailed);
  // Only the hardware layer fails, and it fails on the TD quote: the quote layer passed.
  EXPECT_EQ(r.error().message().rfind("azure-tdx-vtpm: azure-tdx-vtpm TD quote", 0), 0u)
      << r.error().message();
  EXPECT_EQ(r.error().message().find("HCLAkPub"), std::string::npos) << r.error().message();
  // ... on its REPORTDATA (the dcap-qvl quote's own): its signature and chain verified.
  EXPECT_NE(r.error().message().find("quote report data is bound to a different"),
            std::string::npos)
      << r.error().message();

  ASSERT_OK_AND_ASSIGN(Bytes without,
                       az::MakeAzureEvidence(parsed.hcl_report, *parsed.quote));
  auto old = verifier->Verify(attestation::VerifyInput{without, {}, binding, now, {}});
  ASSERT_FALSE(old.has_value());
  EXPECT_NE(old.error().message().find("needs a TD quote made from it"), std::string::npos)
      << old.error().message();
}

TEST_F(AzureAttesterTest, TdxWithoutIMDSFailsAndSaysWhy) {
  // Nothing listening: no evidence without the TD quote, and the error names IMDS.
  ASSERT_OK_AND_ASSIGN(AttesterPtr down,
                       AzureVtpmAttester::Create(TdxConfig(sigil::testing::ClosedLocalUrl())));
  auto r = down->Evidence(TestBinding(2));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kUnavailable);
  EXPECT_NE(r.error().message().find("TD quote: IMDS at http://127.0.0.1:"), std::string::npos)
      << r.error().message();
  // IMDS refusing.
  FakeImds refusing([](const ImdsRequest&) {
    return sigil::testing::HttpAnswer(400, R"({"error":"invalid report"})");
  });
  ASSERT_OK_AND_ASSIGN(AttesterPtr a, AzureVtpmAttester::Create(TdxConfig(refusing.url())));
  auto refused = a->Evidence(TestBinding(3));
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message().find(R"(answered 400 to /acc/tdquote: {"error":"invalid report"})"),
            std::string::npos)
      << refused.error().message();
  // A bad URL or timeout is refused when the attester is made.
  EXPECT_CODE(AzureVtpmAttester::Create(TdxConfig("https://169.254.169.254")),
              Code::kInvalidArgument);
  AzureAttesterConfig zero = TdxConfig(kDefaultImdsUrl);
  zero.imds.timeout = std::chrono::milliseconds(0);
  EXPECT_CODE(AzureVtpmAttester::Create(zero), Code::kInvalidArgument);
  // ... only for TDX: SEV-SNP does not use it.
  AzureAttesterConfig snp = Config("azure-snp-vtpm");
  snp.imds.url = "https://169.254.169.254";
  EXPECT_OK(AzureVtpmAttester::Create(snp));
}

// The broker's full verifier, with the report's AMD chain at the capture's time, refuses: the
// real report's runtime data carries Azure's HCLAkPub, and this quote was made by swtpm's AK.
// (The hardware layer fails too: no public VCEK for this chip; MANIFEST AZ-SNP-1.)
TEST_F(AzureAttesterTest, BrokerVerifierRefusesTheAkMismatchByName) {
  ASSERT_OK_AND_ASSIGN(AttesterPtr attester, AzureVtpmAttester::Create(Config("azure-snp-vtpm")));
  const Bytes binding = TestBinding(9);
  ASSERT_OK_AND_ASSIGN(Bytes evidence, attester->Evidence(binding));
  az::AzureConfig config;
  config.platform = az::AzurePlatform::kSnp;
  config.snp.anchors.roots.push_back(
      vectors::ReadVector("../../sev-snp/go-sev-guest/ask_ark_milan.pem"));
  ASSERT_OK_AND_ASSIGN(auto verifier, az::AzureVtpmVerifier::Create(std::move(config)));
  const Bytes certs = vectors::ReadVector("certs.pem");
  auto r = verifier->Verify(
      attestation::VerifyInput{evidence, certs, binding, vectors::SnpChainTime(), {}});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kVerificationFailed);
  EXPECT_NE(r.error().message().find("must be made by the HCL report's HCLAkPub"),
            std::string::npos)
      << r.error().message();
}

// An IMDS that answers every TDREPORT with the real dcap-qvl TD quote.
FakeImds TdQuoteImds() {
  return FakeImds([](const ImdsRequest&) {
    return sigil::testing::HttpAnswer(200, R"({"quote":")" + Base64UrlEncode(RealTdQuote()) + R"("})");
  });
}

// The Azure quote layer exactly as AzureVtpmVerifier runs it once the HCL report is bound:
// HCLAkPub from the evidence's own HCL report (the TDX report here names swtpm's AK), then
// VerifyVtpmQuote over the binding, which replays a purpose log against the verified quote.
Result<attestation::Claims> AzureQuoteLayer(const Bytes& evidence, const Bytes& binding) {
  SIGIL_ASSIGN_OR_RETURN(az::AzureEvidence parsed, az::ParseAzureEvidence(evidence));
  SIGIL_ASSIGN_OR_RETURN(az::BoundHcl bound, az::ParseAndBindHclReport(parsed.hcl_report));
  if (!parsed.quote) return Fail(Code::kMalformedEvidence, "no quote");
  return az::VerifyVtpmQuote(bound.ak_spki_der, *parsed.quote, binding);
}

// `evidence` with its quote's purpose log replaced by `log` (none if nullopt); the signed quote
// and the PCR values are left as they are.
Result<Bytes> WithPurposeLog(const Bytes& evidence, std::optional<att::PurposeLog> log) {
  SIGIL_ASSIGN_OR_RETURN(az::AzureEvidence parsed, az::ParseAzureEvidence(evidence));
  if (!parsed.quote) return Fail(Code::kMalformedEvidence, "no quote");
  SIGIL_ASSIGN_OR_RETURN(att::Evidence quote, att::ParseEvidence(*parsed.quote));
  quote.purpose_log = std::move(log);
  return az::MakeAzureEvidence(parsed.hcl_report, att::SerializeEvidence(quote), parsed.td_quote);
}

Result<att::PurposeLog> PurposeLogOf(const Bytes& evidence) {
  SIGIL_ASSIGN_OR_RETURN(az::AzureEvidence parsed, az::ParseAzureEvidence(evidence));
  if (!parsed.quote) return Fail(Code::kMalformedEvidence, "no quote");
  SIGIL_ASSIGN_OR_RETURN(att::Evidence quote, att::ParseEvidence(*parsed.quote));
  if (!quote.purpose_log) return Fail(Code::kNotFound, "no purpose log in the quote");
  return std::move(*quote.purpose_log);
}

// The broker's full azure-tdx-vtpm verifier with the Intel root of the dcap-qvl TD quote.
std::unique_ptr<attestation::Verifier> TdxVerifier() {
  az::AzureConfig config = vectors::TdxSignatureOnlyConfig();
  return az::AzureVtpmVerifier::Create(std::move(config)).value();
}

// With a purpose (as sigil-load always configures), the purpose PCR is extended and its log goes
// into the quote, which the broker's Azure verifier reads through the same TPM verifier.
TEST_F(AzureAttesterTest, PurposeGoesIntoTheQuoteAsForTeeTpm) {
  TempDir logs;
  AzureAttesterConfig c = Config("azure-snp-vtpm");
  tpm::TpmPurposeConfig purpose;
  purpose.event =
      attestation::WorkloadPurpose{"sealed-memory", std::string(96, 'a'), std::string(64, 'b')};
  purpose.log_path = logs.File("purpose.json");
  c.purpose = purpose;
  ASSERT_OK_AND_ASSIGN(AttesterPtr attester, AzureVtpmAttester::Create(c));
  const Bytes binding = TestBinding(11);
  ASSERT_OK_AND_ASSIGN(Bytes evidence, attester->Evidence(binding));
  ASSERT_OK_AND_ASSIGN(az::AzureEvidence parsed, az::ParseAzureEvidence(evidence));
  ASSERT_TRUE(parsed.quote.has_value());
  ASSERT_OK_AND_ASSIGN(attestation::Claims claims, VerifyQuoteWithSwtpmAk(parsed, binding));
  EXPECT_EQ(claims.GetString("workload.mode"), "sealed-memory");
}

// The whole purpose path on the vTPM: the attester extends the event into PCR 13, adds that PCR
// to the quote's selection and sends the log in the quote object; the Azure quote layer (HCLAkPub
// from the HCL report, the quote over the binding) replays the log against the quoted PCR and
// yields the same claims as tee "tpm"; each later load appends its event and the last one counts.
// The full verifier passes the quote layer, purpose included, and refuses only the TD quote (the
// vectors' quote is another TD's; no public capture passes the hardware layer, MANIFEST).
TEST_F(AzureAttesterTest, PurposeIsExtendedLoggedQuotedAndReplayedByTheAzureQuoteLayer) {
  FakeImds imds = TdQuoteImds();
  TempDir logs;
  AzureAttesterConfig c = TdxPurposeConfig(imds.url(), logs);
  const tpm::TpmPurposeConfig purpose = *c.purpose;
  ASSERT_OK_AND_ASSIGN(AttesterPtr attester, AzureVtpmAttester::Create(c));
  const Bytes binding = TestBinding(31);
  ASSERT_OK_AND_ASSIGN(Bytes evidence, attester->Evidence(binding));

  // Logged: the quote object carries the log, whose last event is this load's, and the attester's
  // log file holds the same log.
  ASSERT_OK_AND_ASSIGN(att::PurposeLog log, PurposeLogOf(evidence));
  EXPECT_EQ(log.pcr, att::kDefaultPurposePcr);
  ASSERT_FALSE(log.events.empty());
  EXPECT_EQ(log.events.back(), attestation::PurposeEvent(purpose.event));
  {
    // Scoped: the lock is exclusive per open file, so it must be gone before the next load.
    ASSERT_OK_AND_ASSIGN(tpm::PurposeLogFile file, tpm::PurposeLogFile::OpenLocked(purpose.log_path));
    EXPECT_EQ(file.Read(), log);
  }
  // Included: sha256:13 is in the signed selection next to the configured 0-7, and the log
  // replays to its quoted value.
  ASSERT_OK_AND_ASSIGN(az::AzureEvidence parsed, az::ParseAzureEvidence(evidence));
  ASSERT_TRUE(parsed.quote.has_value());
  ASSERT_OK_AND_ASSIGN(att::Evidence quote, att::ParseEvidence(*parsed.quote));
  ASSERT_OK_AND_ASSIGN(att::Quote body, att::ParseQuote(quote.attest));
  std::vector<std::uint32_t> sha256_pcrs;
  for (const att::PcrBankSelection& sel : body.pcr_select) {
    if (sel.hash_alg == att::kAlgSha256) sha256_pcrs = sel.pcrs;
  }
  EXPECT_EQ(sha256_pcrs, (std::vector<std::uint32_t>{0, 1, 2, 3, 4, 5, 6, 7, 13}));
  EXPECT_EQ(att::ReplayPurposeLog(log), quote.pcrs.at(att::kAlgSha256).at(13));

  // Replayed by the Azure quote layer: the workload.* claims of tee "tpm".
  ASSERT_OK_AND_ASSIGN(attestation::Claims claims, AzureQuoteLayer(evidence, binding));
  EXPECT_EQ(claims.GetString("workload.mode"), "sealed-memory");
  EXPECT_EQ(claims.GetString("workload.engine"), purpose.event.engine);
  EXPECT_EQ(claims.GetString("workload.sandbox"), purpose.event.sandbox);
  EXPECT_EQ(claims.GetInt("tpm.purpose.pcr"), 13);
  EXPECT_EQ(claims.GetInt("tpm.purpose.events"), static_cast<std::int64_t>(log.events.size()));
  // ... and the wrong binding is still refused with a log that replays.
  EXPECT_CODE(AzureQuoteLayer(evidence, TestBinding(32)), Code::kVerificationFailed);

  // Without a purpose: no log, no workload.* claim, and the same platform measurement (the
  // purpose PCR, which changes with every load, is left out of it).
  ASSERT_OK_AND_ASSIGN(AttesterPtr plain, AzureVtpmAttester::Create(TdxConfig(imds.url())));
  ASSERT_OK_AND_ASSIGN(Bytes plain_evidence, plain->Evidence(binding));
  EXPECT_CODE(PurposeLogOf(plain_evidence), Code::kNotFound);
  ASSERT_OK_AND_ASSIGN(attestation::Claims plain_claims, AzureQuoteLayer(plain_evidence, binding));
  EXPECT_FALSE(plain_claims.GetString("workload.mode").has_value());
  EXPECT_FALSE(plain_claims.GetInt("tpm.purpose.pcr").has_value());
  EXPECT_EQ(plain_claims.GetString("measurement"), claims.GetString("measurement"));

  // A later load (here a stream) appends its event to the same log; its own event counts.
  tpm::TpmPurposeConfig stream = purpose;
  stream.event = TestPurpose("stream");
  c.purpose = stream;
  ASSERT_OK_AND_ASSIGN(AttesterPtr streaming, AzureVtpmAttester::Create(c));
  ASSERT_OK_AND_ASSIGN(Bytes second, streaming->Evidence(binding));
  ASSERT_OK_AND_ASSIGN(att::PurposeLog second_log, PurposeLogOf(second));
  EXPECT_EQ(second_log.start, log.start);
  EXPECT_EQ(second_log.events.size(), log.events.size() + 1);
  ASSERT_OK_AND_ASSIGN(attestation::Claims second_claims, AzureQuoteLayer(second, binding));
  EXPECT_EQ(second_claims.GetString("workload.mode"), "stream");
  EXPECT_EQ(second_claims.GetInt("tpm.purpose.events"), static_cast<std::int64_t>(second_log.events.size()));

  // The broker's verifier: the quote layer (purpose replay included) passes; only the TD quote
  // is refused.
  auto full = TdxVerifier()->Verify(attestation::VerifyInput{evidence, {}, binding, vectors::At(1767225600), {}});
  ASSERT_FALSE(full.has_value());
  EXPECT_EQ(full.error().message().rfind("azure-tdx-vtpm: azure-tdx-vtpm TD quote", 0), 0u)
      << full.error().message();
  EXPECT_EQ(full.error().message().find("purpose log"), std::string::npos) << full.error().message();
}

// A purpose log the quote does not vouch for is refused after the quote itself verified: an
// event changed, one added or dropped, another start, a PCR outside the signed selection or
// outside 8-15, a log on a quote that does not cover any purpose PCR, and a log beyond the TPM
// parser's limits. Stripping the log is not refused, but then nothing proves a purpose.
TEST_F(AzureAttesterTest, PurposeLogsTheQuoteDoesNotCoverAreRefused) {
  FakeImds imds = TdQuoteImds();
  TempDir logs;
  ASSERT_OK_AND_ASSIGN(AttesterPtr attester, AzureVtpmAttester::Create(TdxPurposeConfig(imds.url(), logs)));
  const Bytes binding = TestBinding(41);
  ASSERT_OK(attester->Evidence(binding));  // an earlier load: the log then has two events
  ASSERT_OK_AND_ASSIGN(Bytes evidence, attester->Evidence(binding));
  ASSERT_OK_AND_ASSIGN(att::PurposeLog log, PurposeLogOf(evidence));
  ASSERT_GE(log.events.size(), 2u);
  ASSERT_OK(AzureQuoteLayer(evidence, binding));

  // Each tampered log: refused with `code` and a message saying `what`.
  auto refused = [&](const att::PurposeLog& bad, Code code, const std::string& what) {
    ASSERT_OK_AND_ASSIGN(Bytes edited, WithPurposeLog(evidence, bad));
    auto r = AzureQuoteLayer(edited, binding);
    ASSERT_FALSE(r.has_value()) << what;
    EXPECT_EQ(r.error().code(), code) << what << ": " << r.error().message();
    EXPECT_NE(r.error().message().find(what), std::string::npos) << r.error().message();
  };
  const std::string no_replay = "purpose log: replaying its";
  att::PurposeLog changed = log;  // the loader claims sealed memory; a stream says so too
  changed.events.back() = attestation::PurposeEvent(TestPurpose("stream"));
  refused(changed, Code::kVerificationFailed, no_replay);
  att::PurposeLog extra = log;  // a sealed-memory event appended after the real one
  extra.events.push_back(attestation::PurposeEvent(TestPurpose()));
  refused(extra, Code::kVerificationFailed, no_replay);
  att::PurposeLog dropped_last = log;
  dropped_last.events.pop_back();
  refused(dropped_last, Code::kVerificationFailed, no_replay);
  att::PurposeLog dropped_first = log;
  dropped_first.events.erase(dropped_first.events.begin());
  refused(dropped_first, Code::kVerificationFailed, no_replay);
  att::PurposeLog empty = log;
  empty.events.clear();
  refused(empty, Code::kMalformedEvidence, "purpose log: no event");
  att::PurposeLog start = log;
  start.start[0] ^= 1;
  refused(start, Code::kVerificationFailed, no_replay);
  att::PurposeLog other_pcr = log;  // allowed, but not in the signed selection
  other_pcr.pcr = 14;
  refused(other_pcr, Code::kVerificationFailed, "sha256:14 is not in the quote's selection");
  att::PurposeLog resettable = log;
  resettable.pcr = 16;
  refused(resettable, Code::kVerificationFailed, "PCR 16 cannot hold the workload purpose");
  att::PurposeLog too_long = log;  // PurposeLogFromJson's limit
  too_long.events.assign(att::kMaxPurposeEvents + 1, attestation::PurposeEvent(TestPurpose()));
  refused(too_long, Code::kMalformedEvidence, "$.purpose_log.events: more than 1024 events");

  // A quote made without the purpose PCR in its selection does not cover a log, even one that
  // replays to the PCR's present value.
  ASSERT_OK_AND_ASSIGN(AttesterPtr plain, AzureVtpmAttester::Create(TdxConfig(imds.url())));
  ASSERT_OK_AND_ASSIGN(Bytes uncovered_evidence, plain->Evidence(binding));
  ASSERT_OK_AND_ASSIGN(Bytes uncovered, WithPurposeLog(uncovered_evidence, log));
  auto r = AzureQuoteLayer(uncovered, binding);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kVerificationFailed);
  EXPECT_NE(r.error().message().find("is not in the quote's selection"), std::string::npos) << r.error().message();

  // Stripped: verifies, and proves no purpose (a model-weights key is not released to it).
  ASSERT_OK_AND_ASSIGN(Bytes stripped, WithPurposeLog(evidence, std::nullopt));
  ASSERT_OK_AND_ASSIGN(attestation::Claims stripped_claims, AzureQuoteLayer(stripped, binding));
  EXPECT_FALSE(stripped_claims.GetString("workload.mode").has_value());

  // The broker's verifier names the purpose log among the layers that failed, with its code.
  ASSERT_OK_AND_ASSIGN(Bytes edited, WithPurposeLog(evidence, changed));
  auto full = TdxVerifier()->Verify(attestation::VerifyInput{edited, {}, binding, vectors::At(1767225600), {}});
  ASSERT_FALSE(full.has_value());
  EXPECT_EQ(full.error().code(), Code::kVerificationFailed);
  EXPECT_NE(full.error().message().find("purpose log: replaying"), std::string::npos) << full.error().message();
}

TEST_F(AzureAttesterTest, RefusalsNameWhatIsMissing) {
  // The NV index holds an SNP report: --tee azure-tdx-vtpm is named as the wrong choice.
  ASSERT_OK_AND_ASSIGN(AttesterPtr tdx, AzureVtpmAttester::Create(Config("azure-tdx-vtpm")));
  auto wrong = tdx->Evidence(TestBinding(1));
  EXPECT_CODE(wrong, Code::kInvalidArgument);
  if (!wrong) {
    EXPECT_NE(wrong.error().message().find("--tee azure-snp-vtpm"), std::string::npos);
  }

  AzureAttesterConfig no_index = Config("azure-snp-vtpm");
  no_index.hcl_report_index = 0x01400009;  // not an Azure CVM: nothing there
  ASSERT_OK_AND_ASSIGN(AttesterPtr a, AzureVtpmAttester::Create(no_index));
  EXPECT_CODE(a->Evidence(TestBinding(1)), Code::kNotFound);

  AzureAttesterConfig no_ak = Config("azure-snp-vtpm");
  no_ak.ak_handle = 0x81000009;
  ASSERT_OK_AND_ASSIGN(AttesterPtr b, AzureVtpmAttester::Create(no_ak));
  EXPECT_CODE(b->Evidence(TestBinding(1)), Code::kNotFound);

  ASSERT_OK_AND_ASSIGN(AttesterPtr c, AzureVtpmAttester::Create(Config("azure-snp-vtpm")));
  EXPECT_CODE(c->Evidence(Bytes(32, 1)), Code::kInvalidArgument);

  EXPECT_CODE(AzureVtpmAttester::Create(Config("tpm")), Code::kInvalidArgument);
  AzureAttesterConfig bad = Config("azure-snp-vtpm");
  bad.ak_handle = 0x01400001;
  EXPECT_CODE(AzureVtpmAttester::Create(bad), Code::kInvalidArgument);
  bad = Config("azure-snp-vtpm");
  bad.hcl_report_index = 0x81000003;
  EXPECT_CODE(AzureVtpmAttester::Create(bad), Code::kInvalidArgument);
  bad = Config("azure-snp-vtpm");
  bad.pcrs = "sha1:0";  // the verifier requires the SHA-256 bank
  EXPECT_CODE(AzureVtpmAttester::Create(bad), Code::kInvalidArgument);
}

}  // namespace
}  // namespace sigil::enclave::azure
