// The PCR values file that tpm2_quote writes next to a quote (`-o/--pcr FILE`), read against the
// quote's own PCR selection. Pure function: no OpenSSL, no I/O. Nothing read here is trusted:
// the values are authenticated later by the pcrDigest check (pcrs.h CheckPcrs).
//
// Accepted forms (tpm2-tools 5.x, lib/pcr.c):
//  1. "serialized", what `tpm2_quote -o FILE` writes by default (`-F serialized`): the C structs
//     in the writer's host layout (little-endian, natural alignment, as on x86-64 and aarch64):
//       TPML_PCR_SELECTION   132 bytes: u32 count (1..16), then 16 TPMS_PCR_SELECTION slots of
//                            8 bytes {u16 hash, u8 sizeofSelect (<= 4), u8 pcrSelect[4], pad};
//       u32 n                the number of TPML_DIGEST structs that follow (>= 1);
//       n x TPML_DIGEST      532 bytes each: u32 count (1..8), then 8 TPM2B_DIGEST slots of
//                            66 bytes {u16 size, u8 buffer[64]}.
//     The file's selection must equal the quote's (same banks in the same order, same PCRs), the
//     digests (in list order) must be one per selected PCR, each of its bank's size, and the file
//     must be exactly 136 + 532 n bytes. Unused slots and padding are ignored.
//  2. "values" (`-F values`): the selected digests concatenated in selection order (banks as
//     listed, PCRs ascending); the size must be exactly the selection's total digest size.
//  3. text: hex digests, one per line in the same order (as the shared vectors' pcrs files).
//     A file made only of hex digits and whitespace is read as text.
// tpm2-tools' newer "marshaled" form (5.5+, -F marshaled) is not accepted.
// Errors are kMalformedEvidence and say which form was recognised and what is wrong.
#pragma once

#include "attestation/tpm/attest.h"
#include "attestation/tpm/pcrs.h"
#include "core/bytes.h"
#include "core/result.h"

namespace sigil::attestation::tpm {

// Reads `file` (one of the forms above) against `quote`'s selection.
Result<PcrValues> ReadTpm2ToolsPcrFile(const Quote& quote, ByteSpan file);

// "sha256:0,1,2+sha1:7" for messages.
std::string SelectionToString(const std::vector<PcrBankSelection>& selection);

}  // namespace sigil::attestation::tpm
