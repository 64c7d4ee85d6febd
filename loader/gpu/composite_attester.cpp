#include "loader/gpu/composite_attester.h"

#include <string>

#include "attestation/composite/binding.h"
#include "attestation/nvidia/report.h"
#include "core/encoding.h"

namespace sigil::loader::gpu {
namespace {

namespace composite = attestation::composite;

Result<void> CheckNonces(const std::vector<composite::GpuEntry>& gpus, const Sha256Digest& nonce) {
  for (std::size_t i = 0; i < gpus.size(); ++i) {
    SIGIL_ASSIGN_OR_RETURN(attestation::nvidia::Report r, attestation::nvidia::ParseReport(gpus[i].report));
    if (!std::equal(r.request_nonce.begin(), r.request_nonce.end(), nonce.begin())) {
      return Fail(Code::kVerificationFailed,
                  "GPU " + std::to_string(i) + ": its report answers nonce " + HexEncode(r.request_nonce) +
                      ", this attestation's GPU nonce is " + HexEncode(nonce) +
                      " (a report captured beforehand, --gpu-report, carries the nonce it was captured with and "
                      "cannot pass; use --gpu-report-cmd with {nonce})");
    }
  }
  return Ok();
}

}  // namespace

Result<Bytes> GpuCompositeAttester::Evidence(ByteSpan binding) const {
  if (binding.size() != 64) {
    return Fail(Code::kInvalidArgument,
                "composite evidence: binding must be 64 bytes, got " + std::to_string(binding.size()));
  }
  const Sha256Digest nonce = composite::GpuNonce(binding);
  SIGIL_ASSIGN_OR_RETURN(std::vector<composite::GpuEntry> gpus, gpus_(nonce));
  if (gpus.empty() || gpus.size() > composite::kMaxGpus) {
    return Fail(Code::kMalformedEvidence, "composite evidence: " + std::to_string(gpus.size()) +
                                              " GPU reports, need 1.." + std::to_string(composite::kMaxGpus));
  }
  if (check_ == GpuNonceCheck::kRequired) SIGIL_RETURN_IF_ERROR(CheckNonces(gpus, nonce));
  std::vector<Bytes> reports;
  reports.reserve(gpus.size());
  for (const auto& g : gpus) reports.push_back(g.report);
  const Sha512Digest cpu_binding = composite::CompositeCpuBinding(binding, composite::GpuEvidenceDigest(reports));
  SIGIL_ASSIGN_OR_RETURN(Bytes cpu, cpu_->Evidence(cpu_binding));
  Bytes bundle = composite::SerializeGpuBundle({std::move(cpu), std::move(gpus)});
  if (bundle.size() > composite::kMaxBundleSize) {
    return Fail(Code::kMalformedEvidence, "composite evidence: bundle of " + std::to_string(bundle.size()) +
                                              " bytes is over the broker's limit of " +
                                              std::to_string(composite::kMaxBundleSize));
  }
  return bundle;
}

}  // namespace sigil::loader::gpu
