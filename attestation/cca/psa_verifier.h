// PsaVerifier: verifies a PSA attestation token (RFC 9783, profile "http://arm.com/psa/2.0.0"),
// a COSE_Sign1 signed by the device's Initial Attestation Key, and produces Claims (tee "psa").
// Thread-safety: Create() is a factory; Verify() is const and safe to call concurrently.
#pragma once

#include <memory>
#include <vector>

#include "attestation/cca/anchors.h"
#include "attestation/verifier.h"
#include "core/result.h"

namespace sigil::attestation::cca {

struct PsaConfig {
  // Initial Attestation Keys (P-256 or P-384; PEM/DER SPKI or JWK), each optionally pinned to
  // the instance id (claim 256) it signs for (anchors.h).
  std::vector<KeyAnchor> iaks;
  // As CcaConfig::allow_unbound: an empty expected_binding skips the nonce check (offline tools).
  bool allow_unbound = false;
};

class PsaVerifier final : public Verifier {
 public:
  // kInvalidArgument if there is no IAK or one does not parse.
  static Result<std::unique_ptr<Verifier>> Create(PsaConfig config);

  std::string_view tee() const override { return "psa"; }

  // Checks, in order:
  //  1. strict COSE_Sign1 (tag 18 optional; ES256/ES384) and claims (platform_claims.h, profile
  //     http://arm.com/psa/2.0.0) (kMalformedEvidence);
  //  2. signature with an IAK selected by the instance id (kVerificationFailed);
  //  3. nonce (10) against expected_binding (64 bytes, kInvalidArgument otherwise; empty only with
  //     allow_unbound): a PSA nonce is 32, 48 or 64 bytes (RFC 9783 section 4.1.1), so it must
  //     equal the FIRST nonce-size bytes of the binding (all 64 for a 64-byte nonce), constant
  //     time (kVerificationFailed). The binding is a SHA-512 output (core/protocol.h), so its
  //     32-byte prefix is as unpredictable as a 32-byte nonce (the TPM verifier does the same).
  // Claims: tee "psa", debug (lifecycle not secured), measurement (see MeasurementDigest), psa.*.
  Result<Claims> Verify(const VerifyInput& input) const override;

 private:
  PsaVerifier(AnchorSet anchors, bool allow_unbound)
      : anchors_(std::move(anchors)), allow_unbound_(allow_unbound) {}

  AnchorSet anchors_;
  bool allow_unbound_;
};

}  // namespace sigil::attestation::cca
