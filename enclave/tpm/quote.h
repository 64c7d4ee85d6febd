// One TPM2_Quote (TCG TPM 2.0 Library Part 3 s.18.4) plus the PCR values it covers, as Sigil's
// sigil-tpm-quote/v1 evidence (attestation/tpm/README.md).
#pragma once

#include "attestation/tpm/evidence.h"
#include "core/bytes.h"
#include "core/result.h"
#include "enclave/tpm/ak.h"
#include "enclave/tpm/esys.h"

namespace sigil::enclave::tpm {

// Quotes `sel` with `ak` (its own scheme, inScheme TPM_ALG_NULL) and qualifyingData =
// `qualifying_data` (at most 64 bytes: sizeof(TPMU_HA)), then reads the PCR values. PCRs can
// change between the two commands (another process extends one), so the values are checked
// against the quote's pcrDigest with the verifier's own code and the pair is retaken (up to 5
// times) until they match. Fills every Evidence field; `ak` is the AK's DER SPKI.
Result<attestation::tpm::Evidence> TakeQuote(const EsysContext& ctx, const LoadedAk& ak,
                                             const TPML_PCR_SELECTION& sel,
                                             ByteSpan qualifying_data);

}  // namespace sigil::enclave::tpm
