// GpuCompositeVerifier: CPU evidence of any TEE type plus one NVIDIA report per GPU, verified as
// one attestation (bundle.h, binding.h, docs/protocol.md "Composite CPU + GPU attestation").
// Wraps the CPU TEE's verifier; evidence that is not a bundle goes to it unchanged, so a TEE
// that can carry GPUs still takes plain CPU evidence (and yields no gpu.* claim).
//
// Claims of a bundle: the CPU verifier's claims, plus
//   gpu.count      integer, the number of GPUs (>= 1)
//   gpu.N.<name>   every claim of GPU N's verifier (N = 0.., in bundle order), e.g.
//                  gpu.0.measurement, gpu.0.nvidia.driver_version, gpu.0.nvidia.cc_mode
// Thread-safety: Verify() is const and safe to call concurrently if the wrapped ones are.
#pragma once

#include <memory>

#include "attestation/verifier.h"

namespace sigil::attestation::composite {

class GpuCompositeVerifier final : public Verifier {
 public:
  // `gpu` verifies one GPU report against a 32-byte nonce (the nvidia-gpu verifier); null when
  // no GPU trust anchors are configured, which makes every bundle a refusal.
  GpuCompositeVerifier(std::unique_ptr<Verifier> cpu, std::shared_ptr<const Verifier> gpu)
      : cpu_(std::move(cpu)), gpu_(std::move(gpu)) {}
  std::string_view tee() const override { return cpu_->tee(); }

  // For a bundle, in order (each failure names the GPU by its index):
  //  1. ParseGpuBundle (kMalformedEvidence); no GPU verifier configured (kVerificationFailed);
  //     expected_binding not 64 bytes (kInvalidArgument: there is no unbound composite mode);
  //  2. each report decoded (raw or hex); the same report twice (kVerificationFailed);
  //  3. the CPU evidence, with input.collateral, against CompositeCpuBinding(B, digest of the
  //     reports): a GPU list other than the one the CPU evidence was made for fails here;
  //  4. every GPU report against GpuNonce(B) with its own collateral;
  //  5. two reports signed by the same device key (nvidia.device_key) (kVerificationFailed):
  //     one GPU answering twice must not count as two.
  Result<Claims> Verify(const VerifyInput& input) const override;

 private:
  std::unique_ptr<Verifier> cpu_;
  std::shared_ptr<const Verifier> gpu_;
};

}  // namespace sigil::attestation::composite
