// Claims of a verified TPM quote (see README.md "Claims").
#pragma once

#include "attestation/claims.h"
#include "attestation/tpm/attest.h"
#include "attestation/tpm/pcrs.h"
#include "attestation/tpm/purpose_log.h"

namespace sigil::attestation::tpm {

// `selected` is the concatenation CheckPcrs() returned (selection order); `measurement` is the
// hex SHA-384 of exactly those bytes, except that with a verified `purpose` the purpose PCR
// (sha256:purpose->pcr) is left out of it: that PCR changes with every load and its content is
// reported instead as workload.mode/engine/sandbox (of the last event), tpm.purpose.pcr and
// tpm.purpose.events; tpm.pcr.sha256.N still gives its raw value. So a platform's
// `measurement` stays one reference value across loads. kMalformedEvidence if clock does not
// fit an int64.
Result<Claims> BuildClaims(const Quote& quote, const PcrValues& pcrs, ByteSpan selected,
                           const VerifiedPurpose* purpose = nullptr);

}  // namespace sigil::attestation::tpm
