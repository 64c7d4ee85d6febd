// The composite CPU + GPU binding (docs/protocol.md "Composite CPU + GPU attestation"): how one
// attestation's GPU request nonce and CPU report data both derive from the session's binding
// B = SHA-512("sigil/v1/binding" || nonce || tee_public_key) (core/protocol.h), and how the CPU
// report data covers the exact GPU reports. Both ends (the workload building the bundle, the
// verifier checking it) must compute these identically: changing one is a wire-format change.
//
//   gpu_nonce   = SHA-256("sigil/v1/gpu-nonce" || B)                         32 bytes
//   gpu_digest  = SHA-512("sigil/v1/gpu-evidence" || u32be(n)
//                         || u32be(len(report_1)) || report_1 || ... )       64 bytes
//   cpu_binding = SHA-512("sigil/v1/gpu-composite" || B || gpu_digest)      64 bytes
//
// Each domain string is followed by fixed-size inputs (B, gpu_digest) or a length-prefixed
// list, so no input of one derivation can be read as an input of another.
// Thread-safety: pure functions.
#pragma once

#include <vector>

#include "core/bytes.h"
#include "core/digest.h"

namespace sigil::attestation::composite {

// The SPDM request nonce every GPU of the attestation must have signed. `binding` is B.
Sha256Digest GpuNonce(ByteSpan binding);

// The digest of the GPU reports, in bundle order, each the raw report bytes (decoded from the
// hex text NVIDIA's tools write, if that is how it came). Reports are at most 4 GiB each by
// construction (the bundle is far smaller).
Sha512Digest GpuEvidenceDigest(const std::vector<Bytes>& reports);

// The 64 bytes the CPU evidence must carry as its report data (a TPM quote: the first 32 as
// qualifying data), in place of B.
Sha512Digest CompositeCpuBinding(ByteSpan binding, const Sha512Digest& gpu_digest);

}  // namespace sigil::attestation::composite
