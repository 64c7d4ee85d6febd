// GpuCompositeAttester: adds the host's GPUs to any CPU TEE attester, producing the composite
// bundle the broker's GpuCompositeVerifier takes (attestation/composite/bundle.h, binding.h;
// docs/protocol.md "Composite CPU + GPU attestation"). For a session binding B it
//  1. derives the GPU nonce GpuNonce(B) and collects one report per GPU for it;
//  2. checks every report's SPDM request nonce is that nonce: a report made for another
//     attestation (a captured --gpu-report file) would be refused by the broker anyway, and
//     refusing here says why before anything is sent;
//  3. asks the CPU attester for evidence over CompositeCpuBinding(B, GpuEvidenceDigest(reports)),
//     so the CPU evidence covers these exact reports in this order;
//  4. returns SerializeGpuBundle({cpu evidence, reports with their chains}).
// tee() is the CPU attester's: the broker's composite verifier wraps that TEE's verifier.
// Thread-safety: Evidence() is as safe to call concurrently as the wrapped attester and collector.
#pragma once

#include "enclave/attester.h"
#include "loader/gpu/gpu_source.h"

namespace sigil::loader::gpu {

// Whether step 2 runs. kSkippedForTest exists only for tests whose broker-side verifier maps the
// session's nonce to a captured report's (the test-only binding path of the composite tests);
// no flag, option or C API field of sigil-load selects it.
enum class GpuNonceCheck { kRequired, kSkippedForTest };

class GpuCompositeAttester final : public enclave::Attester {
 public:
  GpuCompositeAttester(enclave::AttesterPtr cpu, GpuCollector gpus, GpuNonceCheck check = GpuNonceCheck::kRequired)
      : cpu_(std::move(cpu)), gpus_(std::move(gpus)), check_(check) {}
  std::string_view tee() const override { return cpu_->tee(); }

  // kInvalidArgument for a binding other than 64 bytes; the collector's error (nothing is
  // attested then); kVerificationFailed naming the GPU whose report is for another nonce;
  // kMalformedEvidence for no report, more than kMaxGpus, or a bundle over kMaxBundleSize; the
  // CPU attester's error.
  Result<Bytes> Evidence(ByteSpan binding) const override;

 private:
  enclave::AttesterPtr cpu_;
  GpuCollector gpus_;
  GpuNonceCheck check_;
};

}  // namespace sigil::loader::gpu
