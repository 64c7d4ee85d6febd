// The KBS front end's `tee-evidence.primary_evidence` (docs/protocol.md "KBS front end") turned
// into the bytes a Sigil verifier takes. Besides Sigil's own two inputs (a base64 string of the
// raw report or quote, for every KBS tee; a JSON object for `dev` and `tpm`, taken in canonical
// form), the JSON objects that Confidential Containers guests send are read, in the forms current
// with KBS protocol 0.4.0 (Trustee v0.14.0 and later, guest-components attestation-agent v0.14.0
// and later):
//   tdx: {"quote": <standard base64 of the TD quote>, "cc_eventlog": <base64 | null>,
//         "aa_eventlog": <string | null>}        -> the quote (DcapVerifier, tee "tdx")
//   sgx: {"quote": <standard base64 of the SGX quote>}  -> the quote (DcapVerifier, tee "sgx")
//   snp: {"attestation_report": <serde JSON of virtee/sev's AttestationReport>,
//         "cert_chain": [{"cert_type": "VCEK"|"VLEK"|"ASK"|"ARK"|"CRL"|"Empty"|{"OTHER": uuid},
//                         "data": [bytes]}] | null}
//        -> the 1184-byte ATTESTATION_REPORT rebuilt in the firmware layout (SnpVerifier), and
//           the VCEK/VLEK/ASK/ARK certificates as a PEM bundle for VerifyInput::collateral.
//   az-snp-vtpm / az-tdx-vtpm (Azure confidential VMs, evidence versions 0, 1 and 2 as Trustee
//     reads them; trustee_evidence.cpp has the exact forms):
//        {"version": 1|2, "tpm_quote": {"signature": hex, "message": hex, "pcrs": [hex]},
//         "hcl_report": <URL-safe base64>, "vcek": <URL-safe base64 DER> | "td_quote": <...>}
//        -> "sigil-azure-vtpm/v1" evidence (AzureVtpmVerifier: hcl_report, the quote as
//           "sigil-tpm-quote/v1" with each PCR value under the index the quote selects, and
//           td_quote), and for az-snp-vtpm the VCEK as PEM collateral. The quote's qualifying
//           data must be the first 32 bytes of the binding, so these sessions select SHA-256 for
//           the runtime data (kbs_api.cpp, docs/protocol.md "KBS front end"). Not verified: the
//           HCL user-data that version 2 fills with the report data (Trustee compares it; the
//           quote already binds the same value here).
// Nothing here is trusted: the report's signature covers every byte this rebuilds that carries a
// value (reserved bytes are written as the zero the firmware writes and the strict report parser
// demands), the quotes are taken as sent, and the certificates count only through the chain to
// the broker's configured ARK. Members Sigil does not verify are accepted but checked only for
// shape and derive no claim: TDX `cc_eventlog` (the CCEL ACPI table; Trustee replays it against
// the RTMRs, Sigil does not) and `aa_eventlog` (the attestation agent's event log, sent by
// guest-components v0.14.0 only); SNP `cert_chain` entries of type CRL, Empty and OTHER.
// Everything else is strict: unknown or missing members, wrong JSON types, numbers out of range,
// bad base64 (Trustee's STANDARD engine: padded, canonical) and oversize input are refused with
// an error that names the member. Duplicate members are refused earlier, by ParseJson
// (core/json.h), which every request body goes through.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string_view>

#include "core/bytes.h"
#include "core/json.h"
#include "core/result.h"

namespace sigil::broker {

// Largest evidence (and largest collateral) accepted, in bytes after decoding: far above any real
// report or quote with its certificates, far below what could hurt the broker.
inline constexpr std::size_t kMaxKbsEvidenceBytes = 256 * 1024;

struct KbsEvidence {
  Bytes evidence;    // VerifyInput::evidence for the tee's verifier
  Bytes collateral;  // VerifyInput::collateral: SNP cert_chain certificates as PEM; else empty
};

// `kbs_tee` is the KBS tee name of the session ("tdx", "sgx", "snp", "az-snp-vtpm",
// "az-tdx-vtpm", "tpm", "dev", ...);
// `primary_evidence` the value of tee-evidence.primary_evidence. kInvalidArgument naming the
// member ("tee-evidence.primary_evidence.attestation_report.current_tcb.fmc: ...") on any refusal.
Result<KbsEvidence> KbsPrimaryEvidence(std::string_view kbs_tee, const Json& primary_evidence);

}  // namespace sigil::broker
