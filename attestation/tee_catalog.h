// The one registration point for TEE types on the verifying side. Each entry says how to build
// the TEE's verifier from what an operator configured (trust anchors and, in the broker, the
// collateral store and per-tenant TPM keys); sigild (broker/data_dir.cpp) and `sigil attest
// verify` (cli/commands_attest.cpp) both build verifiers only through this table, so adding a
// TEE is its folder under attestation/ plus one entry in tee_catalog.cpp. The workload side has
// the matching table of attesters (loader/attester_factory.cpp).
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "attestation/dcap/verifier.h"
#include "attestation/tpm/verifier.h"
#include "attestation/verifier.h"
#include "core/ossl.h"

namespace sigil::attestation {

// Everything a verifier may be configured with. Offline tools fill `trust_anchors` (and the
// explicit opt-outs); the broker also fills the hooks into its store. A TEE reads what it needs.
struct VerifierSetup {
  // Trust anchors as the operator supplied them (PEM or DER files): the AMD ARKs, the Intel SGX
  // Root CA, TPM AKs, ... (TeeKind::anchors says which).
  std::vector<Bytes> trust_anchors;
  // Offline only (`sigil attest verify --no-collateral`, tdx and sgx): check signatures and
  // chains and nothing that needs collateral, and say so in the claims.
  bool signature_and_chain_only = false;
  // Offline only (`sigil attest verify` without an expected binding): TEEs that otherwise refuse
  // an empty VerifyInput::expected_binding (cca, psa) skip that one comparison; the tool says so.
  bool allow_unbound = false;
  // Broker only: certificates and collateral imported with `sigil collateral import`.
  std::function<std::vector<X509Ptr>()> snp_cert_source;
  dcap::DcapCollateralSource dcap_collateral_source;
  // Broker only: per-tenant TPM attestation keys and the durable replay state (the store).
  std::function<Result<std::vector<tpm::RegisteredAk>>(std::string_view tenant)> tpm_tenant_aks;
  std::function<Result<void>(const std::string& ak, const tpm::ClockState& clock)> tpm_replay_check;
  // NVIDIA Device Identity CA roots (broker: DATA/trust/nvidia-gpu/, kGpuTrustDir; CLI:
  // --gpu-trust-anchor). Empty: TEEs that carry GPUs refuse composite evidence.
  std::vector<Bytes> gpu_trust_anchors;
};

// The broker's trust directory for the GPU roots of composite attestation (DATA/trust/<this>/).
inline constexpr std::string_view kGpuTrustDir = "nvidia-gpu";

struct TeeKind {
  std::string_view tee;  // Verifier::tee(), the "tee" of the wire protocol
  // The broker's DATA/trust/<trust_dir>/ holds this TEE's anchors (several TEEs may share one).
  // Empty: offline only (`sigil attest verify`), never enabled in sigild: a GPU report proves
  // nothing about the CPU that asks for the key, so it waits for composite attestation.
  std::string_view trust_dir;
  // What the anchors are, for messages and help: "AMD ARK certificates or KDS cert_chain".
  std::string_view anchors;
  // True if the TEE can be used with store-held trust alone (TPM AKs registered per tenant), so
  // the broker enables it even with an empty trust directory.
  bool enabled_without_anchors = false;
  // The broker wraps the verifier in PurposeBoundVerifier (purpose_bound.h): hardware reports
  // with 64 bytes of report data and no runtime measurement of the engine.
  bool purpose_bound = false;
  // Joins several --collateral files into the one VerifyInput::collateral (null: one file only).
  Result<Bytes> (*combine_collateral)(const std::vector<Bytes>& files) = nullptr;
  Result<std::unique_ptr<Verifier>> (*build)(VerifierSetup setup) = nullptr;
  // A CPU TEE whose evidence may come in a composite bundle with one report per GPU
  // (attestation/composite): BuildVerifier wraps it in GpuCompositeVerifier.
  bool carries_gpus = true;
};

// Every TEE with a verifier, in a fixed order. The dev TEE is not here: it is enabled only by
// `sigild init --dev-tee`, from its own key file (attestation/dev/README.md).
std::span<const TeeKind> TeeKinds();

// The entry for `tee`, or kInvalidArgument listing the supported types.
Result<const TeeKind*> FindTeeKind(std::string_view tee);

// `kind`'s verifier as sigild and `sigil attest verify` both use it: kind.build, then wrapped in
// PurposeBoundVerifier if kind.purpose_bound, then in GpuCompositeVerifier if kind.carries_gpus
// (with an nvidia-gpu verifier from setup.gpu_trust_anchors, or none if that is empty). Fails as
// kind.build does, or with kInvalidArgument naming a GPU root that does not parse.
Result<std::unique_ptr<Verifier>> BuildVerifier(const TeeKind& kind, VerifierSetup setup);

// BuildVerifier's last step on its own: `cpu` wrapped in GpuCompositeVerifier with an nvidia-gpu
// verifier from `gpu_roots` (none if empty). sigild uses it for the dev TEE, which has no
// catalog entry. kInvalidArgument if a GPU root does not parse.
Result<std::unique_ptr<Verifier>> WithGpus(std::unique_ptr<Verifier> cpu, std::vector<Bytes> gpu_roots);

}  // namespace sigil::attestation
