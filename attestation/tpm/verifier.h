// TpmVerifier: verifies a TPM 2.0 quote (TPM2_Quote, TCG TPM 2.0 Library Part 3 section 18.4)
// in Sigil's "sigil-tpm-quote/v1" evidence format (evidence.h, README.md) against registered
// attestation keys, and produces Claims.
// Thread-safety: Create() is a factory; Verify() is const and safe to call concurrently (the
// optional replay guard has its own lock).
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "attestation/tpm/replay_guard.h"
#include "attestation/verifier.h"
#include "core/bytes.h"
#include "core/ossl.h"
#include "core/result.h"

namespace sigil::attestation::tpm {

struct TpmConfig {
  // Registered AK public keys, PEM or DER SubjectPublicKeyInfo (RSA >= 2048, EC P-256/P-384).
  std::vector<Bytes> registered_aks;
  // Refuse quotes whose (resetCount, restartCount, clock) does not advance per AK
  // (replay_guard.h; in memory only).
  bool monotonic_clock_guard = false;
};

class TpmVerifier final : public Verifier {
 public:
  // kInvalidArgument if there is no AK or one does not load.
  static Result<std::unique_ptr<Verifier>> Create(TpmConfig config);

  std::string_view tee() const override { return "tpm"; }

  // Checks, in order:
  //  1. evidence JSON parse (kMalformedEvidence); expected_binding is empty or 64 bytes
  //     (kInvalidArgument);
  //  2. TPMS_ATTEST strict parse: whole buffer, magic, TPM_ST_ATTEST_QUOTE (kMalformedEvidence);
  //  3. the AK: if "ak" is present it must equal (as DER SPKI) a registered AK, else
  //     kVerificationFailed; without "ak", every registered AK is tried;
  //  4. signature over the raw TPMS_ATTEST bytes (signature.h; kVerificationFailed);
  //  5. PCR values vs the selection and pcrDigest (pcrs.h; kVerificationFailed);
  //  6. extraData == expected_binding[0..32) in constant time (kVerificationFailed). An EMPTY
  //     expected_binding skips this (offline inspection and the shared vectors, whose nonces
  //     are not 32 bytes; the broker always passes the 64-byte binding);
  //  7. if enabled, the replay guard (kReplay), last so that only verified quotes advance it.
  Result<Claims> Verify(const VerifyInput& input) const override;

 private:
  struct Ak {
    EvpPkeyPtr key;
    Bytes der;
  };
  TpmVerifier(std::vector<Ak> aks, std::unique_ptr<ReplayGuard> guard)
      : aks_(std::move(aks)), guard_(std::move(guard)) {}

  std::vector<Ak> aks_;
  std::unique_ptr<ReplayGuard> guard_;  // null if disabled
};

}  // namespace sigil::attestation::tpm
