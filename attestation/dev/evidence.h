// The dev evidence wire format, sigil-dev-evidence/v1 (attestation/dev/README.md is the spec).
// Pure functions over bytes: no clock, no keys, no I/O. The attester (enclave/dev_attester.h)
// builds evidence with these, the verifier (attestation/dev/verifier.h) parses it with them, so
// the two sides cannot drift apart.
// Thread-safety: all functions are thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <optional>

#include "attestation/purpose.h"
#include "core/bytes.h"
#include "core/result.h"

namespace sigil::attestation::dev {

inline constexpr std::string_view kEvidenceFormat = "sigil-dev-evidence/v1";
inline constexpr std::string_view kSignatureContext = "sigil/v1/dev-evidence";
inline constexpr std::string_view kPlatformName = "sigil-dev";
inline constexpr std::size_t kMaxEvidenceSize = 64 * 1024;
inline constexpr std::size_t kMeasurementSize = 48;  // SHA-384

// The signed statement: what the dev "TEE" claims about the workload.
struct DevPayload {
  Bytes binding;            // 64 bytes (core/protocol.h Binding)
  bool debug = false;
  std::string measurement;  // 96 lowercase hex digits (SHA-384)
  std::int64_t issued_at = 0;  // Unix seconds, >= 0
  // What the plaintext will be used for (attestation/purpose.h). Optional on the wire so that
  // evidence from older loaders still verifies; without it no workload.* claim is emitted and
  // the broker releases no model-weights key (broker/api/release_purpose.h).
  std::optional<WorkloadPurpose> workload;
  bool operator==(const DevPayload&) const = default;
};

// The envelope: the exact signed payload bytes and the signature over them.
struct DevEnvelope {
  Bytes payload;    // canonical JSON of a DevPayload
  Bytes signature;  // 64-byte Ed25519 signature over SigningInput(payload)
};

// Canonical JSON of `p` (keys sorted, no whitespace), including the fixed "insecure":true and
// "platform":"sigil-dev", and "workload":{"engine","mode","sandbox"} when p.workload is set.
// kInvalidArgument if a field is out of range (binding size, hex form, ValidatePurpose).
Result<std::string> SerializePayload(const DevPayload& p);

// "sigil/v1/dev-evidence" || payload: the exact bytes the platform key signs.
Bytes SigningInput(ByteSpan payload);

// UTF-8 JSON {"format":...,"payload":<base64url>,"signature":<base64url>}.
Bytes SerializeEnvelope(const DevEnvelope& e);

// Strict envelope parse. kMalformedEvidence naming the field on: size > kMaxEvidenceSize, not
// JSON, not an object, missing or unknown fields, wrong types, wrong format string, bad
// base64url, signature not 64 bytes.
Result<DevEnvelope> ParseEnvelope(ByteSpan evidence);

// Strict payload parse (call only on authenticated bytes). kMalformedEvidence naming the field
// on: not JSON, unknown or missing fields (only "workload" may be absent; inside it exactly
// engine, mode, sandbox, as ValidatePurpose), wrong types, wrong lengths, upper-case or non-hex
// digits, insecure != true, platform != "sigil-dev", negative issued_at, or bytes that are not
// the canonical form (so every payload has exactly one encoding, duplicates keys included).
Result<DevPayload> ParsePayload(ByteSpan payload);

}  // namespace sigil::attestation::dev
