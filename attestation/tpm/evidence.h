// Sigil's TPM evidence format "sigil-tpm-quote/v1" (see README.md in this folder):
//   {"format":"sigil-tpm-quote/v1",
//    "attest":    b64url(marshalled TPMS_ATTEST),
//    "signature": b64url(marshalled TPMT_SIGNATURE, or a raw RSASSA signature for an RSA AK),
//    "pcrs":      {"sha256": {"0": "hex", ...}, "sha1": {...}, "sha384": {...}},
//    "ak":        b64url(DER SubjectPublicKeyInfo)   (optional),
//    "purpose_log": {"pcr": N, "start": hex, "events": ["sigil-purpose/v1 ...", ...]} (optional)}
// Unknown keys, unknown banks, non-canonical PCR indexes ("00", "+1") and indexes >= 32 are
// kMalformedEvidence. Parsing is structural only: nothing here is authenticated.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "attestation/tpm/pcrs.h"
#include "core/bytes.h"
#include "core/json.h"
#include "core/result.h"

namespace sigil::attestation::tpm {

inline constexpr char kEvidenceFormat[] = "sigil-tpm-quote/v1";

// The workload purpose PCR (attestation/purpose.h, purpose_log.h). PCRs 8-15 are the only ones a
// locality-0 process can extend but nobody can reset before the next TPM reset (TCG PC Client
// Platform TPM Profile, PCR attributes): 0-7 belong to firmware, 16 and 23 are resettable from
// locality 0 (an attacker could reset one and replay a "sealed-memory" event into it), 17-22
// only extend from localities 2-4. The default, 13, is in Linux's registry only for systemd-stub
// system extensions measured at boot, so runtime extends by sigil-load disturb nothing else;
// 8/9 (boot loader), 10 (IMA), 11/12 (UKI), 14 (shim) and 15 (systemd) are in common use.
inline constexpr std::uint32_t kDefaultPurposePcr = 13;
inline constexpr std::uint32_t kMinPurposePcr = 8;
inline constexpr std::uint32_t kMaxPurposePcr = 15;
// Events per log: bounds the evidence (an event is ~200 bytes); the attester starts a new log
// segment when full.
inline constexpr std::size_t kMaxPurposeEvents = 1024;

// The purpose PCR's event log (SHA-256 bank): `start` is the PCR value before the first event
// (all zeros for a log that covers everything since the TPM reset); each event is extended as
// SHA-256(event bytes). Unauthenticated until replayed against a verified quote (purpose_log.h).
struct PurposeLog {
  std::uint32_t pcr = kDefaultPurposePcr;
  Bytes start;                      // 32 bytes
  std::vector<std::string> events;  // oldest first; canonical purpose events
  bool operator==(const PurposeLog&) const = default;
};

struct Evidence {
  Bytes attest;
  Bytes signature;
  PcrValues pcrs;
  std::optional<Bytes> ak;  // DER or PEM SPKI as given
  std::optional<PurposeLog> purpose_log;
};

// JSON of a purpose log, {"events":[...],"pcr":N,"start":"hex"} (also the attester's log file),
// and its strict parse: kMalformedEvidence for unknown or missing fields, a pcr that is not an
// integer in 0..31, a start that is not 64 hex digits, more than kMaxPurposeEvents events or
// events that are not strings. Events are not interpreted here.
Json PurposeLogToJson(const PurposeLog& log);
Result<PurposeLog> PurposeLogFromJson(const Json& j);

Result<Evidence> ParseEvidence(ByteSpan json);
// Canonical JSON of `e` (ak emitted only if present).
Bytes SerializeEvidence(const Evidence& e);

// Builds evidence from the files tpm2_quote writes:
//  - `message`: --message, the marshalled TPMS_ATTEST;
//  - `signature`: --signature, a marshalled TPMT_SIGNATURE (tpm2-tools' default "tss" format;
//    a raw "plain" RSASSA signature is accepted too, see signature.h);
//  - `pcrs_file`: the -o/--pcr output, in tpm2-tools' default "serialized" form, the "values"
//    form (-F values) or hex text lines; read against the quote's selection by
//    ReadTpm2ToolsPcrFile (pcr_file.h), which also names what is wrong with a bad file.
//  - `ak_spki`: the AK public key (PEM or DER SPKI), converted to DER; empty = omit "ak".
// kMalformedEvidence / kInvalidArgument on inconsistent inputs.
Result<Bytes> EvidenceFromTpm2Tools(ByteSpan message, ByteSpan signature, ByteSpan pcrs_file,
                                    ByteSpan ak_spki);

}  // namespace sigil::attestation::tpm
