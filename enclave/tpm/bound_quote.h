// The quote every TPM-based attester sends (tee "tpm", and the Azure vTPM attesters in
// enclave/azure): qualifyingData = binding[0..32) (what attestation/tpm's TpmVerifier compares
// with extraData), and with a purpose configured, the purpose event extended into its PCR first
// and its log carried in the evidence (purpose_pcr.h). Shared so that both attesters bind the
// quote by one rule.
// Thread-safety: as EsysContext (one context per thread); the purpose log file lock serialises
// loaders on one TPM.
#pragma once

#include <tss2/tss2_tpm2_types.h>

#include <cstddef>
#include <optional>
#include <string_view>

#include "attestation/tpm/evidence.h"
#include "core/bytes.h"
#include "core/result.h"
#include "enclave/tpm/ak.h"
#include "enclave/tpm/esys.h"
#include "enclave/tpm/purpose_pcr.h"

namespace sigil::enclave::tpm {

// How many bytes of the 64-byte binding go into qualifyingData (attestation/tpm/verifier.cpp).
inline constexpr std::size_t kQualifyingDataSize = 32;

// The PCR selection to quote: `pcrs` (ParsePcrSelection syntax) plus the purpose PCR, which the
// verifier requires in the quote when a purpose log is sent. kInvalidArgument for a bad
// selection or purpose configuration.
Result<TPML_PCR_SELECTION> QuoteSelection(std::string_view pcrs,
                                          const std::optional<TpmPurposeConfig>& purpose);

// Extends the purpose (if any; its log file locked until the quote is taken), quotes `sel` with
// `ak` over binding[0..32) and returns the evidence with the purpose log. kInvalidArgument for a
// binding that is not 64 bytes; kUnavailable if another program extended the purpose PCR between
// the extend and the quote (retry). Errors are prefixed with `who`.
Result<attestation::tpm::Evidence> TakeBoundQuote(const EsysContext& ctx, const LoadedAk& ak,
                                                  const TPML_PCR_SELECTION& sel, ByteSpan binding,
                                                  const std::optional<TpmPurposeConfig>& purpose,
                                                  std::string_view who);

}  // namespace sigil::enclave::tpm
