// PCR selections as operators write them (tpm2-tools syntax, e.g. "sha256:0,1,2,7+sha1:0")
// and reading the selected PCR values through ESAPI.
#pragma once

#include <tss2/tss2_tpm2_types.h>

#include <string>
#include <string_view>

#include "attestation/tpm/pcrs.h"
#include "core/result.h"
#include "enclave/tpm/esys.h"

namespace sigil::enclave::tpm {

// Parses "BANK:N[,N...][+BANK:N...]" with BANK sha1/sha256/sha384 and N in 0..23 (the PC Client
// platform's PCRs, TCG PC Client Platform TPM Profile s.4.6) into a TPML_PCR_SELECTION (Part 2
// s.10.9.7) with 3-byte bitmaps. Banks keep the given order; each bank at most once; PCRs may
// repeat or be unordered (the bitmap is a set). The SHA-256 bank is required because the
// verifier requires it (attestation/tpm/README.md). kInvalidArgument naming the bad part.
Result<TPML_PCR_SELECTION> ParsePcrSelection(std::string_view text);

// The canonical text of a selection ("sha256:0,1,2+sha1:0"), PCRs ascending.
std::string FormatPcrSelection(const TPML_PCR_SELECTION& sel);

// Reads every selected PCR with TPM2_PCR_Read (Part 3 s.22.4). One call returns at most 8
// digests (TPML_DIGEST), so this loops, removing what each call returned from the request;
// a call that returns nothing for a remaining PCR means the bank is not allocated on this TPM
// (kUnavailable naming it). Also returns the pcrUpdateCounter of the last read.
struct PcrRead {
  attestation::tpm::PcrValues values;
  UINT32 update_counter = 0;
};
Result<PcrRead> ReadPcrs(const EsysContext& ctx, const TPML_PCR_SELECTION& sel);

}  // namespace sigil::enclave::tpm
