// TpmVerifier: verifies a TPM 2.0 quote (TPM2_Quote, TCG TPM 2.0 Library Part 3 section 18.4)
// in Sigil's "sigil-tpm-quote/v1" evidence format (evidence.h, README.md) against registered
// attestation keys, and produces Claims.
// Thread-safety: Create() is a factory; Verify() is const and safe to call concurrently (the
// optional replay guard has its own lock).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "attestation/tpm/replay_guard.h"
#include "attestation/verifier.h"
#include "core/bytes.h"
#include "core/ossl.h"
#include "core/result.h"

namespace sigil::attestation::tpm {

// An AK registered for one tenant: its DER SPKI and, if known, its TPM Name (nameAlg ||
// H(TPMT_PUBLIC), TCG TPM 2.0 Library Part 1 s.16); the quote's qualifiedSigner must then be
// the qualified name of that key as a primary object.
struct RegisteredAk {
  Bytes spki;
  Bytes tpm_name;  // empty: not checked
};

struct TpmConfig {
  // Registered AK public keys, PEM or DER SubjectPublicKeyInfo (RSA >= 2048, EC P-256/P-384),
  // accepted for every tenant (the broker's DATA/trust/tpm-aks/).
  std::vector<Bytes> registered_aks;
  // Refuse quotes whose (resetCount, restartCount, clock) does not advance per AK
  // (replay_guard.h; in memory only).
  bool monotonic_clock_guard = false;
  // Per-tenant AKs: returns the AKs (DER SPKI) registered for VerifyInput::tenant (the broker's
  // store, `sigil tpm register-ak`). A quote must come from one of these or a registered_aks.
  std::function<Result<std::vector<RegisteredAk>>(std::string_view tenant)> tenant_aks;
  // Durable replay state (the broker's store): called after every other check passed with the
  // AK's fingerprint (AkFingerprint) and the quote's clock; returns kReplay if it did not
  // advance. Used instead of the in-memory guard when set.
  std::function<Result<void>(const std::string& ak_fingerprint, const ClockState& clock)> replay_check;
};

// Hex SHA-256 of the AK's DER SubjectPublicKeyInfo: how the broker names a registered AK.
std::string AkFingerprint(ByteSpan spki_der);

// Accepts exactly what AkFingerprint produces: 64 lowercase hex digits. An id that names a file
// (EKs are stored as DATA/trust/tpm-eks/<tenant>/<id>.pem) must pass this first, so no input can
// become a path ("../x") or a second name for the same key (upper case). kInvalidArgument naming
// `what` and quoting an escaped excerpt of `id` otherwise.
Result<void> ValidateFingerprint(std::string_view id, std::string_view what);

// The largest extraData (TPM2B_DATA, TCG TPM 2.0 Library Part 2 section 10.4.3) a quote can
// carry here: tpm2-tss declares its buffer as sizeof(TPMU_HA) = 64 bytes (the largest digest,
// SHA-512; tss2_tpm2_types.h), and ParseQuote unmarshals with tss2-mu, which refuses more.
inline constexpr std::size_t kMaxQualifyingData = 64;

// For offline tools (sigil attest verify --expect-qualifying-data): the extraData of the quote
// in `evidence` ("sigil-tpm-quote/v1") equals `expected` exactly, compared in constant time, for
// quotes whose nonce is not Sigil's 64-byte binding (other systems use 9, 20, 32 or 64 bytes).
// `expected` must be 1..kMaxQualifyingData bytes (kInvalidArgument); kMalformedEvidence if the
// evidence does not parse; kVerificationFailed on a mismatch. This authenticates nothing by
// itself: call it only on evidence that TpmVerifier::Verify accepted.
Result<void> CheckQualifyingData(ByteSpan evidence, ByteSpan expected);

class TpmVerifier final : public Verifier {
 public:
  // kInvalidArgument if there is no AK source (neither registered_aks nor tenant_aks) or an AK
  // does not load.
  static Result<std::unique_ptr<Verifier>> Create(TpmConfig config);

  std::string_view tee() const override { return "tpm"; }

  // Checks, in order:
  //  1. evidence JSON parse (kMalformedEvidence); expected_binding is empty or 64 bytes
  //     (kInvalidArgument);
  //  2. TPMS_ATTEST strict parse: whole buffer, magic, TPM_ST_ATTEST_QUOTE (kMalformedEvidence);
  //  3. the AK: if "ak" is present it must equal (as DER SPKI) a registered AK (global, or
  //     registered for input.tenant), else kVerificationFailed naming its fingerprint; without
  //     "ak", every such AK is tried;
  //  4. signature over the raw TPMS_ATTEST bytes (signature.h; kVerificationFailed); if the AK
  //     was registered with its TPM Name, qualifiedSigner must be that key's qualified name as
  //     a primary of the owner, endorsement or platform hierarchy (kVerificationFailed);
  //  5. PCR values vs the selection and pcrDigest (pcrs.h; kVerificationFailed);
  //  6. extraData == expected_binding[0..32) in constant time (kVerificationFailed). An EMPTY
  //     expected_binding skips this (offline inspection and the shared vectors, whose nonces
  //     are not 32 bytes; the broker always passes the 64-byte binding);
  //  6b. with a "purpose_log": VerifyPurposeLog (purpose_log.h): allowed PCR, in the selection,
  //     replay reproduces the quoted value exactly, the last event counts (workload.* claims);
  //     evidence without one verifies with no workload.* claim (no model-weights release);
  //  7. if enabled, the replay guard or replay_check (kReplay), last so that only verified
  //     quotes advance it.
  Result<Claims> Verify(const VerifyInput& input) const override;

 private:
  struct Ak {
    EvpPkeyPtr key;
    Bytes der;
    Bytes tpm_name;  // empty: qualifiedSigner not checked
  };
  using SharedAk = std::shared_ptr<const Ak>;
  TpmVerifier(std::vector<Ak> aks, std::unique_ptr<ReplayGuard> guard, TpmConfig config)
      : aks_(std::move(aks)), guard_(std::move(guard)), tenant_aks_(std::move(config.tenant_aks)),
        replay_check_(std::move(config.replay_check)) {}
  // The AKs registered for `tenant` (besides the global aks_). The registrations are read on
  // every call (so a removal takes effect at once); decoded keys are cached by their bytes.
  Result<std::vector<SharedAk>> TenantAks(std::string_view tenant) const;
  // The decoded key for one registration, from the cache when seen before.
  Result<SharedAk> DecodeRegistered(const RegisteredAk& reg, std::string_view tenant) const;

  std::vector<Ak> aks_;
  std::unique_ptr<ReplayGuard> guard_;  // null if disabled
  std::function<Result<std::vector<RegisteredAk>>(std::string_view)> tenant_aks_;
  std::function<Result<void>(const std::string&, const ClockState&)> replay_check_;
  // Decoding an SPKI costs several times a signature check; registered AKs repeat, so decoded
  // ones are kept, keyed by (spki || 0x00 || tpm_name) and bounded by kMaxCachedAks.
  static constexpr std::size_t kMaxCachedAks = 4096;
  mutable std::mutex cache_mu_;
  mutable std::map<std::string, SharedAk> decoded_;  // std::string key: GCC 12 warns falsely on vector<uint8_t> <=>
};

}  // namespace sigil::attestation::tpm
