// sigil attest verify: verifies one piece of evidence offline through the same verifier code
// the broker uses, and prints the normalised claims or the precise refusal (exit 4).
#include <ctime>

#include "attestation/azure/evidence.h"
#include "attestation/azure/hcl_verify.h"
#include "attestation/composite/bundle.h"
#include "attestation/snp/collateral.h"
#include "attestation/tee_catalog.h"
#include "attestation/tpm/evidence.h"
#include "attestation/tpm/verifier.h"
#include "cli/commands.h"
#include "cli/terminal_text.h"
#include "core/encoding.h"
#include "core/file_io.h"

namespace sigil::cli {
namespace {

struct AttestArgs {
  std::string tee, evidence, at, expect_report_data, expect_qualifying_data, expect_nonce;
  std::string message, signature, pcrs;  // tpm2_quote's three output files
  std::vector<std::string> collateral, trust_anchors, aks, gpu_trust_anchors;
  bool no_collateral = false;  // tdx/sgx: quote signature and PCK chain only
};

// Every failure of `attest verify` with --json: {"ok": false, "error": {"code", "message"}} on
// stdout, the shape of the broker's error bodies (docs/protocol.md) plus "ok" as in the success
// output. `exit_code` is the same as without --json.
int JsonFailure(const Error& e, int exit_code) {
  Json out{{"ok", false},
           {"error", {{"code", std::string(CodeName(e.code()))}, {"message", e.message()}}}};
  std::printf("%s\n", out.dump(2, ' ', false, Json::error_handler_t::replace).c_str());
  return exit_code;
}

// A usage or input error (exit code by Code, as ReportError).
int UsageError(const GlobalOptions& g, const Error& e) {
  return g.json ? JsonFailure(e, ExitCodeFor(e.code())) : ReportError(e);
}

// The evidence was read but did not verify: exit 4.
int Refused(const GlobalOptions& g, const Error& e) {
  if (g.json) return JsonFailure(e, 4);
  std::printf("attest verify: REFUSED (%s): %s\n", std::string(CodeName(e.code())).c_str(),
              ForTerminal(e.message()).c_str());
  return 4;
}

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

// Through the one registration point (attestation/tee_catalog.h), as the broker does; the TPM's
// anchors are its --ak keys, every other TEE's its --trust-anchor files.
Result<std::unique_ptr<attestation::Verifier>> MakeVerifier(const AttestArgs& a) {
  SIGIL_ASSIGN_OR_RETURN(const attestation::TeeKind* kind, attestation::FindTeeKind(a.tee));
  const bool dcap = a.tee == "tdx" || a.tee == "sgx";
  if (a.no_collateral && !dcap) return Fail(Code::kInvalidArgument, "--no-collateral is for --tee tdx or sgx");
  if (a.no_collateral && !a.collateral.empty()) {
    return Fail(Code::kInvalidArgument, "--no-collateral and --collateral exclude each other");
  }
  attestation::VerifierSetup setup;
  setup.signature_and_chain_only = a.no_collateral;
  setup.allow_unbound = a.expect_report_data.empty() && a.expect_nonce.empty();
  const bool tpm = a.tee == "tpm";
  SIGIL_ASSIGN_OR_RETURN(setup.trust_anchors, ReadAll(tpm ? a.aks : a.trust_anchors));
  SIGIL_ASSIGN_OR_RETURN(setup.gpu_trust_anchors, ReadAll(a.gpu_trust_anchors));
  if (!setup.gpu_trust_anchors.empty() && !kind->carries_gpus) {
    return Fail(Code::kInvalidArgument, "--gpu-trust-anchor is for CPU TEEs whose evidence is a composite bundle");
  }
  if (setup.trust_anchors.empty()) {
    return Fail(Code::kInvalidArgument, tpm ? "--tee tpm needs --ak AK.pem (the attestation key)"
                                            : "--trust-anchor: at least one is required for --tee " + a.tee + " (" +
                                                  std::string(kind->anchors) + ")");
  }
  if (dcap && a.collateral.empty() && !a.no_collateral) {
    return Fail(Code::kInvalidArgument, "--tee " + a.tee + " needs --collateral FILE (TCB info, QE identity, CRLs: "
                                        "attestation/dcap/README.md), or --no-collateral to check the quote "
                                        "signature and PCK chain only");
  }
  // Wrapped as sigild wraps it: purpose-bound envelopes and composite CPU + GPU bundles.
  return attestation::BuildVerifier(*kind, std::move(setup));
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
  auto evidence = attestation::tpm::EvidenceFromTpm2Tools(message, signature, pcrs, ak);
  if (!evidence) return std::move(evidence).error().Wrap("--message/--signature/--pcrs");
  return evidence;
}

// The --collateral files as VerifyInput::collateral: one file as it is; for sev-snp several
// files (e.g. the VCEK and the KDS cert_chain) joined by what their certificates are.
Result<Bytes> Collateral(const AttestArgs& a) {
  SIGIL_ASSIGN_OR_RETURN(std::vector<Bytes> files, ReadAll(a.collateral));
  if (files.empty()) return Bytes{};
  if (files.size() == 1) return std::move(files.front());
  SIGIL_ASSIGN_OR_RETURN(const attestation::TeeKind* kind, attestation::FindTeeKind(a.tee));
  if (kind->combine_collateral != nullptr) return kind->combine_collateral(files);
  return Fail(Code::kInvalidArgument, "--tee " + a.tee + " takes one --collateral file");
}

// The expected values: --expect-report-data (the 64-byte binding, every TEE) and, for tpm,
// --expect-qualifying-data (the quote's extraData exactly, 1..64 bytes).
struct Expected {
  Bytes binding;
  Bytes qualifying_data;
};

Result<Expected> ParseExpected(const AttestArgs& a) {
  Expected out;
  if (!a.expect_report_data.empty()) {
    auto h = HexDecode(a.expect_report_data);
    if (!h) return h.error().Wrap("--expect-report-data");
    out.binding = std::move(*h);
  }
  if (!a.expect_nonce.empty()) {
    if (a.tee != "nvidia-gpu") return Fail(Code::kInvalidArgument, "--expect-nonce is for --tee nvidia-gpu");
    if (!out.binding.empty()) return Fail(Code::kInvalidArgument, "--expect-nonce and --expect-report-data exclude each other");
    auto h = HexDecode(a.expect_nonce);
    if (!h || h->size() != 32) return Fail(Code::kInvalidArgument, "--expect-nonce: expected 32 bytes of hex (the SPDM request nonce)");
    out.binding = std::move(*h);  // a 32-byte expected binding is the nonce itself (nvidia/verifier.h)
  }
  if (!a.expect_qualifying_data.empty()) {
    if (a.tee != "tpm") return Fail(Code::kInvalidArgument, "--expect-qualifying-data is for --tee tpm");
    auto h = HexDecode(a.expect_qualifying_data);
    if (!h || h->empty() || h->size() > attestation::tpm::kMaxQualifyingData) {
      return Fail(Code::kInvalidArgument, "--expect-qualifying-data: expected 1.." +
                                              std::to_string(attestation::tpm::kMaxQualifyingData) +
                                              " bytes of hex (a TPM2B_DATA)");
    }
    out.qualifying_data = std::move(*h);
  }
  return out;
}

// What this run did not check, as JSON names and one human sentence each.
std::vector<std::pair<std::string, std::string>> NotChecked(const AttestArgs& a, const Expected& x) {
  std::vector<std::pair<std::string, std::string>> out;
  if (x.binding.empty() && x.qualifying_data.empty()) {
    out.emplace_back("report_data", a.tee == "tpm" ? "qualifying data (extraData): no --expect-qualifying-data "
                                                     "or --expect-report-data"
                                                   : "report data: no --expect-report-data");
  }
  if (a.no_collateral) {
    const char* why = " (--no-collateral: quote signature and PCK chain only)";
    out.emplace_back("tcb_status", std::string("TCB status") + why);
    out.emplace_back("revocation", std::string("revocation (PCK and root CRLs)") + why);
    out.emplace_back("qe_identity", std::string("QE identity") + why);
  }
  return out;
}

int PrintOk(const GlobalOptions& g, const attestation::Claims& claims,
            const std::vector<std::pair<std::string, std::string>>& not_checked, const std::string& ak_pem = "") {
  if (g.json) {
    Json names = Json::array();
    for (const auto& n : not_checked) names.push_back(n.first);
    Json out{{"ok", true}, {"not_checked", std::move(names)}, {"claims", claims.ToJson()}};
    if (!ak_pem.empty()) out["ak_pem"] = ak_pem;
    std::printf("%s\n", out.dump(2, ' ', false, Json::error_handler_t::replace).c_str());
    return 0;
  }
  std::printf("attest verify: OK%s\n", not_checked.empty() ? "" : " (partial: see NOT checked)");
  for (const auto& n : not_checked) std::printf("  NOT checked: %s\n", n.second.c_str());
  for (const auto& [k, v] : claims.values()) {
    std::printf("  %s = %s\n", ForTerminal(k).c_str(), ForTerminal(attestation::ClaimToString(v)).c_str());
  }
  if (!ak_pem.empty()) std::printf("  vTPM attestation key (HCLAkPub):\n%s", ak_pem.c_str());
  return 0;
}

// Azure confidential VMs: the HCL report alone (hardware layer + runtime-data binding, printing
// the vTPM AK), or with the quote of tpm2_quote's files (or sigil-azure-vtpm/v1 evidence) all
// three layers through the broker's verifier.
int VerifyAzure(const GlobalOptions& g, const AttestArgs& a, const attestation::TeeKind& kind, const Bytes& binding,
                std::chrono::system_clock::time_point now) {
  auto evidence = ReadEvidence(a.evidence);
  if (!evidence) return UsageError(g, evidence.error());
  auto collateral = Collateral(a);
  if (!collateral) return UsageError(g, collateral.error());
  const bool is_bundle = attestation::azure::ParseAzureEvidence(*evidence).has_value();
  const bool quote_files = !a.message.empty() || !a.signature.empty() || !a.pcrs.empty();
  if (is_bundle && quote_files) {
    return UsageError(g, Error(Code::kInvalidArgument, "--message/--signature/--pcrs go with an HCL report, not with "
                                                       "sigil-azure-vtpm/v1 evidence (it carries its quote)"));
  }
  if (!is_bundle && !quote_files) {  // the HCL report alone
    attestation::azure::AzureConfig cfg;
    cfg.platform = a.tee == "azure-tdx-vtpm" ? attestation::azure::AzurePlatform::kTdx
                                             : attestation::azure::AzurePlatform::kSnp;
    auto anchors = ReadAll(a.trust_anchors);
    if (!anchors) return UsageError(g, anchors.error());
    cfg.snp.anchors.roots = std::move(*anchors);
    auto v = attestation::azure::VerifyHclReport(*evidence, *collateral, cfg, now);
    if (!v) return Refused(g, v.error());
    std::vector<std::pair<std::string, std::string>> not_checked{
        {"quote", "the vTPM quote layer: no --message/--signature/--pcrs (PCRs and the binding are NOT verified)"}};
    if (!v->hardware_verified) not_checked.emplace_back("hardware", "hardware report: " + v->hardware_status);
    return PrintOk(g, v->claims, not_checked, v->ak_pem);
  }
  Bytes bundle = *evidence;
  if (quote_files) {
    if (a.message.empty() || a.signature.empty() || a.pcrs.empty()) {
      return UsageError(g, Error(Code::kInvalidArgument, "the quote layer needs --message, --signature and --pcrs"));
    }
    auto bound = attestation::azure::ParseAndBindHclReport(*evidence);
    if (!bound) return Refused(g, bound.error());
    auto files = ReadAll({a.message, a.signature, a.pcrs});
    if (!files) return UsageError(g, files.error());
    auto quote = attestation::tpm::EvidenceFromTpm2Tools((*files)[0], (*files)[1], (*files)[2], bound->ak_spki_der);
    if (!quote) return UsageError(g, quote.error().Wrap("--message/--signature/--pcrs"));
    auto made = attestation::azure::MakeAzureEvidence(*evidence, *quote);
    if (!made) return UsageError(g, made.error());
    bundle = std::move(*made);
  }
  attestation::VerifierSetup setup;
  auto anchors = ReadAll(a.trust_anchors);
  if (!anchors) return UsageError(g, anchors.error());
  setup.trust_anchors = std::move(*anchors);
  auto verifier = kind.build(std::move(setup));
  if (!verifier) return UsageError(g, verifier.error());
  auto claims = (*verifier)->Verify({bundle, *collateral, binding, now});
  if (!claims) return Refused(g, claims.error());
  std::vector<std::pair<std::string, std::string>> not_checked;
  if (binding.empty()) not_checked.emplace_back("report_data", "the quote's qualifying data: no --expect-report-data");
  return PrintOk(g, *claims, not_checked);
}

int Verify(const GlobalOptions& g, const AttestArgs& a) {
  if (a.tee.starts_with("azure-")) {
    auto kind = attestation::FindTeeKind(a.tee);
    if (!kind) return UsageError(g, kind.error());
    if (a.evidence.empty()) return UsageError(g, Error(Code::kInvalidArgument, "--evidence is required (the HCL report)"));
    auto expected = ParseExpected(a);
    if (!expected) return UsageError(g, expected.error());
    auto now = ParseTime(a.at);
    if (!now) return UsageError(g, now.error());
    return VerifyAzure(g, a, **kind, expected->binding, *now);
  }
  auto verifier = MakeVerifier(a);
  if (!verifier) return UsageError(g, verifier.error());
  if (a.tee != "tpm" && a.evidence.empty()) return UsageError(g, Error(Code::kInvalidArgument, "--evidence is required"));
  auto expected = ParseExpected(a);
  if (!expected) return UsageError(g, expected.error());
  if (a.tee == "nvidia-gpu" && expected->binding.empty()) {
    return UsageError(g, Error(Code::kInvalidArgument, "--tee nvidia-gpu needs --expect-nonce HEX (the request nonce "
                                                       "the GPU signed) or --expect-report-data (a 64-byte binding)"));
  }
  auto now = ParseTime(a.at);
  if (!now) return UsageError(g, now.error());
  auto evidence = a.tee == "tpm" ? TpmEvidence(a) : ReadEvidence(a.evidence);
  if (!evidence) return UsageError(g, evidence.error());
  auto collateral = Collateral(a);
  if (!collateral) return UsageError(g, collateral.error());
  if (attestation::composite::LooksLikeGpuBundle(*evidence) &&
      (expected->binding.size() != 64 || a.gpu_trust_anchors.empty())) {
    // The GPU nonce and the CPU report data both derive from the binding (docs/protocol.md).
    return UsageError(g, Error(Code::kInvalidArgument, "a composite CPU + GPU bundle needs --expect-report-data HEX "
                                                       "(the 64-byte binding) and --gpu-trust-anchor ROOT.pem"));
  }
  auto claims = (*verifier)->Verify({*evidence, *collateral, expected->binding, *now});
  if (!claims) return Refused(g, claims.error());
  if (!expected->qualifying_data.empty()) {
    auto qd = attestation::tpm::CheckQualifyingData(*evidence, expected->qualifying_data);
    if (!qd) return Refused(g, qd.error());
  }
  return PrintOk(g, *claims, NotChecked(a, *expected));
}

}  // namespace

void AddAttestCommands(CLI::App& app, GlobalOptions& g, std::vector<Command>& out) {
  auto* attest = app.add_subcommand("attest", "verify attestation evidence offline (the broker's code path)");
  attest->require_subcommand(1);
  auto a = std::make_shared<AttestArgs>();
  auto* verify = attest->add_subcommand("verify", "verify one piece of evidence and print its claims");
  // Files are not checked by CLI11 (ExistingFile) so that a missing file is reported like any
  // other error (as JSON with --json).
  std::string tees;
  for (const auto& k : attestation::TeeKinds()) tees += (tees.empty() ? "" : ", ") + std::string(k.tee);
  verify->add_option("--tee", a->tee, tees)->required();
  verify->add_option("--evidence", a->evidence,
                     "evidence file (raw, hex or base64; tpm: sigil-tpm-quote/v1 JSON); for a CPU TEE also a "
                     "sigil-gpu-composite/v1 bundle (CPU evidence plus GPU reports, docs/protocol.md)");
  verify->add_option("--ak", a->aks, "tpm: registered attestation key (PEM/DER SPKI)");
  verify->add_option("--message", a->message, "tpm: TPMS_ATTEST written by tpm2_quote -m/--message");
  verify->add_option("--signature", a->signature, "tpm: TPMT_SIGNATURE written by tpm2_quote -s/--signature");
  verify->add_option("--pcrs", a->pcrs,
                     "tpm: PCR values written by tpm2_quote -o/--pcr (its default serialized form, or -F values), "
                     "or hex lines");
  verify->add_option("--expect-qualifying-data", a->expect_qualifying_data,
                     "tpm: the quote's expected qualifying data (extraData, the nonce given to tpm2_quote -q), "
                     "hex, 1..64 bytes, compared exactly");
  verify->add_option("--collateral", a->collateral,
                     "sev-snp: VCEK/VLEK (DER/PEM), ASK/ARK chain PEM or JSON, repeatable in any order; "
                     "tdx/sgx: one collateral JSON (attestation/dcap/README.md); nvidia-gpu: the device chain PEM "
                     "(leaf first) and CRL PEM files; azure-snp-vtpm: as sev-snp");
  verify->add_flag("--no-collateral", a->no_collateral,
                   "tdx/sgx: check only the quote signature and PCK chain (NOT TCB status, revocation or QE "
                   "identity); say so in the output");
  verify->add_option("--trust-anchor", a->trust_anchors,
                     "trust anchors: AMD ARK / KDS cert_chain (sev-snp, azure-snp-vtpm), the Intel SGX Root CA "
                     "(tdx, sgx), the NVIDIA device root (nvidia-gpu), CPAK (cca) or IAK (psa) public keys (PEM or JWK)");
  verify->add_option("--gpu-trust-anchor", a->gpu_trust_anchors,
                     "composite bundles: NVIDIA Device Identity CA root (PEM/DER) for the GPU reports, repeatable; "
                     "the CPU evidence's own anchors stay --trust-anchor / --ak, its collateral --collateral");
  verify->add_option("--at", a->at, "verification time, RFC 3339 UTC (default: now)");
  verify->add_option("--expect-report-data", a->expect_report_data, "expected report data / binding, hex (64 bytes)");
  verify->add_option("--expect-nonce", a->expect_nonce,
                     "nvidia-gpu: the SPDM request nonce, hex (32 bytes); required unless --expect-report-data");
  out.push_back({verify, [&g, a] { return Verify(g, *a); }});
}

}  // namespace sigil::cli
