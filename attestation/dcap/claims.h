// Claims of a verified DCAP quote (names in attestation/dcap/README.md).
#pragma once

#include "attestation/claims.h"
#include "attestation/dcap/pck.h"
#include "attestation/dcap/quote.h"
#include "attestation/dcap/tcb_status.h"

namespace sigil::attestation::dcap {

// Builds the claims of an already verified quote. `tcb` null means "NotEvaluated".
Claims MakeDcapClaims(const Quote& quote, const PckExtensions& pck, const TcbResult* tcb);

}  // namespace sigil::attestation::dcap
