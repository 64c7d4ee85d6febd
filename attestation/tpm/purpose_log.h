// Replay of a TPM purpose event log (evidence.h PurposeLog) against a verified quote: the loader
// extends SHA-256(canonical purpose event) into one PCR of the SHA-256 bank before quoting
// (enclave/tpm/tpm_attester.h), and the log lets the verifier recompute that PCR.
//
// Which event counts: the LAST one. The loader extends its event and quotes while holding the
// log's lock, so the last extend before the quote is its own; earlier events are earlier loads
// since boot. This does not rest on trusting the log: if replay reproduces the quoted value Q,
// then Q = SHA-256(p || SHA-256(last event)) for the replayed p, and any other last extend into
// the PCR would be a SHA-256 collision. `start` and earlier events only make replay possible.
// Thread-safety: pure function.
#pragma once

#include <cstdint>

#include "attestation/purpose.h"
#include "attestation/tpm/attest.h"
#include "attestation/tpm/evidence.h"
#include "attestation/tpm/pcrs.h"
#include "core/result.h"

namespace sigil::attestation::tpm {

struct VerifiedPurpose {
  WorkloadPurpose purpose;  // of the last event
  std::uint32_t pcr = 0;
  std::size_t events = 0;
};

// SHA-256 bank replay: v = start; for each event v = SHA-256(v || SHA-256(event)).
Bytes ReplayPurposeLog(const PurposeLog& log);

// Call only after CheckPcrs() accepted `pcrs` for `quote`. Checks, in order:
//  - log.pcr in kMinPurposePcr..kMaxPurposePcr (kVerificationFailed: other PCRs are firmware's,
//    resettable from locality 0, or not extendable by the loader);
//  - sha256:log.pcr is in the quote's selection (kVerificationFailed);
//  - at least one event, every event a canonical purpose event (ParsePurposeEvent,
//    kMalformedEvidence naming its index);
//  - ReplayPurposeLog(log) == the quoted value, in constant time (kVerificationFailed).
Result<VerifiedPurpose> VerifyPurposeLog(const PurposeLog& log, const Quote& quote, const PcrValues& pcrs);

}  // namespace sigil::attestation::tpm
