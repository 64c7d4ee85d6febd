// Claims of a verified TPM quote (see README.md "Claims").
#pragma once

#include "attestation/claims.h"
#include "attestation/tpm/attest.h"
#include "attestation/tpm/pcrs.h"

namespace sigil::attestation::tpm {

// `selected` is the concatenation CheckPcrs() returned (selection order); `measurement` is the
// hex SHA-384 of exactly those bytes. kMalformedEvidence if clock does not fit an int64.
Result<Claims> BuildClaims(const Quote& quote, const PcrValues& pcrs, ByteSpan selected);

}  // namespace sigil::attestation::tpm
