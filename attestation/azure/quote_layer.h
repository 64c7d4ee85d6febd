// The vTPM quote layer: a TPM2_Quote in Sigil's "sigil-tpm-quote/v1" format
// (attestation/tpm/README.md) that must be signed by the HCL report's HCLAkPub.
// Thread-safety: pure function.
#pragma once

#include "attestation/claims.h"
#include "core/bytes.h"
#include "core/result.h"

namespace sigil::attestation::azure {

// Verifies `quote_evidence` with tpm::TpmVerifier, `ak_spki` (DER or PEM SPKI) as its only
// registered AK: signature over the raw TPMS_ATTEST (raw RSASSA or TPMT_SIGNATURE), PCR values
// against pcrDigest, and extraData == expected_binding[0..32) (skipped when expected_binding is
// empty: offline tools only). A quote whose "ak" member names another key, or whose signature
// does not verify with `ak_spki`, is kVerificationFailed. A "purpose_log" in the quote is then
// replayed against the verified quote by the same TpmVerifier (tpm::VerifyPurposeLog), so an
// Azure vTPM proves a workload purpose exactly as tee "tpm" does. Returns the tpm.* claims and,
// with a verified purpose log, the workload.* claims.
Result<Claims> VerifyVtpmQuote(ByteSpan ak_spki, ByteSpan quote_evidence,
                               ByteSpan expected_binding);

}  // namespace sigil::attestation::azure
