// Sigil's Azure vTPM evidence format "sigil-azure-vtpm/v1": a JSON object (UTF-8) with exactly
//   {"format":"sigil-azure-vtpm/v1",
//    "hcl_report": base64url (unpadded) of the HCL report as read from vTPM NV index 0x01400001
//                  (the NV index's zero padding may be kept or cut),
//    "quote": a "sigil-tpm-quote/v1" object (attestation/tpm/README.md) made by HCLAkPub
//             with the broker's binding as qualifying data; its optional "purpose_log" (the
//             TPM format's, attestation/tpm/evidence.h) carries the workload purpose, so the
//             purpose PCR's log travels with the quote that covers it and is parsed by the TPM
//             parser with its limits,
//    "td_quote": base64url of the TD quote made from the HCL report's TDREPORT (azure-tdx-vtpm
//                only; optional)}
// "quote" may be absent only for tools that check the HCL report alone. Parsing is structural:
// nothing here is authenticated.
// Thread-safety: pure functions.
#pragma once

#include <optional>

#include "core/bytes.h"
#include "core/result.h"

namespace sigil::attestation::azure {

inline constexpr char kAzureEvidenceFormat[] = "sigil-azure-vtpm/v1";

struct AzureEvidence {
  Bytes hcl_report;
  std::optional<Bytes> quote;  // the "quote" object re-serialised as canonical JSON
  Bytes td_quote;              // empty if absent
};

// kMalformedEvidence naming the member: not a JSON object (core/json rules: UTF-8, no duplicate
// keys), unknown members, wrong format string, hcl_report not canonical unpadded base64url or
// empty, quote not an object, td_quote not canonical base64url or empty.
Result<AzureEvidence> ParseAzureEvidence(ByteSpan json);

// Builds the evidence from the HCL report bytes and, if not empty, "sigil-tpm-quote/v1"
// evidence bytes (e.g. from tpm::EvidenceFromTpm2Tools). kInvalidArgument if the HCL report is
// empty or the quote is not a JSON object. `td_quote`, if not empty, becomes "td_quote".
Result<Bytes> MakeAzureEvidence(ByteSpan hcl_report, ByteSpan tpm_quote_evidence,
                                ByteSpan td_quote = {});

}  // namespace sigil::attestation::azure
