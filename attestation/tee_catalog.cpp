#include "attestation/tee_catalog.h"

#include "attestation/snp/collateral.h"
#include "attestation/snp/verifier.h"

namespace sigil::attestation {
namespace {

Result<std::unique_ptr<Verifier>> BuildSnp(VerifierSetup s) {
  snp::SnpConfig cfg;
  cfg.anchors.roots = std::move(s.trust_anchors);
  cfg.cert_source = std::move(s.snp_cert_source);
  return snp::SnpVerifier::Create(std::move(cfg));
}

Result<std::unique_ptr<Verifier>> BuildDcap(dcap::DcapTee tee, VerifierSetup s) {
  dcap::DcapConfig cfg;
  cfg.trusted_root_certs = std::move(s.trust_anchors);
  cfg.collateral_source = std::move(s.dcap_collateral_source);
  cfg.signature_and_chain_only = s.signature_and_chain_only;
  return dcap::DcapVerifier::Create(tee, cfg);
}

Result<std::unique_ptr<Verifier>> BuildTdx(VerifierSetup s) { return BuildDcap(dcap::DcapTee::kTdx, std::move(s)); }
Result<std::unique_ptr<Verifier>> BuildSgx(VerifierSetup s) { return BuildDcap(dcap::DcapTee::kSgx, std::move(s)); }

Result<std::unique_ptr<Verifier>> BuildTpm(VerifierSetup s) {
  tpm::TpmConfig cfg;
  cfg.registered_aks = std::move(s.trust_anchors);
  cfg.tenant_aks = std::move(s.tpm_tenant_aks);
  cfg.replay_check = std::move(s.tpm_replay_check);
  return tpm::TpmVerifier::Create(std::move(cfg));
}

// One line per TEE.
constexpr TeeKind kTees[] = {
    {"sev-snp", "sev-snp", "AMD ARK certificates or KDS cert_chain files", false, true, &snp::CombineCollateral,
     &BuildSnp},
    {"tdx", "intel", "the Intel SGX Root CA certificate", false, true, nullptr, &BuildTdx},
    {"sgx", "intel", "the Intel SGX Root CA certificate", false, false, nullptr, &BuildSgx},
    {"tpm", "tpm-aks", "TPM attestation key public keys (PEM/DER SubjectPublicKeyInfo)", true, false, nullptr,
     &BuildTpm},
};

}  // namespace

std::span<const TeeKind> TeeKinds() { return kTees; }

Result<const TeeKind*> FindTeeKind(std::string_view tee) {
  std::string names;
  for (const auto& k : kTees) {
    if (k.tee == tee) return &k;
    names += (names.empty() ? "" : ", ") + std::string(k.tee);
  }
  return Fail(Code::kInvalidArgument, "tee '" + std::string(tee) + "' has no verifier (supported: " + names + ")");
}

}  // namespace sigil::attestation
