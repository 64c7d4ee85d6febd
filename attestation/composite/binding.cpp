#include "attestation/composite/binding.h"

namespace sigil::attestation::composite {

Sha256Digest GpuNonce(ByteSpan binding) {
  return Sha256(Concat({AsBytes("sigil/v1/gpu-nonce"), binding}));
}

Sha512Digest GpuEvidenceDigest(const std::vector<Bytes>& reports) {
  Bytes input = ToBytes("sigil/v1/gpu-evidence");
  AppendU32(input, static_cast<std::uint32_t>(reports.size()));
  for (const Bytes& r : reports) {
    AppendU32(input, static_cast<std::uint32_t>(r.size()));
    input.insert(input.end(), r.begin(), r.end());
  }
  return Sha512(input);
}

Sha512Digest CompositeCpuBinding(ByteSpan binding, const Sha512Digest& gpu_digest) {
  return Sha512(Concat({AsBytes("sigil/v1/gpu-composite"), binding, gpu_digest}));
}

}  // namespace sigil::attestation::composite
