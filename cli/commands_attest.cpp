// sigil attest verify: verifies one piece of evidence offline through the same verifier code
// the broker uses, and prints the normalised claims or the precise refusal (exit 4).
#include <ctime>

#include "attestation/dcap/verifier.h"
#include "attestation/snp/verifier.h"
#include "attestation/tpm/evidence.h"
#include "attestation/tpm/verifier.h"
#include "cli/commands.h"
#include "cli/terminal_text.h"
#include "core/encoding.h"
#include "core/file_io.h"

namespace sigil::cli {
namespace {

struct AttestArgs {
  std::string tee, evidence, at, expect_report_data, expect_qualifying_data;
  std::string message, signature, pcrs;  // tpm2_quote's three output files
  std::vector<std::string> collateral, trust_anchors, aks;
};

// Evidence files come raw, as hex, or as base64 (the forms vendors' tools produce).
Result<Bytes> ReadEvidence(const std::string& path) {
  SIGIL_ASSIGN_OR_RETURN(Bytes raw, ReadFile(path, 16 << 20));
  std::string text(raw.begin(), raw.end());
  auto first = text.find_first_not_of(" \t\r\n");
  auto last = text.find_last_not_of(" \t\r\n");
  if (first == std::string::npos) return Fail(Code::kInvalidArgument, path + ": empty evidence file");
  std::string trimmed = text.substr(first, last - first + 1);
  if (auto hex = HexDecode(trimmed)) return *hex;
  if (auto b64 = Base64Decode(trimmed)) return *b64;
  if (auto b64u = Base64UrlDecode(trimmed)) return *b64u;
  return raw;
}

Result<std::chrono::system_clock::time_point> ParseTime(const std::string& s) {
  if (s.empty()) return std::chrono::system_clock::now();
  std::tm tm{};
  const char* end = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == nullptr || (*end != 'Z' && *end != '\0')) {
    return Fail(Code::kInvalidArgument, "--at '" + s + "': expected RFC 3339 UTC, e.g. 2024-01-01T00:00:00Z");
  }
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

Result<std::vector<Bytes>> ReadAll(const std::vector<std::string>& files) {
  std::vector<Bytes> out;
  for (const auto& f : files) {
    SIGIL_ASSIGN_OR_RETURN(Bytes b, ReadFile(f));
    out.push_back(std::move(b));
  }
  return out;
}

Result<std::unique_ptr<attestation::Verifier>> MakeVerifier(const AttestArgs& a) {
  if (a.tee == "tpm") {
    attestation::tpm::TpmConfig cfg;
    SIGIL_ASSIGN_OR_RETURN(cfg.registered_aks, ReadAll(a.aks));
    if (cfg.registered_aks.empty()) return Fail(Code::kInvalidArgument, "--tee tpm needs --ak AK.pem (the attestation key)");
    return attestation::tpm::TpmVerifier::Create(std::move(cfg));
  }
  SIGIL_ASSIGN_OR_RETURN(std::vector<Bytes> roots, ReadAll(a.trust_anchors));
  if (roots.empty()) {
    return Fail(Code::kInvalidArgument, "--trust-anchor: at least one root certificate is required "
                                        "(AMD ARK or KDS cert_chain for sev-snp; Intel SGX Root CA for tdx/sgx)");
  }
  if (a.tee == "sev-snp") {
    attestation::snp::SnpConfig cfg;
    cfg.anchors.roots = std::move(roots);
    return attestation::snp::SnpVerifier::Create(std::move(cfg));
  }
  if (a.tee == "tdx" || a.tee == "sgx") {
    attestation::dcap::DcapConfig cfg;
    cfg.trusted_root_certs = std::move(roots);
    return attestation::dcap::DcapVerifier::Create(
        a.tee == "tdx" ? attestation::dcap::DcapTee::kTdx : attestation::dcap::DcapTee::kSgx, cfg);
  }
  return Fail(Code::kInvalidArgument, "--tee '" + a.tee + "': supported: sev-snp, tdx, sgx, tpm");
}

// TPM evidence: Sigil's JSON document, or built from the files tpm2_quote writes.
Result<Bytes> TpmEvidence(const AttestArgs& a) {
  if (!a.evidence.empty()) return ReadFile(a.evidence);
  if (a.message.empty() || a.signature.empty() || a.pcrs.empty()) {
    return Fail(Code::kInvalidArgument, "--tee tpm needs --evidence FILE, or --message, --signature and --pcrs");
  }
  SIGIL_ASSIGN_OR_RETURN(Bytes message, ReadFile(a.message));
  SIGIL_ASSIGN_OR_RETURN(Bytes signature, ReadFile(a.signature));
  SIGIL_ASSIGN_OR_RETURN(Bytes pcrs, ReadFile(a.pcrs));
  SIGIL_ASSIGN_OR_RETURN(Bytes ak, ReadFile(a.aks.front()));
  return attestation::tpm::EvidenceFromTpm2Tools(message, signature, pcrs, ak);
}

int Verify(const GlobalOptions& g, const AttestArgs& a) {
  auto verifier = MakeVerifier(a);
  if (!verifier) return ReportError(verifier.error());
  if (a.tee != "tpm" && a.evidence.empty()) return ReportError(Error(Code::kInvalidArgument, "--evidence is required"));
  auto evidence = a.tee == "tpm" ? TpmEvidence(a) : ReadEvidence(a.evidence);
  if (!evidence) return ReportError(evidence.error());
  Bytes collateral;
  for (const auto& f : a.collateral) {
    auto b = ReadFile(f);
    if (!b) return ReportError(b.error());
    if (a.collateral.size() == 1) {
      collateral = std::move(*b);
    } else {
      collateral.insert(collateral.end(), b->begin(), b->end());  // concatenated PEM
      collateral.push_back('\n');
    }
  }
  Bytes expected;
  if (!a.expect_report_data.empty()) {
    auto h = HexDecode(a.expect_report_data);
    if (!h) return ReportError(h.error().Wrap("--expect-report-data"));
    expected = std::move(*h);
  }
  if (!a.expect_qualifying_data.empty()) {
    // A TPM quote's qualifying data holds the first 32 bytes of the 64-byte binding.
    auto h = HexDecode(a.expect_qualifying_data);
    if (!h || h->size() != 32) return ReportError(Error(Code::kInvalidArgument, "--expect-qualifying-data: expected 32 bytes of hex"));
    expected = std::move(*h);
    expected.resize(64, 0);
  }
  auto now = ParseTime(a.at);
  if (!now) return ReportError(now.error());
  auto claims = (*verifier)->Verify({*evidence, collateral, expected, *now});
  if (!claims) {
    if (g.json) {
      Json out{{"ok", false}, {"code", std::string(CodeName(claims.error().code()))}, {"message", claims.error().message()}};
      std::printf("%s\n", out.dump(2, ' ', false, Json::error_handler_t::replace).c_str());
    } else {
      std::printf("attest verify: REFUSED (%s): %s\n", std::string(CodeName(claims.error().code())).c_str(),
                  ForTerminal(claims.error().message()).c_str());
    }
    return 4;
  }
  if (g.json) {
    std::printf("%s\n", Json{{"ok", true}, {"claims", claims->ToJson()}}.dump(2, ' ', false, Json::error_handler_t::replace).c_str());
  } else {
    std::printf("attest verify: OK%s\n", expected.empty() ? " (report data not checked: no --expect-report-data)" : "");
    for (const auto& [k, v] : claims->values()) std::printf("  %s = %s\n", ForTerminal(k).c_str(), ForTerminal(attestation::ClaimToString(v)).c_str());
  }
  return 0;
}

}  // namespace

void AddAttestCommands(CLI::App& app, GlobalOptions& g, std::vector<Command>& out) {
  auto* attest = app.add_subcommand("attest", "verify attestation evidence offline (the broker's code path)");
  attest->require_subcommand(1);
  auto a = std::make_shared<AttestArgs>();
  auto* verify = attest->add_subcommand("verify", "verify one piece of evidence and print its claims");
  verify->add_option("--tee", a->tee, "sev-snp, tdx, sgx or tpm")->required();
  verify->add_option("--evidence", a->evidence, "evidence file (raw, hex or base64; tpm: sigil-tpm-quote/v1 JSON)")->check(CLI::ExistingFile);
  verify->add_option("--ak", a->aks, "tpm: registered attestation key (PEM/DER SPKI)")->check(CLI::ExistingFile);
  verify->add_option("--message", a->message, "tpm: TPMS_ATTEST written by tpm2_quote --message")->check(CLI::ExistingFile);
  verify->add_option("--signature", a->signature, "tpm: TPMT_SIGNATURE written by tpm2_quote --signature")->check(CLI::ExistingFile);
  verify->add_option("--pcrs", a->pcrs, "tpm: PCR values written by tpm2_quote --pcr (values format) or hex lines")->check(CLI::ExistingFile);
  verify->add_option("--expect-qualifying-data", a->expect_qualifying_data, "tpm: expected qualifying data, hex (32 bytes)");
  verify->add_option("--collateral", a->collateral, "sev-snp: VCEK (DER/PEM), ASK/ARK chain PEM or JSON; tdx/sgx: collateral JSON (attestation/dcap/README.md)")->check(CLI::ExistingFile);
  verify->add_option("--trust-anchor", a->trust_anchors, "trusted root certificate(s): AMD ARK / KDS cert_chain, or the Intel SGX Root CA")->check(CLI::ExistingFile);
  verify->add_option("--at", a->at, "verification time, RFC 3339 UTC (default: now)");
  verify->add_option("--expect-report-data", a->expect_report_data, "expected report data / binding, hex (64 bytes)");
  out.push_back({verify, [&g, a] { return Verify(g, *a); }});
}

}  // namespace sigil::cli
