// Trustee's evidence formats at the KBS front end (broker/kbs/trustee_evidence.h). The Trustee
// JSON is built from the REAL vectors of /work/shared/vectors (tdx, sgx, sev-snp; see their
// MANIFEST.md) as a guest's attestation-agent builds it: TDX/SGX {"quote": standard base64, ...};
// SNP the serde JSON of virtee/sev's AttestationReport (written here independently of the
// converter, field by field from the firmware layout). Each is converted, compared byte for byte
// with the original, and handed to the real verifier with the vector's collateral: with a KBS
// binding (which the vectors' report data is not) the verifier must refuse for the binding and
// nothing else, and with the vector's own report data it must accept, which shows the refusal is
// the binding's, not a parse or signature failure. Then hostile inputs, member by member.
#include "broker/kbs/trustee_evidence.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include <openssl/evp.h>
#include <tss2/tss2_mu.h>

#include <cstring>

#include "attestation/azure/evidence.h"
#include "attestation/azure/hcl_verify.h"
#include "attestation/azure/quote_layer.h"
#include "attestation/azure/verifier.h"
#include "attestation/dcap/verifier.h"
#include "attestation/snp/collateral.h"
#include "attestation/snp/verifier.h"
#include "attestation/tpm/evidence.h"
#include "attestation/tpm/signature.h"
#include "broker/kbs/kbs_api.h"
#include "core/ossl.h"
#include "core/digest.h"
#include "core/encoding.h"
#include "core/file_io.h"
#include "core/jcs.h"
#include "core/protocol.h"
#include "tests/support/matchers.h"

