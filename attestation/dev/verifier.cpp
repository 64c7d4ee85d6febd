#include "attestation/dev/verifier.h"

#include "attestation/dev/evidence.h"
#include "attestation/dev/platform_key.h"
#include "core/digest.h"
#include "core/ed25519.h"
#include "core/protocol.h"

namespace sigil::attestation::dev {

Result<std::unique_ptr<Verifier>> DevVerifier::Create(ByteSpan platform_public_key) {
  if (platform_public_key.size() != kEd25519PublicKeySize) {
    return Fail(Code::kInvalidArgument, "dev verifier: platform public key must be 32 bytes, got " +
                                            std::to_string(platform_public_key.size()));
  }
  Bytes pk(platform_public_key.begin(), platform_public_key.end());
  std::string id = DevPlatformId(pk);
  return std::unique_ptr<Verifier>(new DevVerifier(std::move(pk), std::move(id)));
}

Result<Claims> DevVerifier::Verify(const VerifyInput& input) const {
  SIGIL_ASSIGN_OR_RETURN(DevEnvelope envelope, ParseEnvelope(input.evidence));
  if (!input.collateral.empty()) {
    return Fail(Code::kMalformedEvidence, "dev evidence takes no collateral, got " +
                                              std::to_string(input.collateral.size()) + " bytes");
  }
  // Authenticate before interpreting: the payload parser only ever sees signed bytes.
  if (!Ed25519Verify(public_key_, SigningInput(envelope.payload), envelope.signature)) {
    return Fail(Code::kVerificationFailed,
                "dev evidence signature does not verify with the dev platform key " + platform_id_);
  }
  SIGIL_ASSIGN_OR_RETURN(DevPayload payload, ParsePayload(envelope.payload));

  if (input.expected_binding.size() != protocol::kBindingSize) {
    return Fail(Code::kInvalidArgument, "dev verifier: expected binding must be 64 bytes");
  }
  // The binding ties the evidence to this challenge nonce and this TEE public key; without it a
  // captured report could be replayed for another session.
  if (!ConstantTimeEqual(payload.binding, input.expected_binding)) {
    return Fail(Code::kVerificationFailed, "evidence is bound to a different nonce or TEE key");
  }
  // Compared in whole seconds so that an absurd issued_at cannot overflow a time_point.
  const std::int64_t now_s =
      std::chrono::duration_cast<std::chrono::seconds>(input.now.time_since_epoch()).count();
  if (payload.issued_at > now_s + kMaxFutureSkew.count()) {
    return Fail(Code::kExpired, "dev evidence issued_at is " +
                                    std::to_string(payload.issued_at - now_s) +
                                    " s in the future (limit 300 s); check the workload's clock");
  }
  if (payload.issued_at < now_s - kMaxAge.count()) {
    return Fail(Code::kExpired, "dev evidence is " + std::to_string(now_s - payload.issued_at) +
                                    " s old (limit 600 s); request fresh evidence");
  }

  Claims claims;
  claims.Set("tee", std::string("dev"));
  claims.Set("debug", payload.debug);
  claims.Set("measurement", payload.measurement);
  claims.Set("dev.insecure", true);
  claims.Set("platform.id", platform_id_);
  claims.Set("tcb.status", std::string("Insecure"));
  // Explicit, signed statements of the loader: as trustworthy as the dev platform key, i.e. not
  // at all in production (dev.insecure stays set), but they let every policy path be exercised.
  if (payload.workload) SetPurposeClaims(claims, *payload.workload);
  return claims;
}

}  // namespace sigil::attestation::dev
