// The Attester seam (workload side): one implementation per TEE, mirroring the broker's
// attestation::Verifier. The loader asks an Attester for evidence over the 64-byte binding
// (core/protocol.h Binding) and sends it to POST /v1/attest with "tee" = tee(). TPM quote,
// SEV-SNP, TDX, Azure vTPM and CCA attesters plug in here next to DevAttester
// (loader/attester_factory.cpp registers them).
// Thread-safety: implementations must make Evidence() safe to call concurrently.
#pragma once

#include <memory>
#include <string_view>

#include "core/bytes.h"
#include "core/result.h"

namespace sigil::enclave {

class Attester {
 public:
  virtual ~Attester() = default;
  // The TEE type, identical to the matching Verifier::tee() ("dev", "tpm", "sev-snp", ...).
  virtual std::string_view tee() const = 0;
  // Evidence whose report data is `binding` (64 bytes). Fails with kInvalidArgument on a binding
  // of the wrong size and kUnavailable if the TEE cannot be reached.
  virtual Result<Bytes> Evidence(ByteSpan binding) const = 0;
};

using AttesterPtr = std::unique_ptr<Attester>;

}  // namespace sigil::enclave