namespace sigil::broker {
namespace {

using ::testing::HasSubstr;
using TimePoint = std::chrono::system_clock::time_point;

Bytes Vector(const std::string& rel) {
  auto b = ReadFile(std::string(SIGIL_SHARED_DIR) + "/vectors/" + rel);
  if (!b) ADD_FAILURE() << "cannot read " << rel << ": " << b.error().message();
  return b ? std::move(b).value() : Bytes{};
}

TimePoint Unix(std::int64_t s) { return TimePoint(std::chrono::seconds(s)); }

// The binding KbsAttest computes: SHA-384 of the RFC 8785 runtime data, zero-padded to 64.
Bytes KbsBinding() {
  Json runtime{{"tee-pubkey", {{"kty", "EC"}, {"crv", "P-256"}, {"x", "X"}, {"y", "Y"}}},
               {"nonce", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="},
               {"additional-evidence", ""}};
  const auto digest = Sha384(AsBytes(Jcs(runtime).value()));
  Bytes binding(protocol::kBindingSize, 0);
  std::copy(digest.begin(), digest.end(), binding.begin());
  return binding;
}

// What a request body goes through (duplicate keys refused) and then the converter.
Result<KbsEvidence> FromText(std::string_view tee, const std::string& primary_evidence_json) {
  SIGIL_ASSIGN_OR_RETURN(Json j, ParseJson(primary_evidence_json, "test"));
  return KbsPrimaryEvidence(tee, j);
}

// Refused with kInvalidArgument and a message containing `what` (the member path).
void ExpectRefused(const Result<KbsEvidence>& r, const std::string& what) {
  ASSERT_FALSE(r.has_value()) << "expected a refusal naming " << what;
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument) << r.error().message();
  EXPECT_THAT(r.error().message(), HasSubstr(what));
}

// The real verifier refused with kVerificationFailed, for the binding (the report data names
// another nonce or TEE key) or, with `binding` false, for anything but the binding.
void ExpectVerifyRefused(const Result<attestation::Claims>& r, bool binding) {
  ASSERT_FALSE(r.has_value()) << "expected a refusal";
  EXPECT_EQ(r.error().code(), Code::kVerificationFailed) << r.error().message();
  EXPECT_EQ(r.error().message().find("bound to a different nonce or TEE key") != std::string::npos, binding)
      << r.error().message();
}

// ---- TDX and SGX ---------------------------------------------------------------------------

constexpr const char* kTdx3 = "tdx/dcap-qvl/tdx_quote.bin";
constexpr const char* kTdx3Collateral = "tdx/dcap-qvl/tdx_quote_collateral.json";
constexpr const char* kSgx1 = "sgx/dcap-qvl/sgx_quote.bin";
constexpr const char* kSgx1Collateral = "sgx/dcap-qvl/sgx_quote_collateral.json";
constexpr const char* kIntelRoot = "tdx/dcap-qvl/TrustedRootCA.der";
constexpr std::int64_t kTdx3Time = 1752919234;  // MANIFEST TDX-3
constexpr std::int64_t kSgx1Time = 1752919277;  // MANIFEST SGX-1

std::unique_ptr<attestation::Verifier> Dcap(attestation::dcap::DcapTee tee) {
  return attestation::dcap::DcapVerifier::Create(tee, {{Vector(kIntelRoot)}, std::nullopt}).value();
}

// REPORTDATA: TD quote v4 at 48 + 520, SGX quote v3 at 48 + 320 (64 bytes each).
Bytes QuoteReportData(const Bytes& quote, bool tdx) {
  const std::size_t off = 48 + (tdx ? 520 : 320);
  return Bytes(quote.begin() + static_cast<std::ptrdiff_t>(off), quote.begin() + static_cast<std::ptrdiff_t>(off + 64));
}

TEST(KbsTrusteeEvidence, TdxQuoteFromTheRealVectorReachesTheBindingCheck) {
  const Bytes quote = Vector(kTdx3);
  ASSERT_EQ(quote.size(), 5006u);
  const Bytes collateral = Vector(kTdx3Collateral);
  auto verifier = Dcap(attestation::dcap::DcapTee::kTdx);
  // guest-components v0.15.0+ (cc_eventlog null when the CCEL table is absent), and v0.14.0 with
  // a CCEL and the AA event log: the event logs are accepted and derive nothing.
  const std::vector<Json> forms = {
      Json{{"cc_eventlog", nullptr}, {"quote", Base64Encode(quote)}},
      Json{{"quote", Base64Encode(quote)}},
      Json{{"cc_eventlog", Base64Encode(ToBytes("CCEL table bytes"))},
           {"quote", Base64Encode(quote)},
           {"aa_eventlog", "INIT sha384/000000\nkbs GetResource 1\n"}}};
  for (const Json& form : forms) {
    ASSERT_OK_AND_ASSIGN(KbsEvidence e, FromText("tdx", form.dump()));
    EXPECT_EQ(e.evidence, quote);
    EXPECT_TRUE(e.collateral.empty());
    // A KBS binding: refused for the binding, after the quote, its chain and collateral verified.
    auto refused = verifier->Verify({e.evidence, collateral, KbsBinding(), Unix(kTdx3Time)});
    ExpectVerifyRefused(refused, true);  // report data is bound to a different nonce
    // The quote's own report data: accepted, so nothing but the binding was wrong.
    ASSERT_OK_AND_ASSIGN(attestation::Claims c,
                         verifier->Verify({e.evidence, collateral, QuoteReportData(quote, true), Unix(kTdx3Time)}));
    EXPECT_EQ(c.GetString("tee"), "tdx");
    EXPECT_EQ(c.GetString("tcb.status"), "UpToDate");
    // No claim from the event logs.
    for (const auto& [key, value] : c.values()) EXPECT_EQ(key.find("eventlog"), std::string::npos) << key;
  }
  // A quote damaged in transit converts, but fails for its signature: a different refusal.
  Bytes damaged = quote;
  damaged[48 + 100] ^= 1;
  ASSERT_OK_AND_ASSIGN(KbsEvidence d, FromText("tdx", Json{{"quote", Base64Encode(damaged)}}.dump()));
  auto bad = verifier->Verify({d.evidence, collateral, QuoteReportData(quote, true), Unix(kTdx3Time)});
  ExpectVerifyRefused(bad, false);
}

TEST(KbsTrusteeEvidence, SgxQuoteFromTheRealVectorReachesTheBindingCheck) {
  const Bytes quote = Vector(kSgx1);
  ASSERT_EQ(quote.size(), 4600u);
  const Bytes collateral = Vector(kSgx1Collateral);
  auto verifier = Dcap(attestation::dcap::DcapTee::kSgx);
  ASSERT_OK_AND_ASSIGN(KbsEvidence e, FromText("sgx", Json{{"quote", Base64Encode(quote)}}.dump()));
  EXPECT_EQ(e.evidence, quote);
  auto refused = verifier->Verify({e.evidence, collateral, KbsBinding(), Unix(kSgx1Time)});
  ExpectVerifyRefused(refused, true);  // report data is bound to a different nonce
  Bytes own = QuoteReportData(quote, false);
  EXPECT_EQ(ToString(Bytes(own.begin(), own.begin() + 13)), "Hello, world!");  // MANIFEST SGX-1
  ASSERT_OK_AND_ASSIGN(attestation::Claims c, verifier->Verify({e.evidence, collateral, own, Unix(kSgx1Time)}));
  EXPECT_EQ(c.GetString("tee"), "sgx");
  EXPECT_EQ(c.GetString("tcb.status"), "ConfigurationAndSWHardeningNeeded");
}

TEST(KbsTrusteeEvidence, TdxAndSgxHostileMembers) {
  const std::string q = Base64Encode(Vector(kTdx3));
  ExpectRefused(FromText("tdx", "{}"), "tee-evidence.primary_evidence.quote: missing");
  ExpectRefused(FromText("tdx", R"({"cc_eventlog":null})"), "primary_evidence.quote: missing");
  ExpectRefused(FromText("tdx", R"({"quote":42})"), "primary_evidence.quote: expected a string");
  ExpectRefused(FromText("tdx", R"({"quote":null})"), "primary_evidence.quote: expected a string");
  ExpectRefused(FromText("tdx", R"({"quote":["AA=="]})"), "primary_evidence.quote: expected a string");
  ExpectRefused(FromText("tdx", R"({"quote":""})"), "primary_evidence.quote: empty");
  ExpectRefused(FromText("tdx", R"({"quote":"!!!!"})"), "primary_evidence.quote");
  ExpectRefused(FromText("tdx", R"({"quote":"AA"})"), "primary_evidence.quote");          // no padding
  ExpectRefused(FromText("tdx", R"({"quote":"AB=="})"), "primary_evidence.quote");        // non-zero trailing bits
  ExpectRefused(FromText("tdx", R"({"quote":"-_-_"})"), "primary_evidence.quote");        // URL alphabet
  ExpectRefused(FromText("tdx", R"({"quote":"AAAA\nAAAA"})"), "primary_evidence.quote");  // whitespace
  ExpectRefused(FromText("tdx", Json{{"quote", q}, {"cc_eventlog", 7}}.dump()),
                "primary_evidence.cc_eventlog: expected null or a string");
  ExpectRefused(FromText("tdx", Json{{"quote", q}, {"cc_eventlog", "not base64"}}.dump()),
                "primary_evidence.cc_eventlog");
  ExpectRefused(FromText("tdx", Json{{"quote", q}, {"aa_eventlog", Json::object()}}.dump()),
                "primary_evidence.aa_eventlog: expected null or a string");
  ExpectRefused(FromText("tdx", Json{{"quote", q}, {"td_report", "AA=="}}.dump()),
                "primary_evidence: unknown member 'td_report'");
  // SGX has no event log member.
  ExpectRefused(FromText("sgx", Json{{"quote", q}, {"cc_eventlog", nullptr}}.dump()),
                "primary_evidence: unknown member 'cc_eventlog'");
  ExpectRefused(FromText("sgx", "{}"), "primary_evidence.quote: missing");
  // Oversize: refused before decoding, and after.
  ExpectRefused(FromText("tdx", Json{{"quote", std::string(400 * 1024, 'A')}}.dump()), "primary_evidence.quote: too large");
  ExpectRefused(FromText("tdx", Json{{"quote", q}, {"aa_eventlog", std::string(300 * 1024, 'x')}}.dump()),
                "primary_evidence.aa_eventlog: too large");
  ExpectRefused(FromText("sgx", Json{{"quote", Base64Encode(Bytes(kMaxKbsEvidenceBytes + 1, 1))}}.dump()),
                "primary_evidence: too large");
  // Duplicate members never reach the converter: the body parser refuses them.
  EXPECT_CODE(FromText("tdx", R"({"quote":"AAAA","quote":"AAAA"})"), Code::kInvalidArgument);
  EXPECT_CODE(FromText("tdx", R"({"quote":"AAAA","cc_eventlog":null,"cc_eventlog":null})"), Code::kInvalidArgument);
  // Neither an object nor a string.
  for (const char* p : {"42", "null", "true", "[]", "1.5"}) {
    ExpectRefused(FromText("tdx", p), "primary_evidence: expected a JSON object or a base64 string");
  }
}

TEST(KbsTrusteeEvidence, SigilsOwnFormsStillWork) {
  const Bytes quote = Vector(kTdx3);
  // A base64 string (standard or URL alphabet) of the raw quote, for any KBS tee.
  ASSERT_OK_AND_ASSIGN(KbsEvidence s, KbsPrimaryEvidence("tdx", Json(Base64Encode(quote))));
  EXPECT_EQ(s.evidence, quote);
  ASSERT_OK_AND_ASSIGN(KbsEvidence u, KbsPrimaryEvidence("snp", Json(Base64UrlEncode(quote))));
  EXPECT_EQ(u.evidence, quote);
  ExpectRefused(KbsPrimaryEvidence("tdx", Json("%%%%")), "tee-evidence.primary_evidence");
  ExpectRefused(KbsPrimaryEvidence("tdx", Json(std::string(400 * 1024, 'A'))), "primary_evidence: too large");
  // A JSON object for dev (and tpm): Sigil's JSON evidence, in canonical form.
  Json dev{{"format", "sigil-dev-evidence/v1"}, {"b", 1}, {"a", "x"}};
  ASSERT_OK_AND_ASSIGN(KbsEvidence d, KbsPrimaryEvidence("dev", dev));
  EXPECT_EQ(ToString(d.evidence), CanonicalJson(dev));
  ASSERT_OK_AND_ASSIGN(KbsEvidence t, KbsPrimaryEvidence("tpm", dev));
  EXPECT_EQ(ToString(t.evidence), CanonicalJson(dev));
}

// ---- SEV-SNP ---------------------------------------------------------------------------------

// virtee/sev's serde JSON of an AttestationReport (sev 6.x/7.x, the versions of Trustee v0.14.0+
// and guest-components v0.14.0+), written from the firmware layout (AMD pub. 56860): integers
// as JSON numbers, byte arrays as arrays of numbers, TcbVersion {fmc, bootloader, tee, snp,
// microcode} (fmc null before Turin), Version {major, minor, build}, Signature {r, s}.
class SerdeReport {
 public:
  explicit SerdeReport(const Bytes& r) : r_(r) {}
  std::uint64_t Le(std::size_t off, std::size_t n) const {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v |= std::uint64_t{r_[off + i]} << (8 * i);
    return v;
  }
  Json Arr(std::size_t off, std::size_t n) const {
    Json a = Json::array();
    for (std::size_t i = 0; i < n; ++i) a.push_back(r_[off + i]);
    return a;
  }
  Json Tcb(std::size_t off) const {  // Milan/Genoa layout: bootloader, tee, 4 reserved, snp, microcode
    return Json{{"fmc", nullptr}, {"bootloader", r_[off]}, {"tee", r_[off + 1]}, {"snp", r_[off + 6]},
                {"microcode", r_[off + 7]}};
  }
  Json Ver(std::size_t off) const {  // build, minor, major
    return Json{{"major", r_[off + 2]}, {"minor", r_[off + 1]}, {"build", r_[off]}};
  }
  Json Build(bool mit_vectors) const {
    const bool v3 = Le(0, 4) >= 3;
    auto opt = [&](std::size_t off) { return v3 ? Json(r_[off]) : Json(nullptr); };
    Json j{{"version", Le(0x000, 4)},       {"guest_svn", Le(0x004, 4)},     {"policy", Le(0x008, 8)},
           {"family_id", Arr(0x010, 16)},   {"image_id", Arr(0x020, 16)},    {"vmpl", Le(0x030, 4)},
           {"sig_algo", Le(0x034, 4)},      {"current_tcb", Tcb(0x038)},     {"plat_info", Le(0x040, 8)},
           {"key_info", Le(0x048, 4)},      {"report_data", Arr(0x050, 64)}, {"measurement", Arr(0x090, 48)},
           {"host_data", Arr(0x0C0, 32)},   {"id_key_digest", Arr(0x0E0, 48)},
           {"author_key_digest", Arr(0x110, 48)}, {"report_id", Arr(0x140, 32)},
           {"report_id_ma", Arr(0x160, 32)}, {"reported_tcb", Tcb(0x180)},  {"cpuid_fam_id", opt(0x188)},
           {"cpuid_mod_id", opt(0x189)},    {"cpuid_step", opt(0x18A)},      {"chip_id", Arr(0x1A0, 64)},
           {"committed_tcb", Tcb(0x1E0)},   {"current", Ver(0x1E8)},         {"committed", Ver(0x1EC)},
           {"launch_tcb", Tcb(0x1F0)},
           {"signature", {{"r", Arr(0x2A0, 72)}, {"s", Arr(0x2E8, 72)}}}};
    if (mit_vectors) {  // sev 6.3+: Option<u64>, None before report version 5
      j["launch_mit_vector"] = nullptr;
      j["current_mit_vector"] = nullptr;
    }
    return j;
  }

