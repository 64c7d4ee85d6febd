// The claims of a PSA attestation token (RFC 9783) and of the Arm CCA platform token (DEN0137
// A7.2.3.1, which reuses the PSA claim keys): a pure parser of the COSE_Sign1 payload.
// Thread-safety: thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "attestation/claims.h"
#include "core/bytes.h"
#include "core/result.h"

namespace sigil::attestation::cca {

// Software component (RFC 9783 section 4.4.1): keys 1 type, 2 value, 4 version, 5 signer id,
// 6 description. Measurement value and signer id are required.
struct SwComponent {
  std::optional<std::string> type;
  Bytes measurement;
  std::optional<std::string> version;
  Bytes signer_id;
  std::optional<std::string> description;
};

struct PlatformClaims {
  std::string profile;         // 265
  Bytes challenge;             // 10 (PSA nonce / CCA platform challenge): 32, 48 or 64 bytes
  Bytes implementation_id;     // 2396: 32 bytes
  Bytes instance_id;           // 256: 33 bytes, 0x01 || 32 (UEID type RAND)
  std::int64_t lifecycle = 0;  // 2395: in a defined range (lifecycle.h)
  std::vector<SwComponent> sw; // 2399 (may be empty only with PSA no-sw-measurements 2393)
  std::optional<Bytes> config;                       // 2401 (CCA, required there)
  std::optional<std::string> hash_alg;               // 2402 (CCA, required there)
  std::optional<std::string> verification_service;   // 2400
  std::optional<std::int64_t> client_id;             // 2394 (PSA, required there)
  std::optional<Bytes> boot_seed;                    // 2397 (PSA): parsed, never reported
  std::optional<std::string> certification_reference; // 2398 (PSA)
};

enum class TokenKind { kCcaPlatform, kPsa };

// Profiles accepted: CCA "http://arm.com/CCA-SSD/1.0.0" (legacy) and
// "tag:arm.com,2023:cca_platform#1.0.0"; PSA "http://arm.com/psa/2.0.0".
// kMalformedEvidence naming the claim for: strict CBOR failures, a missing required claim, a
// wrong type or size, a lifecycle outside the defined ranges, an unknown profile.
// Claims not listed above are ignored (EAT is extensible, RFC 9711 section 4).
Result<PlatformClaims> ParsePlatformClaims(ByteSpan payload, TokenKind kind);

// Adds `<prefix>sw.N.{type,measurement,version,signer_id,description}` (hex for byte strings,
// absent optional fields omitted) for every component, and `<prefix>sw.count`.
void AddSwComponentClaims(Claims& claims, const std::string& prefix, const std::vector<SwComponent>& sw);

}  // namespace sigil::attestation::cca
