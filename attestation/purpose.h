// Workload purpose: what the released plaintext will be used for, as attested evidence states
// it (docs/protocol.md "Workload purpose"). One canonical event, built by the loader and
// carried by every attester that can prove it: signed fields in dev evidence, a TPM PCR extend
// with an event log, and checked by the matching verifier, which emits the workload.* claims:
//   workload.mode     "sealed-memory" (sigil-load run, C API) | "stream" (sigil-load cat)
//                     | "rewrap" (sigil-load rewrap: re-encrypts to the key's newest version and
//                       writes only ciphertext; the broker reseals the DEK for it)
//   workload.engine   96 lowercase hex: MeasureEngine(engine, sandbox configuration)
//   workload.sandbox  64 lowercase hex: SHA-256 of that canonical sandbox configuration
// The broker's release check (broker/api/release_purpose.h) reads workload.mode.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "attestation/claims.h"
#include "core/bytes.h"
#include "core/digest.h"
#include "core/result.h"

namespace sigil::attestation {

inline constexpr std::string_view kModeSealedMemory = "sealed-memory";
inline constexpr std::string_view kModeStream = "stream";
inline constexpr std::string_view kModeRewrap = "rewrap";
inline constexpr std::string_view kPurposeEventPrefix = "sigil-purpose/v1";
inline constexpr std::size_t kPurposeEngineHexSize = 96;   // SHA-384
inline constexpr std::size_t kPurposeSandboxHexSize = 64;  // SHA-256

struct WorkloadPurpose {
  std::string mode;     // kModeSealedMemory, kModeStream or kModeRewrap
  std::string engine;   // 96 lowercase hex digits
  std::string sandbox;  // 64 lowercase hex digits
  bool operator==(const WorkloadPurpose&) const = default;
};

// kInvalidArgument naming the field unless mode is one of the three modes and engine / sandbox are
// lowercase hex of the sizes above.
Result<void> ValidatePurpose(const WorkloadPurpose& p);

// The canonical event, ASCII, single spaces, no trailing newline:
//   "sigil-purpose/v1 mode=<mode> engine=<engine> sandbox=<sandbox>"
// Every field has a fixed alphabet, so there is exactly one encoding per purpose. Call only on a
// purpose that ValidatePurpose() accepts.
std::string PurposeEvent(const WorkloadPurpose& p);

// SHA-256 of PurposeEvent(p): the digest a TPM attester extends into its purpose PCR.
Sha256Digest PurposeEventDigest(const WorkloadPurpose& p);

// Strict inverse of PurposeEvent: kMalformedEvidence unless `event` is exactly the canonical
// encoding of a valid purpose.
Result<WorkloadPurpose> ParsePurposeEvent(std::string_view event);

// Sets workload.mode, workload.engine and workload.sandbox.
void SetPurposeClaims(Claims& claims, const WorkloadPurpose& p);

}  // namespace sigil::attestation