 private:
  const Bytes& r_;
};

Json CertEntry(const char* type, const Bytes& der) {
  Json data = Json::array();
  for (std::uint8_t b : der) data.push_back(b);
  return Json{{"cert_type", type}, {"data", data}};
}

Bytes Snp1Report() { return Vector("sev-snp/go-sev-guest/attestation.bin"); }
Bytes Snp1Vcek() { return Vector("sev-snp/go-sev-guest/vcek.der"); }
constexpr std::int64_t kSnp1Time = 1663981200;  // MANIFEST SNP-1: 2022-09-24T01:00:00Z

std::unique_ptr<attestation::Verifier> MilanVerifier() {
  attestation::snp::SnpConfig config;  // no VCEK cached: the guest's cert_chain must bring it
  config.anchors.roots.push_back(Vector("sev-snp/go-sev-guest/ask_ark_milan.pem"));
  return attestation::snp::SnpVerifier::Create(std::move(config)).value();
}

Json SnpEvidence(const Bytes& report, bool mit_vectors = true) {
  return Json{{"attestation_report", SerdeReport(report).Build(mit_vectors)},
              {"cert_chain", Json::array({CertEntry("VCEK", Snp1Vcek())})}};
}

TEST(KbsTrusteeEvidence, SnpReportFromTheRealVectorReachesTheBindingCheck) {
  const Bytes report = Snp1Report();
  ASSERT_EQ(report.size(), 1184u);
  auto verifier = MilanVerifier();
  for (bool mit : {true, false}) {  // sev 6.3+ and sev 6.2 (Trustee v0.14.0) forms
    ASSERT_OK_AND_ASSIGN(KbsEvidence e, FromText("snp", SnpEvidence(report, mit).dump()));
    EXPECT_EQ(e.evidence, report) << "mit vectors " << mit;
    // The VCEK from cert_chain, as PEM collateral.
    EXPECT_THAT(ToString(e.collateral), HasSubstr("-----BEGIN CERTIFICATE-----\n"));
    auto refused = verifier->Verify({e.evidence, e.collateral, KbsBinding(), Unix(kSnp1Time)});
    ExpectVerifyRefused(refused, true);  // REPORT_DATA (0x050) is bound to a different nonce
    const Bytes own(report.begin() + 0x50, report.begin() + 0x90);  // 0102030405 then zeros
    ASSERT_OK_AND_ASSIGN(attestation::Claims c, verifier->Verify({e.evidence, e.collateral, own, Unix(kSnp1Time)}));
    EXPECT_EQ(c.GetString("tee"), "sev-snp");
  }
  // Without cert_chain (null or absent) the VCEK must come from the broker: this verifier has none.
  Json no_chain = SnpEvidence(report);
  no_chain["cert_chain"] = nullptr;
  ASSERT_OK_AND_ASSIGN(KbsEvidence n, FromText("snp", no_chain.dump()));
  EXPECT_EQ(n.evidence, report);
  EXPECT_TRUE(n.collateral.empty());
  auto no_vcek = verifier->Verify({n.evidence, n.collateral, KbsBinding(), Unix(kSnp1Time)});
  ExpectVerifyRefused(no_vcek, false);
  no_chain.erase("cert_chain");
  ASSERT_OK_AND_ASSIGN(KbsEvidence a, FromText("snp", no_chain.dump()));
  EXPECT_EQ(a.evidence, report);
  // A changed value converts, but the signature fails: a different refusal than the binding's.
  Json changed = SnpEvidence(report);
  changed["attestation_report"]["guest_svn"] = 1;
  ASSERT_OK_AND_ASSIGN(KbsEvidence c, FromText("snp", changed.dump()));
  EXPECT_NE(c.evidence, report);
  const Bytes own(report.begin() + 0x50, report.begin() + 0x90);
  auto bad = verifier->Verify({c.evidence, c.collateral, own, Unix(kSnp1Time)});
  ExpectVerifyRefused(bad, false);
}

TEST(KbsTrusteeEvidence, SnpSecondRealReportRoundTrips) {
  auto hex = ToString(Vector("sev-snp/virtee-sev/report_milan.hex"));
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r' || hex.back() == ' ')) hex.pop_back();
  ASSERT_OK_AND_ASSIGN(Bytes report, HexDecode(hex));
  ASSERT_EQ(report.size(), 1184u);
  Json ev{{"attestation_report", SerdeReport(report).Build(true)},
          {"cert_chain", Json::array({CertEntry("VCEK", Vector("sev-snp/virtee-sev/vcek_milan.der"))})}};
  ASSERT_OK_AND_ASSIGN(KbsEvidence e, FromText("snp", ev.dump()));
  EXPECT_EQ(e.evidence, report);
  auto refused = MilanVerifier()->Verify({e.evidence, e.collateral, KbsBinding(), Unix(1704067200)});
  ExpectVerifyRefused(refused, true);  // REPORT_DATA (0x050) is bound to a different nonce
}

const std::vector<std::string> kReportMembers = {
    "version", "guest_svn", "policy", "family_id", "image_id", "vmpl", "sig_algo", "current_tcb", "plat_info",
    "key_info", "report_data", "measurement", "host_data", "id_key_digest", "author_key_digest", "report_id",
    "report_id_ma", "reported_tcb", "cpuid_fam_id", "cpuid_mod_id", "cpuid_step", "chip_id", "committed_tcb",
    "current", "committed", "launch_tcb", "signature"};

TEST(KbsTrusteeEvidence, SnpEveryReportMemberMissingOrMistyped) {
  const Json good = SnpEvidence(Snp1Report());
  ASSERT_OK(KbsPrimaryEvidence("snp", good));
  const std::string w = "tee-evidence.primary_evidence.attestation_report.";
  for (const std::string& m : kReportMembers) {
    Json missing = good;
    missing["attestation_report"].erase(m);
    ExpectRefused(KbsPrimaryEvidence("snp", missing), w + m + ": missing");
    for (const Json& bad : {Json("1"), Json(-1), Json(1.5), Json(true), Json(Json::object())}) {
      Json typed = good;
      typed["attestation_report"][m] = bad;
      ExpectRefused(KbsPrimaryEvidence("snp", typed), w + m);
    }
  }
  // The optional mit vectors: absent or null in a version 2 report, never a number.
  Json mit = good;
  mit["attestation_report"]["launch_mit_vector"] = 0;
  ExpectRefused(KbsPrimaryEvidence("snp", mit), w + "launch_mit_vector: expected null or absent");
  mit["attestation_report"]["launch_mit_vector"] = "0";
  ExpectRefused(KbsPrimaryEvidence("snp", mit), w + "launch_mit_vector");
  // Every TCB member and the Version/Signature members.
  for (const char* tcb : {"current_tcb", "reported_tcb", "committed_tcb", "launch_tcb"}) {
    for (const char* f : {"fmc", "bootloader", "tee", "snp", "microcode"}) {
      Json j = good;
      j["attestation_report"][tcb].erase(f);
      ExpectRefused(KbsPrimaryEvidence("snp", j), w + tcb + "." + f + ": missing");
      j = good;
      j["attestation_report"][tcb][f] = 256;
      ExpectRefused(KbsPrimaryEvidence("snp", j), w + tcb + "." + f + ": expected an integer 0..255");
    }
    Json extra = good;
    extra["attestation_report"][tcb]["spl"] = 0;
    ExpectRefused(KbsPrimaryEvidence("snp", extra), w + tcb + ": unknown member 'spl'");
  }
  for (const char* v : {"current", "committed"}) {
    for (const char* f : {"major", "minor", "build"}) {
      Json j = good;
      j["attestation_report"][v].erase(f);
      ExpectRefused(KbsPrimaryEvidence("snp", j), w + v + "." + f + ": missing");
    }
  }
  for (const char* f : {"r", "s"}) {
    Json j = good;
    j["attestation_report"]["signature"].erase(f);
    ExpectRefused(KbsPrimaryEvidence("snp", j), w + "signature." + f + ": missing");
    j = good;
    j["attestation_report"]["signature"][f].push_back(0);
    ExpectRefused(KbsPrimaryEvidence("snp", j), w + "signature." + f + ": expected exactly 72 bytes, got 73");
  }
}

TEST(KbsTrusteeEvidence, SnpHostileValues) {
  const Json good = SnpEvidence(Snp1Report());
  const std::string w = "tee-evidence.primary_evidence.attestation_report";
  auto with = [&](const std::string& member, const Json& v) {
    Json j = good;
    j["attestation_report"][member] = v;
    return KbsPrimaryEvidence("snp", j);
  };
  ExpectRefused(with("version", 1), w + ".version: expected 2 or above");
  ExpectRefused(with("version", 4294967296ull), w + ".version: expected an integer 0..4294967295");
  ExpectRefused(with("vmpl", 4294967296ull), w + ".vmpl");
  ExpectRefused(with("cpuid_fam_id", 25), w + ".cpuid_fam_id: expected null in a version 2 report");
  Json arr = good["attestation_report"]["report_data"];
  arr[3] = 256;
  ExpectRefused(with("report_data", arr), w + ".report_data[3]: expected an integer 0..255");
  arr[3] = -1;
  ExpectRefused(with("report_data", arr), w + ".report_data[3]");
  arr[3] = 1.0;
  ExpectRefused(with("report_data", arr), w + ".report_data[3]");
  arr[3] = "1";
  ExpectRefused(with("report_data", arr), w + ".report_data[3]");
  arr.erase(arr.size() - 1);
  ExpectRefused(with("report_data", arr), w + ".report_data: expected exactly 64 bytes, got 63");
  ExpectRefused(with("chip_id", Base64Encode(Bytes(64, 1))), w + ".chip_id: expected an array");
  ExpectRefused(with("unknown", 0), w + ": unknown member 'unknown'");
  // One report, one TCB layout: a Turin fmc in one TCB only is refused.
  Json mixed = good;
  mixed["attestation_report"]["launch_tcb"]["fmc"] = 0;
  ExpectRefused(KbsPrimaryEvidence("snp", mixed), w + ".launch_tcb.fmc: null in some TCB versions");
  // Version 3: CPUID fields required, and the family decides the TCB layout.
  Json v3 = good;
  v3["attestation_report"]["version"] = 3;
  ExpectRefused(KbsPrimaryEvidence("snp", v3), w + ".cpuid_fam_id: expected an integer 0..255 in a version 3+ report");
  v3["attestation_report"]["cpuid_fam_id"] = 0x1A;
  v3["attestation_report"]["cpuid_mod_id"] = 0x02;
  v3["attestation_report"]["cpuid_step"] = 0;
  ExpectRefused(KbsPrimaryEvidence("snp", v3), w + ".current_tcb.fmc: null, but cpuid_fam_id is Turin's");
  v3["attestation_report"]["cpuid_fam_id"] = 0x19;
  ASSERT_OK_AND_ASSIGN(KbsEvidence e3, KbsPrimaryEvidence("snp", v3));
  EXPECT_EQ(e3.evidence[0x188], 0x19);
  // Version 5: mit vectors required numbers.
  v3["attestation_report"]["version"] = 5;
  ExpectRefused(KbsPrimaryEvidence("snp", v3), w + ".launch_mit_vector: expected an integer in a version 5+ report");
  // Top level.
  Json top = good;
  top["report"] = 1;
  ExpectRefused(KbsPrimaryEvidence("snp", top), "primary_evidence: unknown member 'report'");
  top = good;
  top.erase("attestation_report");
  ExpectRefused(KbsPrimaryEvidence("snp", top), "primary_evidence.attestation_report: missing");
  top = good;
  top["attestation_report"] = Base64Encode(Snp1Report());
  ExpectRefused(KbsPrimaryEvidence("snp", top), "primary_evidence.attestation_report: expected a JSON object");
  // Duplicates never reach the converter.
  EXPECT_CODE(FromText("snp", R"({"attestation_report":{},"attestation_report":{}})"), Code::kInvalidArgument);
}

TEST(KbsTrusteeEvidence, SnpHostileCertChain) {
  const Json good = SnpEvidence(Snp1Report());
  const std::string w = "tee-evidence.primary_evidence.cert_chain";
  auto with = [&](const Json& chain) {
    Json j = good;
    j["cert_chain"] = chain;
    return KbsPrimaryEvidence("snp", j);
  };
  ExpectRefused(with("VCEK"), w + ": expected null or an array");
  ExpectRefused(with(Json::object()), w + ": expected null or an array");
  ExpectRefused(with(Json::array({Json{{"cert_type", "VCEK"}}})), w + "[0].data: missing");
  ExpectRefused(with(Json::array({Json{{"data", Json::array()}}})), w + "[0].cert_type: missing");
  ExpectRefused(with(Json::array({Json{{"cert_type", "PEK"}, {"data", Json::array()}}})), w + "[0].cert_type: expected");
  ExpectRefused(with(Json::array({Json{{"cert_type", 3}, {"data", Json::array()}}})), w + "[0].cert_type: expected");
  ExpectRefused(with(Json::array({Json{{"cert_type", "VCEK"}, {"data", "MIIB"}}})), w + "[0].data: expected an array");
  ExpectRefused(with(Json::array({Json{{"cert_type", "VCEK"}, {"data", Json::array({300})}}})),
                w + "[0].data[0]: expected an integer 0..255");
  ExpectRefused(with(Json::array({Json{{"cert_type", "VCEK"}, {"data", Json::array()}}})), w + "[0].data: empty");
  ExpectRefused(with(Json::array({Json{{"cert_type", "VCEK"}, {"data", Json::array()}, {"der", 1}}})),
                w + "[0]: unknown member 'der'");
  ExpectRefused(with(Json::array({CertEntry("VCEK", Bytes(17 * 1024, 0x30))})), w + "[0].data: too large");
  Json many = Json::array();
  for (int i = 0; i < 17; ++i) many.push_back(CertEntry("CRL", Bytes(1, 0)));
  ExpectRefused(with(many), w + ": too many entries");
  // CRL, Empty and OTHER are accepted and not used (no certificate in the collateral from them).
  Json unused = Json::array({CertEntry("CRL", Bytes(3, 1)), CertEntry("Empty", {}),
                             Json{{"cert_type", {{"OTHER", "4f1f3f4a-0000-4000-8000-000000000000"}}},
                                  {"data", Json::array({1, 2})}}});
  ASSERT_OK_AND_ASSIGN(KbsEvidence e, with(unused));
  EXPECT_TRUE(e.collateral.empty());
  ExpectRefused(with(Json::array({Json{{"cert_type", {{"OTHER", 5}}}, {"data", Json::array()}}})),
                w + "[0].cert_type");
  ExpectRefused(with(Json::array({Json{{"cert_type", {{"OTHER", "x"}, {"VCEK", "y"}}}, {"data", Json::array()}}})),
                w + "[0].cert_type");
}

// ---- Azure vTPM (az-snp-vtpm, az-tdx-vtpm) ---------------------------------------------------
//
// Trustee's JSON is built from the REAL captures of /work/shared/vectors/azure-cvm (MANIFEST.md)
// the way the guest's attester serialises them (guest-components attester az_{snp,tdx}_vtpm:
// version 2 {"version", "tpm_quote": {hex signature, hex message, [hex pcrs]}, URL-safe base64
// padded hcl_report and vcek | td_quote}; version 0 with serde byte arrays). The MANIFEST says no
// capture verifies end to end: the HCL report binds its runtime data, the quote (AZ-VTPM-1) is
// made by another VM's AK, the SNP VCEK is for another chip, and a TDREPORT alone cannot be
// authenticated. After conversion exactly those outcomes must follow. A synthetic quote made the
// way the guest makes it (RSA AK, sha256:0-23, raw RSASSA signature) shows the binding rule.

std::string AzVector(const std::string& name) { return "azure-cvm/azure-cvm-tooling/" + name; }

// MANIFEST AZ-VTPM-1: the quote selects sha256 PCR 15, 16, 22, inferred values 00.., 00.., ff...
std::vector<Bytes> AzQuotePcrs() { return {Bytes(32, 0), Bytes(32, 0), Bytes(32, 0xff)}; }
Bytes AzQuotePcrText() {
  return ToBytes(std::string(64, '0') + "\n" + std::string(64, '0') + "\n" + std::string(64, 'f') + "\n");
}

// serde_with Base64<UrlSafe> (padded), as the guest writes hcl_report, vcek and td_quote.
std::string UrlSafePadded(const Bytes& b) {
  std::string s = Base64UrlEncode(b);
  while (s.size() % 4 != 0) s.push_back('=');
  return s;
}

Json ByteArrayJson(const Bytes& b) {
  Json a = Json::array();
  for (std::uint8_t x : b) a.push_back(x);
  return a;
}

// The first PEM block of certs.pem (MANIFEST: the VCEK) and its DER.
std::string FirstPem(const Bytes& pem) {
  const std::string s(pem.begin(), pem.end());
  const std::string end = "-----END CERTIFICATE-----";
  return s.substr(0, s.find(end) + end.size()) + "\n";
}
Bytes PemToDer(const std::string& pem) {
  std::string body;
  std::size_t i = 0;
  while (i < pem.size()) {
    std::size_t end = pem.find('\n', i);
    if (end == std::string::npos) end = pem.size();
    if (end > i && pem[i] != '-') body += pem.substr(i, end - i);
    i = end + 1;
  }
  return Base64Decode(body).value();
}

Json TpmQuoteHex(const Bytes& sig, const Bytes& msg, const std::vector<Bytes>& pcrs) {
  Json p = Json::array();
  for (const Bytes& v : pcrs) p.push_back(HexEncode(v));
  return Json{{"signature", HexEncode(sig)}, {"message", HexEncode(msg)}, {"pcrs", p}};
}
Json TpmQuoteArrays(const Bytes& sig, const Bytes& msg, const std::vector<Bytes>& pcrs) {
  Json p = Json::array();
  for (const Bytes& v : pcrs) p.push_back(ByteArrayJson(v));
  return Json{{"signature", ByteArrayJson(sig)}, {"message", ByteArrayJson(msg)}, {"pcrs", p}};
}

Json AzSnpV2() {
  return Json{{"version", 2},
              {"tpm_quote", TpmQuoteHex(Vector(AzVector("quote_sig")), Vector(AzVector("quote_msg")), AzQuotePcrs())},
              {"hcl_report", UrlSafePadded(Vector(AzVector("hcl-report-snp.bin")))},
              {"vcek", UrlSafePadded(PemToDer(FirstPem(Vector(AzVector("certs.pem")))))}};
}

Json AzTdxV2() {
  return Json{{"version", 2},
              {"tpm_quote", TpmQuoteHex(Vector(AzVector("quote_sig")), Vector(AzVector("quote_msg")), AzQuotePcrs())},
              {"hcl_report", UrlSafePadded(Vector(AzVector("hcl-report-tdx.bin")))},
              {"td_quote", UrlSafePadded(Vector(kTdx3))}};
}

// What Sigil's own envelope carries for the same capture (attestation/azure/evidence.h).
Bytes SigilAzureEvidence(const std::string& hcl, const Bytes& td_quote = {}) {
  const Bytes quote = attestation::tpm::EvidenceFromTpm2Tools(Vector(AzVector("quote_msg")), Vector(AzVector("quote_sig")),
                                                              AzQuotePcrText(), {})
                          .value();
  return attestation::azure::MakeAzureEvidence(Vector(AzVector(hcl)), quote, td_quote).value();
}

attestation::azure::AzureConfig AzConfig(attestation::azure::AzurePlatform platform) {
  attestation::azure::AzureConfig config;
  config.platform = platform;
  config.snp.anchors.roots.push_back(Vector("sev-snp/go-sev-guest/ask_ark_milan.pem"));
  return config;
}

Bytes KbsRuntimeJcs() {
  Json runtime{{"tee-pubkey", {{"kty", "EC"}, {"crv", "P-256"}, {"x", "X"}, {"y", "Y"}}},
               {"nonce", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="},
               {"additional-evidence", ""}};
  return ToBytes(Jcs(runtime).value());
}

TEST(KbsTrusteeAzure, TeeNamesChallengeAndBinding) {
  EXPECT_EQ(SigilTeeForKbs("az-snp-vtpm"), "azure-snp-vtpm");
  EXPECT_EQ(SigilTeeForKbs("az-tdx-vtpm"), "azure-tdx-vtpm");
  EXPECT_EQ(SigilTeeForKbs("azure-snp-vtpm"), "");
  // Only the Azure sessions select SHA-256, and only from a guest that says it supports it.
  const Json supported{{"supported-hash-algorithms", {"sha256", "sha384", "sha512"}}};
  EXPECT_EQ(KbsChallengeExtraParams("sev-snp", supported).value(), Json::object());
  EXPECT_EQ(KbsChallengeExtraParams("dev", Json()).value(), Json::object());
  for (const char* tee : {"azure-snp-vtpm", "azure-tdx-vtpm"}) {
    EXPECT_EQ(KbsChallengeExtraParams(tee, supported).value(), (Json{{"selected-hash-algorithm", "sha256"}}));
    EXPECT_EQ(KbsChallengeExtraParams(tee, Json{{"supported-hash-algorithms", {"SHA256"}}}).value(),
              (Json{{"selected-hash-algorithm", "sha256"}}));
    for (const Json& bad : {Json(), Json::object(), Json{{"supported-hash-algorithms", {"sha384", "sha512"}}},
                            Json{{"supported-hash-algorithms", "sha256"}}, Json{{"supported-hash-algorithms", {1}}}}) {
      auto r = KbsChallengeExtraParams(tee, bad);
      ASSERT_FALSE(r.has_value()) << bad.dump();
      EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
      EXPECT_THAT(r.error().message(), HasSubstr("supported-hash-algorithms"));
    }
  }
  // The binding: SHA-256 (Azure) or SHA-384 of the JCS runtime data, zero-padded to 64 bytes.
  const Bytes jcs = KbsRuntimeJcs();
  Bytes want256(64, 0);
  const auto d256 = Sha256(jcs);
  std::copy(d256.begin(), d256.end(), want256.begin());
  EXPECT_EQ(sigil::broker::KbsBinding("azure-snp-vtpm", jcs), want256);
  EXPECT_EQ(sigil::broker::KbsBinding("azure-tdx-vtpm", jcs), want256);
  EXPECT_EQ(sigil::broker::KbsBinding("sev-snp", jcs), KbsBinding());
  EXPECT_EQ(HexEncode(ByteSpan(sigil::broker::KbsBinding("tdx", jcs)).first(48)),
            "b380a738a9487c0db61684f009087b1d9b344be870656b587add4684a023503de45bc01a894f8e80c212566bdd3fd1cd");
}

TEST(KbsTrusteeAzure, SnpCaptureConvertsToSigilsEnvelopeAndFailsForTheManifestsReasons) {
  ASSERT_OK_AND_ASSIGN(KbsEvidence e, KbsPrimaryEvidence("az-snp-vtpm", AzSnpV2()));
  EXPECT_EQ(e.evidence, SigilAzureEvidence("hcl-report-snp.bin"));
  EXPECT_EQ(ToString(e.collateral), FirstPem(Vector(AzVector("certs.pem"))));
  ASSERT_OK_AND_ASSIGN(attestation::snp::SortedCerts certs, attestation::snp::ParseCollateral(e.collateral));
  EXPECT_NE(certs.vek, nullptr);
  // Version 1 (same shape) and version 0 (serde byte arrays, PEM VCEK) become the same bytes.
  Json v1 = AzSnpV2();
  v1["version"] = 1;
  ASSERT_OK_AND_ASSIGN(KbsEvidence e1, KbsPrimaryEvidence("az-snp-vtpm", v1));
  EXPECT_EQ(e1.evidence, e.evidence);
  EXPECT_EQ(e1.collateral, e.collateral);
  const Json v0{{"quote", TpmQuoteArrays(Vector(AzVector("quote_sig")), Vector(AzVector("quote_msg")), AzQuotePcrs())},
                {"report", ByteArrayJson(Vector(AzVector("hcl-report-snp.bin")))},
                {"vcek", FirstPem(Vector(AzVector("certs.pem")))}};
  ASSERT_OK_AND_ASSIGN(KbsEvidence e0, FromText("az-snp-vtpm", v0.dump()));
  EXPECT_EQ(e0.evidence, e.evidence);
  EXPECT_EQ(e0.collateral, e.collateral);
  // Unpadded URL-safe base64 is read too (serde_with reads both).
  Json unpadded = AzSnpV2();
  unpadded["hcl_report"] = Base64UrlEncode(Vector(AzVector("hcl-report-snp.bin")));
  EXPECT_EQ(KbsPrimaryEvidence("az-snp-vtpm", unpadded)->evidence, e.evidence);

  // MANIFEST AZ-SNP-1: the HCL layer binds (REPORT_DATA[0:32] = SHA-256(runtime data)).
  ASSERT_OK_AND_ASSIGN(attestation::azure::AzureEvidence parsed, attestation::azure::ParseAzureEvidence(e.evidence));
  ASSERT_OK_AND_ASSIGN(attestation::azure::BoundHcl bound, attestation::azure::ParseAndBindHclReport(parsed.hcl_report));
  (void)bound;
  // AZ-VTPM-1: the converted quote (PCR values under the selected indexes) verifies with its own
  // AK, which shows the conversion kept signature, message and PCRs intact ...
  ASSERT_TRUE(parsed.quote.has_value());
  EXPECT_OK(attestation::azure::VerifyVtpmQuote(Vector(AzVector("quote_akpub.pem")), *parsed.quote, {}));
  // ... and the full verifier refuses for the documented reasons only: the quote is not made by
  // this report's HCLAkPub, the VCEK is for another chip.
  auto verifier = attestation::azure::AzureVtpmVerifier::Create(AzConfig(attestation::azure::AzurePlatform::kSnp)).value();
  auto r = verifier->Verify(attestation::VerifyInput{e.evidence, e.collateral, sigil::broker::KbsBinding("azure-snp-vtpm", KbsRuntimeJcs()),
                                                     Unix(1678665600), {}});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kVerificationFailed) << r.error().message();
  EXPECT_THAT(r.error().message(), HasSubstr("HCLAkPub"));
  EXPECT_THAT(r.error().message(), HasSubstr("another chip"));
  EXPECT_THAT(r.error().message(), ::testing::Not(HasSubstr("runtime-data binding")));
}

TEST(KbsTrusteeAzure, TdxCaptureConvertsToSigilsEnvelopeAndFailsForTheManifestsReasons) {
  ASSERT_OK_AND_ASSIGN(KbsEvidence e, KbsPrimaryEvidence("az-tdx-vtpm", AzTdxV2()));
  EXPECT_EQ(e.evidence, SigilAzureEvidence("hcl-report-tdx.bin", Vector(kTdx3)));
  EXPECT_TRUE(e.collateral.empty());
  const Json v0{{"tpm_quote", TpmQuoteArrays(Vector(AzVector("quote_sig")), Vector(AzVector("quote_msg")), AzQuotePcrs())},
                {"hcl_report", ByteArrayJson(Vector(AzVector("hcl-report-tdx.bin")))},
                {"td_quote", ByteArrayJson(Vector(kTdx3))}};
  ASSERT_OK_AND_ASSIGN(KbsEvidence e0, KbsPrimaryEvidence("az-tdx-vtpm", v0));
  EXPECT_EQ(e0.evidence, e.evidence);
  ASSERT_OK_AND_ASSIGN(attestation::azure::AzureEvidence parsed, attestation::azure::ParseAzureEvidence(e.evidence));
  EXPECT_OK(attestation::azure::ParseAndBindHclReport(parsed.hcl_report));  // AZ-TDX-1 binding
  EXPECT_EQ(parsed.td_quote, Vector(kTdx3));
  auto verifier = attestation::azure::AzureVtpmVerifier::Create(AzConfig(attestation::azure::AzurePlatform::kTdx)).value();
  auto r = verifier->Verify(
      attestation::VerifyInput{e.evidence, {}, sigil::broker::KbsBinding("azure-tdx-vtpm", KbsRuntimeJcs()), Unix(1678665600), {}});
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message(), HasSubstr("HCLAkPub"));
  EXPECT_THAT(r.error().message(), ::testing::Not(HasSubstr("runtime-data binding")));
}

// A quote made as the guest makes it (azure-cvm-tooling vtpm::get_quote): RSA-2048 AK, sha256
// PCRs 0-23, qualifying data = the report data the KBS client passes, raw RSASSA signature.
struct GuestQuote {
  Bytes ak_der;
  Bytes message;
  Bytes signature;
  std::vector<Bytes> pcrs;
};

GuestQuote MakeGuestQuote(ByteSpan report_data) {
  GuestQuote q;
  EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048}));
  EXPECT_NE(key, nullptr);
  q.ak_der = attestation::tpm::AkDer(*key).value();
  Bytes concat;
  for (int i = 0; i < 24; ++i) {
    q.pcrs.push_back(Bytes(32, static_cast<std::uint8_t>(i)));
    concat.insert(concat.end(), q.pcrs.back().begin(), q.pcrs.back().end());
  }
  TPMS_ATTEST a{};
  a.magic = TPM2_GENERATED_VALUE;
  a.type = TPM2_ST_ATTEST_QUOTE;
  a.qualifiedSigner.size = 4;
  std::memset(a.qualifiedSigner.name, 0xab, 4);
  a.extraData.size = static_cast<UINT16>(report_data.size());
  std::memcpy(a.extraData.buffer, report_data.data(), report_data.size());
  a.clockInfo = TPMS_CLOCK_INFO{1000, 1, 0, 1};
  TPML_PCR_SELECTION& sel = a.attested.quote.pcrSelect;
  sel.count = 1;
  sel.pcrSelections[0] = TPMS_PCR_SELECTION{TPM2_ALG_SHA256, 3, {0xff, 0xff, 0xff, 0}};
  const auto digest = Sha256(concat);
  a.attested.quote.pcrDigest.size = static_cast<UINT16>(digest.size());
  std::memcpy(a.attested.quote.pcrDigest.buffer, digest.data(), digest.size());
  q.message.resize(sizeof(TPMS_ATTEST));
  std::size_t off = 0;
  EXPECT_EQ(Tss2_MU_TPMS_ATTEST_Marshal(&a, q.message.data(), q.message.size(), &off), TSS2_RC_SUCCESS);
  q.message.resize(off);
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  EXPECT_EQ(EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()), 1);
  std::size_t len = 0;
  EXPECT_EQ(EVP_DigestSign(ctx.get(), nullptr, &len, q.message.data(), q.message.size()), 1);
  q.signature.resize(len);
  EXPECT_EQ(EVP_DigestSign(ctx.get(), q.signature.data(), &len, q.message.data(), q.message.size()), 1);
  q.signature.resize(len);
  return q;
}

