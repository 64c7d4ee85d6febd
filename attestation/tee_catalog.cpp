#include "attestation/tee_catalog.h"

#include "attestation/azure/verifier.h"
#include "attestation/cca/cca_verifier.h"
#include "attestation/cca/psa_verifier.h"
#include "attestation/composite/verifier.h"
#include "attestation/nvidia/verifier.h"
#include "attestation/purpose_bound.h"
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

Result<std::unique_ptr<Verifier>> BuildNvidia(VerifierSetup s) {
  nvidia::NvidiaConfig cfg;
  cfg.roots = std::move(s.trust_anchors);
  return nvidia::NvidiaVerifier::Create(std::move(cfg));
}

Result<std::unique_ptr<Verifier>> BuildCca(VerifierSetup s) {
  cca::CcaConfig cfg;
  // Keys from files (PEM bundles, JWK sets) are accepted for any instance id; the id is a claim
  // a policy can pin.
  SIGIL_ASSIGN_OR_RETURN(cfg.cpaks, cca::KeyAnchorsFromFiles(s.trust_anchors, "CPAK"));
  cfg.allow_unbound = s.allow_unbound;
  return cca::CcaVerifier::Create(std::move(cfg));
}

Result<std::unique_ptr<Verifier>> BuildPsa(VerifierSetup s) {
  cca::PsaConfig cfg;
  SIGIL_ASSIGN_OR_RETURN(cfg.iaks, cca::KeyAnchorsFromFiles(s.trust_anchors, "IAK"));
  cfg.allow_unbound = s.allow_unbound;
  return cca::PsaVerifier::Create(std::move(cfg));
}

Result<std::unique_ptr<Verifier>> BuildAzureSnp(VerifierSetup s) {
  azure::AzureConfig cfg;
  cfg.platform = azure::AzurePlatform::kSnp;
  cfg.snp.anchors.roots = std::move(s.trust_anchors);
  cfg.snp.cert_source = std::move(s.snp_cert_source);
  return azure::AzureVtpmVerifier::Create(std::move(cfg));
}

// The TDREPORT in the HCL report is authenticated only by a TD quote made from it, which the
// evidence carries ("td_quote"), verified by DCAP against the Intel root and collateral.
Result<std::unique_ptr<Verifier>> BuildAzureTdx(VerifierSetup s) {
  if (s.trust_anchors.empty()) return Fail(Code::kInvalidArgument, "azure-tdx-vtpm needs the Intel SGX Root CA");
  azure::AzureConfig cfg;
  cfg.platform = azure::AzurePlatform::kTdx;
  dcap::DcapConfig tdx;
  tdx.trusted_root_certs = std::move(s.trust_anchors);
  tdx.collateral_source = std::move(s.dcap_collateral_source);
  cfg.tdx = std::move(tdx);
  return azure::AzureVtpmVerifier::Create(std::move(cfg));
}

Result<Bytes> JoinPem(const std::vector<Bytes>& files) {
  Bytes out;
  for (const auto& f : files) {
    out.insert(out.end(), f.begin(), f.end());
    if (!f.empty() && f.back() != '\n') out.push_back('\n');
  }
  return out;
}

// One line per TEE.
constexpr TeeKind kTees[] = {
    {"sev-snp", "sev-snp", "AMD ARK certificates or KDS cert_chain files", false, true,
     &snp::CombineCollateral, &BuildSnp},
    {"tdx", "intel", "the Intel SGX Root CA certificate", false, true, nullptr, &BuildTdx},
    {"sgx", "intel", "the Intel SGX Root CA certificate", false, false, nullptr, &BuildSgx},
    {"tpm", "tpm-aks", "TPM attestation key public keys (PEM/DER SubjectPublicKeyInfo)", true, false, nullptr,
     &BuildTpm},
    // Not purpose_bound, like tpm: the vTPM quote proves the purpose through the purpose PCR and
    // its log (workload.* from attestation/azure's quote layer). The HCL report data is the
    // runtime data's hash, fixed at boot, and an envelope would only add a second way to claim a
    // purpose, through the quote's qualifying data, with no PCR and no event history.
    {"azure-snp-vtpm", "sev-snp", "AMD ARK certificates or KDS cert_chain files", false, false,
     &snp::CombineCollateral, &BuildAzureSnp},
    {"azure-tdx-vtpm", "intel", "the Intel SGX Root CA (for the TD quote made from the TDREPORT)", false, false,
     nullptr, &BuildAzureTdx},
    // A realm token's challenge is 64 bytes of report data, and sigil-load gets it through
    // configfs-tsm like SNP/TDX: purpose-bound the same way (raw tokens pass through unchanged).
    {"cca", "cca-cpak", "CCA platform attestation keys (PEM/DER SPKI or JWK)", false, true, nullptr, &BuildCca},
    {"psa", "psa-iak", "PSA initial attestation keys (PEM/DER SPKI or JWK)", false, false, nullptr, &BuildPsa},
    // A GPU report alone proves nothing about the CPU that asks for the key: offline only, and
    // inside composite bundles of the CPU TEEs above.
    {"nvidia-gpu", "", "NVIDIA Device Identity CA root certificates", false, false, &JoinPem, &BuildNvidia, false},
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

Result<std::unique_ptr<Verifier>> BuildVerifier(const TeeKind& kind, VerifierSetup setup) {
  std::vector<Bytes> gpu_roots = std::move(setup.gpu_trust_anchors);
  SIGIL_ASSIGN_OR_RETURN(std::unique_ptr<Verifier> v, kind.build(std::move(setup)));
  if (kind.purpose_bound) v = std::make_unique<PurposeBoundVerifier>(std::move(v));
  if (!kind.carries_gpus) return v;
  return WithGpus(std::move(v), std::move(gpu_roots));
}

Result<std::unique_ptr<Verifier>> WithGpus(std::unique_ptr<Verifier> cpu, std::vector<Bytes> gpu_roots) {
  std::shared_ptr<const Verifier> gpu;
  if (!gpu_roots.empty()) {
    VerifierSetup gpu_setup;
    gpu_setup.trust_anchors = std::move(gpu_roots);
    auto built = BuildNvidia(std::move(gpu_setup));
    if (!built) return std::move(built).error().Wrap("GPU trust anchors");
    gpu = std::move(*built);
  }
  return std::unique_ptr<Verifier>(std::make_unique<composite::GpuCompositeVerifier>(std::move(cpu), std::move(gpu)));
}

}  // namespace sigil::attestation
