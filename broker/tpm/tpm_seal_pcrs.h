// The PCR selection a sealed root key is bound to, as the operator writes it:
// "sha256:0,7" or several banks joined by '+', e.g. "sha256:0,2,7+sha1:0" (the syntax of
// tpm2-tools' pcr lists). Banks sha1, sha256, sha384; PCR indexes 0..23 (the PC Client
// platform's 24 PCRs, TCG PC Client Platform TPM Profile section 4.6.1).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <tss2/tss2_tpm2_types.h>

#include "attestation/tpm/attest.h"
#include "core/result.h"

namespace sigil::broker {

using PcrSelection = std::vector<attestation::tpm::PcrBankSelection>;

// kInvalidArgument naming the offending part; PCRs come back sorted, duplicates refused.
Result<PcrSelection> ParsePcrSelection(std::string_view text);
// The canonical text form ("sha256:0,7"), which ParsePcrSelection reads back.
std::string FormatPcrSelection(const PcrSelection& sel);
// TPML_PCR_SELECTION (TCG TPM 2.0 Library Part 2 section 10.9.7) with 3-byte bitmaps.
TPML_PCR_SELECTION ToTpml(const PcrSelection& sel);

}  // namespace sigil::broker