// The "quote" member of converted Azure evidence (canonical sigil-tpm-quote/v1 JSON).
Bytes QuoteOf(const Bytes& evidence) {
  auto parsed = attestation::azure::ParseAzureEvidence(evidence);
  if (!parsed) {
    ADD_FAILURE() << parsed.error().message();
    return {};
  }
  return parsed->quote.value_or(Bytes{});
}

TEST(KbsTrusteeAzure, QuoteBindsWithTheSelectedSha256AndNotWithTrusteesDefaultSha384) {
  const Bytes jcs = KbsRuntimeJcs();
  const Bytes binding = sigil::broker::KbsBinding("azure-snp-vtpm", jcs);
  // selected-hash-algorithm sha256: the guest's report data is SHA-256(JCS), 32 bytes.
  const auto d256 = Sha256(jcs);
  const GuestQuote good = MakeGuestQuote(d256);
  Json ev = AzSnpV2();
  ev["tpm_quote"] = TpmQuoteHex(good.signature, good.message, good.pcrs);
  ASSERT_OK_AND_ASSIGN(KbsEvidence e, KbsPrimaryEvidence("az-snp-vtpm", ev));
  const Bytes quote = QuoteOf(e.evidence);
  ASSERT_OK_AND_ASSIGN(attestation::Claims c, attestation::azure::VerifyVtpmQuote(good.ak_der, quote, binding));
  EXPECT_EQ(c.GetString("tpm.pcr.sha256.23"), HexEncode(Bytes(32, 23)));
  // Another runtime data (another nonce or TEE key) is refused.
  Bytes other = binding;
  other[0] ^= 1;
  EXPECT_CODE(attestation::azure::VerifyVtpmQuote(good.ak_der, quote, other), Code::kVerificationFailed);
  // Trustee's default, SHA-384 (48 bytes of qualifying data), can never match Sigil's 32-byte
  // rule: that is why the Azure sessions select SHA-256 in the challenge.
  const auto d384 = Sha384(jcs);
  const GuestQuote sha384 = MakeGuestQuote(d384);
  ev["tpm_quote"] = TpmQuoteHex(sha384.signature, sha384.message, sha384.pcrs);
  ASSERT_OK_AND_ASSIGN(KbsEvidence e384, KbsPrimaryEvidence("az-snp-vtpm", ev));
  const Bytes quote384 = QuoteOf(e384.evidence);
  EXPECT_OK(attestation::azure::VerifyVtpmQuote(sha384.ak_der, quote384, {}));  // well formed
  EXPECT_CODE(attestation::azure::VerifyVtpmQuote(sha384.ak_der, quote384, sigil::broker::KbsBinding("sev-snp", jcs)),
              Code::kVerificationFailed);
}

