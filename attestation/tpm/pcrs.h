// PCR values carried next to a quote, and the recomputation of TPMS_QUOTE_INFO.pcrDigest
// (TCG TPM 2.0 Library Part 3 section 18.4 TPM2_Quote; Part 2 section 10.12.4).
#pragma once

#include <cstdint>
#include <map>

#include "attestation/tpm/attest.h"
#include "core/bytes.h"
#include "core/result.h"

namespace sigil::attestation::tpm {

// bank (TPM_ALG_ID) -> PCR index -> value. Unauthenticated until CheckPcrs() succeeds.
using PcrValues = std::map<std::uint16_t, std::map<std::uint32_t, Bytes>>;

// One-shot digest with a TPM hash algorithm (SHA-1/256/384); kInvalidArgument otherwise.
Result<Bytes> TpmHash(std::uint16_t hash_alg, ByteSpan data);

// Checks `values` against the quote's selection and returns the concatenation of the selected
// values in TPML_PCR_SELECTION order (banks as listed, PCRs ascending within a bank):
//  - every bank is SHA-1, SHA-256 or SHA-384, listed at most once, and SHA-256 is selected
//    (kMalformedEvidence / kVerificationFailed for a missing SHA-256 bank);
//  - every selected PCR has a value of the bank's digest size, and `values` holds nothing
//    that is not selected (unselected values would be unauthenticated; kMalformedEvidence);
//  - pcrDigest == H(concatenation) where H is `digest_alg`, the hash of the signing scheme
//    (Part 3 section 18.4.1: "digest ... using the hash of the signing scheme")
//    (kVerificationFailed).
Result<Bytes> CheckPcrs(const Quote& quote, const PcrValues& values, std::uint16_t digest_alg);

}  // namespace sigil::attestation::tpm
