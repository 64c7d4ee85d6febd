// Sigil's TPM evidence format "sigil-tpm-quote/v1" (see README.md in this folder):
//   {"format":"sigil-tpm-quote/v1",
//    "attest":    b64url(marshalled TPMS_ATTEST),
//    "signature": b64url(marshalled TPMT_SIGNATURE, or a raw RSASSA signature for an RSA AK),
//    "pcrs":      {"sha256": {"0": "hex", ...}, "sha1": {...}, "sha384": {...}},
//    "ak":        b64url(DER SubjectPublicKeyInfo)   (optional)}
// Unknown keys, unknown banks, non-canonical PCR indexes ("00", "+1") and indexes >= 32 are
// kMalformedEvidence. Parsing is structural only: nothing here is authenticated.
#pragma once

#include <optional>

#include "attestation/tpm/pcrs.h"
#include "core/bytes.h"
#include "core/result.h"

namespace sigil::attestation::tpm {

inline constexpr char kEvidenceFormat[] = "sigil-tpm-quote/v1";

struct Evidence {
  Bytes attest;
  Bytes signature;
  PcrValues pcrs;
  std::optional<Bytes> ak;  // DER or PEM SPKI as given
};

Result<Evidence> ParseEvidence(ByteSpan json);
// Canonical JSON of `e` (ak emitted only if present).
Bytes SerializeEvidence(const Evidence& e);

// Builds evidence from the files tpm2_quote writes:
//  - `message`: --message, the marshalled TPMS_ATTEST;
//  - `signature`: --signature, a marshalled TPMT_SIGNATURE (tpm2-tools' default "tss" format;
//    a raw "plain" RSASSA signature is accepted too, see signature.h);
//  - `pcrs_file`: --pcr output in tpm2-tools "values" format, i.e. the selected PCR digests
//    concatenated in the quote's selection order (banks as listed, PCRs ascending), OR a text
//    file of hex PCR values, one per line in the same order (as the shared vectors'
//    derived_pcrs_sha256.txt). A file made only of hex digits and whitespace is read as text.
//    The values are assigned to PCRs using the selection in `message`; the total size must
//    match exactly. The tpm2-tools "serialized" format is not supported.
//  - `ak_spki`: the AK public key (PEM or DER SPKI), converted to DER; empty = omit "ak".
// kMalformedEvidence / kInvalidArgument on inconsistent inputs.
Result<Bytes> EvidenceFromTpm2Tools(ByteSpan message, ByteSpan signature, ByteSpan pcrs_file,
                                    ByteSpan ak_spki);

}  // namespace sigil::attestation::tpm