TEST(KbsTrusteeAzure, HostileMembers) {
  const std::string r = "tee-evidence.primary_evidence";
  auto snp = [](const std::function<void(Json&)>& edit) {
    Json j = AzSnpV2();
    edit(j);
    return KbsPrimaryEvidence("az-snp-vtpm", j);
  };
  auto tdx = [](const std::function<void(Json&)>& edit) {
    Json j = AzTdxV2();
    edit(j);
    return KbsPrimaryEvidence("az-tdx-vtpm", j);
  };
  ExpectRefused(KbsPrimaryEvidence("az-snp-vtpm", Json::array()), r + ": expected a JSON object or a base64 string");
  ExpectRefused(snp([](Json& j) { j["extra"] = 1; }), r + ": unknown member 'extra'");
  ExpectRefused(snp([](Json& j) { j["td_quote"] = "AA=="; }), r + ": unknown member 'td_quote'");
  ExpectRefused(tdx([](Json& j) { j["vcek"] = "AA=="; }), r + ": unknown member 'vcek'");
  ExpectRefused(snp([](Json& j) { j["version"] = 3; }), r + ".version: expected 1 or 2");
  ExpectRefused(snp([](Json& j) { j["version"] = 0; }), r + ".version: expected 1 or 2");
  ExpectRefused(snp([](Json& j) { j["version"] = "2"; }), r + ".version: expected 1 or 2");
  ExpectRefused(snp([](Json& j) { j["version"] = 2.0; }), r + ".version: expected 1 or 2");
  ExpectRefused(snp([](Json& j) { j.erase("tpm_quote"); }), r + ".tpm_quote: missing");
  ExpectRefused(snp([](Json& j) { j.erase("hcl_report"); }), r + ".hcl_report: missing");
  ExpectRefused(snp([](Json& j) { j.erase("vcek"); }), r + ".vcek: missing");
  ExpectRefused(tdx([](Json& j) { j.erase("td_quote"); }), r + ".td_quote: missing");
  // Base64: URL-safe alphabet only, padding only where the length needs it, canonical bits.
  ExpectRefused(snp([](Json& j) { j["hcl_report"] = "ab+/"; }), r + ".hcl_report");
  ExpectRefused(snp([](Json& j) { j["hcl_report"] = "AQ==="; }), r + ".hcl_report");
  ExpectRefused(snp([](Json& j) { j["hcl_report"] = "AQID="; }), r + ".hcl_report");
  ExpectRefused(snp([](Json& j) { j["hcl_report"] = "AR=="; }), r + ".hcl_report");
  ExpectRefused(snp([](Json& j) { j["hcl_report"] = 5; }), r + ".hcl_report: expected a string");
  ExpectRefused(snp([](Json& j) { j["hcl_report"] = ""; }), r + ".hcl_report: empty");
  ExpectRefused(snp([](Json& j) { j["hcl_report"] = std::string(400 * 1024, 'A'); }), r + ".hcl_report: too large");
  ExpectRefused(snp([](Json& j) { j["vcek"] = ""; }), r + ".vcek: empty");
  ExpectRefused(snp([](Json& j) { j["vcek"] = UrlSafePadded(Bytes(17 * 1024, 0x30)); }), r + ".vcek: too large");
  ExpectRefused(tdx([](Json& j) { j["td_quote"] = ""; }), r + ".td_quote: empty");
  // The quote.
  const std::string q = r + ".tpm_quote";
  ExpectRefused(snp([](Json& j) { j["tpm_quote"] = "x"; }), q + ": expected a JSON object");
  ExpectRefused(snp([](Json& j) { j["tpm_quote"]["nonce"] = "00"; }), q + ": unknown member 'nonce'");
  ExpectRefused(snp([](Json& j) { j["tpm_quote"].erase("pcrs"); }), q + ".pcrs: missing");
  ExpectRefused(snp([](Json& j) { j["tpm_quote"]["signature"] = "abc"; }), q + ".signature");
  ExpectRefused(snp([](Json& j) { j["tpm_quote"]["signature"] = "zz"; }), q + ".signature");
  ExpectRefused(snp([](Json& j) { j["tpm_quote"]["signature"] = ""; }), q + ".signature: empty");
  ExpectRefused(snp([](Json& j) { j["tpm_quote"]["signature"] = std::string(2050, 'a'); }), q + ".signature: too large");
  ExpectRefused(snp([](Json& j) { j["tpm_quote"]["message"] = Json::array(); }), q + ".message: expected a hex string");
  ExpectRefused(snp([](Json& j) { j["tpm_quote"]["message"] = "0011"; }), q + ".message");
  ExpectRefused(snp([](Json& j) { j["tpm_quote"]["pcrs"] = "00"; }), q + ".pcrs: expected an array");
  ExpectRefused(snp([](Json& j) { j["tpm_quote"]["pcrs"][1] = "00"; }), q + ".pcrs[1]: expected 32 bytes");
  ExpectRefused(snp([](Json& j) { j["tpm_quote"]["pcrs"][2] = 7; }), q + ".pcrs[2]: expected a hex string");
  ExpectRefused(snp([](Json& j) { j["tpm_quote"]["pcrs"].erase(2); }), q + ".pcrs: fewer values (2) than the quote selects");
  ExpectRefused(snp([](Json& j) { j["tpm_quote"]["pcrs"].push_back(std::string(64, '0')); }),
                q + ".pcrs: more values (4) than the quote selects (3)");
  ExpectRefused(snp([](Json& j) { j["tpm_quote"]["pcrs"] = Json::array(); for (int i = 0; i < 33; ++i) j["tpm_quote"]["pcrs"].push_back(std::string(64, '0')); }),
                q + ".pcrs: too many values");
  // Version 0: byte arrays and a PEM VCEK.
  auto v0 = [](const std::function<void(Json&)>& edit) {
    Json j{{"quote", TpmQuoteArrays(Vector(AzVector("quote_sig")), Vector(AzVector("quote_msg")), AzQuotePcrs())},
           {"report", ByteArrayJson(Vector(AzVector("hcl-report-snp.bin")))},
           {"vcek", FirstPem(Vector(AzVector("certs.pem")))}};
    edit(j);
    return KbsPrimaryEvidence("az-snp-vtpm", j);
  };
  ExpectRefused(v0([](Json& j) { j["tpm_quote"] = j["quote"]; }), r + ": unknown member 'tpm_quote'");
  ExpectRefused(v0([](Json& j) { j["report"] = UrlSafePadded(Bytes{1}); }), r + ".report: expected an array");
  ExpectRefused(v0([](Json& j) { j["report"][0] = 256; }), r + ".report[0]: expected an integer 0..255");
  ExpectRefused(v0([](Json& j) { j["report"] = Json::array(); }), r + ".report: empty");
  ExpectRefused(v0([](Json& j) { j["quote"]["pcrs"][0] = ByteArrayJson(Bytes(31, 0)); }), r + ".quote.pcrs[0]: expected exactly 32 bytes");
  ExpectRefused(v0([](Json& j) { j["quote"]["signature"] = HexEncode(Bytes(4, 1)); }), r + ".quote.signature: expected an array");
  ExpectRefused(v0([](Json& j) { j["vcek"] = ByteArrayJson(Bytes{1}); }), r + ".vcek: expected a string");
  ExpectRefused(v0([](Json& j) { j["vcek"] = "MIIB"; }), r + ".vcek: expected exactly one PEM CERTIFICATE block");
  ExpectRefused(v0([](Json& j) { j["vcek"] = j["vcek"].get<std::string>() + j["vcek"].get<std::string>(); }),
                r + ".vcek: expected exactly one PEM CERTIFICATE block");
  ExpectRefused(v0([](Json& j) { j["vcek"] = "x" + j["vcek"].get<std::string>(); }), r + ".vcek: text before");
  ExpectRefused(v0([](Json& j) { j["vcek"] = j["vcek"].get<std::string>() + "x"; }), r + ".vcek: text after");
  ExpectRefused(v0([](Json& j) { j["vcek"] = "-----BEGIN CERTIFICATE-----\nM!IB\n-----END CERTIFICATE-----\n"; }),
                r + ".vcek: PEM body");
  // A quote message that is not a TPMS_ATTEST quote is named.
  ExpectRefused(snp([](Json& j) { j["tpm_quote"]["message"] = HexEncode(Bytes(40, 0xff)); }), q + ".message");
  // Sigil's own base64 string form still goes to the verifier as is.
  const Bytes own = SigilAzureEvidence("hcl-report-snp.bin");
  ASSERT_OK_AND_ASSIGN(KbsEvidence e, KbsPrimaryEvidence("az-snp-vtpm", Json(Base64Encode(own))));
  EXPECT_EQ(e.evidence, own);
}

}  // namespace
}  // namespace sigil::broker
