// Purpose binding for hardware reports that have 64 bytes of report data and no runtime
// measurement register reachable here (SEV-SNP, TDX and CCA through configfs-tsm): the purpose
// event is bound into the report data instead of being extended into a register.
//
//   report_data = PurposeBinding(binding, event)
//               = SHA-512("sigil/v1/purpose-binding" || binding || SHA-256(event))
//
// where binding is core/protocol.h's Binding(nonce, tee_public_key). The evidence sent to
// /v1/attest is then the envelope (UTF-8 JSON, canonical, exactly these fields)
//
//   {"event":"sigil-purpose/v1 ...","format":"sigil-purpose-bound/v1","report":"<base64url>"}
//
// and PurposeBoundVerifier, wrapped around the SNP, TDX or CCA verifier, hands `report` to it with
// the expected binding replaced by PurposeBinding(expected, event), so the hardware signature
// covers the event; then it adds workload.* from the event. A raw report (no envelope) goes to
// the inner verifier unchanged and yields no workload.* claim.
//
// What this proves, and what it does not (docs/threat-model.md): the event was chosen by code in
// the guest whose launch measurement the report carries, for this nonce and key; nothing
// records it in a register, so it is exactly as trustworthy as that guest image's promise that
// only the approved loader can request reports. A guest that lets someone run another program
// with access to configfs-tsm lets that program state any purpose.
// Thread-safety: Verify() is const and safe to call concurrently if the inner one is.
#pragma once

#include <memory>
#include <string_view>

#include "attestation/purpose.h"
#include "attestation/verifier.h"
#include "core/bytes.h"
#include "core/digest.h"
#include "core/result.h"

namespace sigil::attestation {

inline constexpr std::string_view kPurposeBoundFormat = "sigil-purpose-bound/v1";

// SHA-512("sigil/v1/purpose-binding" || binding || SHA-256(PurposeEvent(p))).
Sha512Digest PurposeBinding(ByteSpan binding, const WorkloadPurpose& p);

// The envelope above, around a raw report (canonical JSON bytes).
Bytes WrapPurposeBound(ByteSpan report, const WorkloadPurpose& p);

class PurposeBoundVerifier final : public Verifier {
 public:
  explicit PurposeBoundVerifier(std::unique_ptr<Verifier> inner) : inner_(std::move(inner)) {}
  std::string_view tee() const override { return inner_->tee(); }
  // Evidence starting with '{' must be the envelope (kMalformedEvidence otherwise: unknown or
  // missing fields, wrong format, bad base64url, non-canonical bytes, an event ParsePurposeEvent
  // refuses); its report is verified by the inner verifier against PurposeBinding(expected
  // binding, event), then workload.* and purpose.bound = "report-data" are added. Anything else
  // goes to the inner verifier as it is.
  Result<Claims> Verify(const VerifyInput& input) const override;

 private:
  std::unique_ptr<Verifier> inner_;
};

}  // namespace sigil::attestation
