// DevVerifier: verifies sigil-dev-evidence/v1 (attestation/dev/README.md) against one pinned dev
// platform public key. The dev TEE is INSECURE by design: every claim set it produces carries
// dev.insecure=true and tcb.status="Insecure", and policies must name tee "dev" to accept it.
// Thread-safety: Verify() is const and safe to call concurrently.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "attestation/verifier.h"
#include "core/bytes.h"
#include "core/result.h"

namespace sigil::attestation::dev {

// Freshness window for issued_at relative to VerifyInput::now. Evidence is single-use by its
// binding (the broker's nonce); the window only bounds how long a captured report stays useful
// and tolerates modest clock skew between workload and broker.
inline constexpr std::chrono::seconds kMaxFutureSkew{5 * 60};
inline constexpr std::chrono::seconds kMaxAge{10 * 60};

class DevVerifier final : public Verifier {
 public:
  // kInvalidArgument if `platform_public_key` is not a 32-byte Ed25519 public key.
  static Result<std::unique_ptr<Verifier>> Create(ByteSpan platform_public_key);

  std::string_view tee() const override { return "dev"; }

  // Checks, in order: size and strict envelope parse (kMalformedEvidence), collateral must be
  // empty (kMalformedEvidence), Ed25519 signature by the pinned key (kVerificationFailed), strict
  // payload parse (kMalformedEvidence), binding == input.expected_binding in constant time
  // (kVerificationFailed; kInvalidArgument if expected_binding is not 64 bytes), issued_at within
  // [now - 10 min, now + 5 min] (kExpired). Claims on success: tee="dev", debug, measurement,
  // dev.insecure=true, platform.id (DevPlatformId), tcb.status="Insecure", and workload.mode,
  // workload.engine, workload.sandbox when the payload has "workload". debug=true is
  // reported, not refused: refusing debug workloads is the policy's decision.
  Result<Claims> Verify(const VerifyInput& input) const override;

 private:
  DevVerifier(Bytes public_key, std::string platform_id)
      : public_key_(std::move(public_key)), platform_id_(std::move(platform_id)) {}
  Bytes public_key_;
  std::string platform_id_;
};

}  // namespace sigil::attestation::dev
