// CcaVerifier: verifies an Arm CCA attestation token (platform token + realm token, DEN0137
// chapter A7; draft-ffm-rats-cca-token) against configured CPAKs and produces Claims (tee "cca").
// Thread-safety: Create() is a factory; Verify() is const and safe to call concurrently.
#pragma once

#include <memory>
#include <vector>

#include "attestation/cca/anchors.h"
#include "attestation/verifier.h"
#include "core/result.h"

namespace sigil::attestation::cca {

struct CcaConfig {
  // CCA Platform Attestation Keys (P-256 or P-384; PEM/DER SPKI or JWK), each optionally pinned
  // to the platform instance id (claim 256) it signs for (anchors.h).
  std::vector<KeyAnchor> cpaks;
  // Verify() normally requires a 64-byte expected_binding and refuses an empty one. true lets an
  // empty expected_binding skip the realm challenge check, for offline inspection tools that
  // report the check as not done (sigil attest verify without --expect-report-data). The
  // platform-realm binding (platform challenge == hash of the RAK) is always checked.
  bool allow_unbound = false;
};

class CcaVerifier final : public Verifier {
 public:
  // kInvalidArgument if there is no CPAK or one does not parse (anchors.h).
  static Result<std::unique_ptr<Verifier>> Create(CcaConfig config);

  std::string_view tee() const override { return "cca"; }

  // Checks, in order:
  //  1. collection framing (tag 399 or CMW tag 907; collection.h), both COSE_Sign1 parsed
  //     strictly (core/cose_sign1.h) and both payloads' claims (platform_claims.h,
  //     realm_claims.h) (kMalformedEvidence);
  //  2. platform token signature with a CPAK selected by the instance id (anchors.h): some
  //     candidate must verify (kVerificationFailed naming the instance id);
  //  3. realm token signature with the RAK it carries (44237: raw P-384 point in the legacy
  //     profile, COSE_Key in realm#1.0.0) (kMalformedEvidence if the key does not parse,
  //     kVerificationFailed if the signature does not verify);
  //  4. binding of the two tokens: platform challenge (10) == hash(RAK claim bytes as encoded)
  //     with the realm's RAK hash algorithm (44240), constant time (kVerificationFailed);
  //  5. realm challenge (10, 64 bytes) == expected_binding, constant time (kVerificationFailed).
  //     expected_binding must be 64 bytes (kInvalidArgument), or empty with allow_unbound.
  // The lifecycle is reported (cca.platform.lifecycle, .lifecycle_state), not refused: policies
  // call IsSecuredLifecycle (lifecycle.h). `debug` is true unless the lifecycle is secured.
  Result<Claims> Verify(const VerifyInput& input) const override;

 private:
  CcaVerifier(AnchorSet anchors, bool allow_unbound)
      : anchors_(std::move(anchors)), allow_unbound_(allow_unbound) {}

  AnchorSet anchors_;
  bool allow_unbound_;
};

}  // namespace sigil::attestation::cca
