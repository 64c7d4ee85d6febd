#include "attestation/composite/verifier.h"

#include <set>
#include <string>

#include "attestation/composite/binding.h"
#include "attestation/composite/bundle.h"
#include "attestation/nvidia/report.h"
#include "core/digest.h"
#include "core/encoding.h"
#include "core/protocol.h"

namespace sigil::attestation::composite {
namespace {

std::string Gpu(std::size_t i) { return "gpu " + std::to_string(i); }

// Step 2 of Verify: raw reports, no report twice.
Result<std::vector<Bytes>> DecodeReports(const GpuBundle& bundle) {
  std::vector<Bytes> reports;
  // By digest: a set of the byte vectors themselves trips GCC 12's -O3 -Wstringop-overread
  // false positive in vector<=> (bench/run builds Release).
  std::set<std::string> seen;
  for (std::size_t i = 0; i < bundle.gpus.size(); ++i) {
    auto raw = nvidia::DecodeEvidence(bundle.gpus[i].report);
    if (!raw) return std::move(raw).error().Wrap(Gpu(i));
    if (!seen.insert(HexEncode(Sha256(*raw))).second) {
      return Fail(Code::kVerificationFailed, Gpu(i) + ": the same GPU report appears twice in the bundle");
    }
    reports.push_back(std::move(*raw));
  }
  return reports;
}

}  // namespace

Result<Claims> GpuCompositeVerifier::Verify(const VerifyInput& input) const {
  if (!LooksLikeGpuBundle(input.evidence)) return cpu_->Verify(input);
  SIGIL_ASSIGN_OR_RETURN(GpuBundle bundle, ParseGpuBundle(input.evidence));
  if (gpu_ == nullptr) {
    return Fail(Code::kVerificationFailed,
                "composite evidence: no GPU trust anchors are configured for tee '" + std::string(tee()) + "'");
  }
  if (input.expected_binding.size() != protocol::kBindingSize) {
    return Fail(Code::kInvalidArgument, "composite evidence needs the 64-byte expected binding");
  }
  SIGIL_ASSIGN_OR_RETURN(std::vector<Bytes> reports, DecodeReports(bundle));

  // The CPU evidence first: its report data must cover exactly these GPU reports, so a GPU list
  // taken from another attestation, reordered, shortened or extended fails here.
  const Sha512Digest cpu_binding = CompositeCpuBinding(input.expected_binding, GpuEvidenceDigest(reports));
  VerifyInput cpu_input = input;
  cpu_input.evidence = bundle.cpu;
  cpu_input.expected_binding = cpu_binding;
  auto cpu_claims = cpu_->Verify(cpu_input);
  if (!cpu_claims) return std::move(cpu_claims).error().Wrap("composite evidence: cpu");
  Claims claims = std::move(*cpu_claims);

  const Sha256Digest nonce = GpuNonce(input.expected_binding);
  std::set<std::string> device_keys;
  for (std::size_t i = 0; i < reports.size(); ++i) {
    VerifyInput gpu_input = input;
    gpu_input.evidence = reports[i];
    gpu_input.collateral = bundle.gpus[i].collateral;
    gpu_input.expected_binding = nonce;
    auto gpu_claims = gpu_->Verify(gpu_input);
    if (!gpu_claims) return std::move(gpu_claims).error().Wrap("composite evidence: " + Gpu(i));
    // Two reports by one device key are one GPU asked twice (each answer has its own responder
    // nonce, so the reports differ): counting it twice would satisfy "exactly 8 GPUs" with fewer.
    auto key = gpu_claims->GetString("nvidia.device_key");
    if (!key) return Fail(Code::kInternal, Gpu(i) + ": the GPU verifier gave no nvidia.device_key claim");
    if (!device_keys.insert(*key).second) {
      return Fail(Code::kVerificationFailed, "composite evidence: " + Gpu(i) +
                                                 ": signed by the same GPU device key as an earlier report");
    }
    const std::string prefix = "gpu." + std::to_string(i) + ".";
    for (const auto& [name, value] : gpu_claims->values()) claims.Set(prefix + name, value);
  }
  claims.Set("gpu.count", static_cast<std::int64_t>(reports.size()));
  return claims;
}

}  // namespace sigil::attestation::composite
