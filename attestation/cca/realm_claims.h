// The claims of the Arm CCA realm token (DEN0137 A7.2.3.2; draft-ffm-rats-cca-token): a pure
// parser of the COSE_Sign1 payload. Thread-safety: thread-safe.
#pragma once

#include <array>
#include <optional>
#include <string>

#include "core/bytes.h"
#include "core/result.h"

namespace sigil::attestation::cca {

struct RealmClaims {
  std::optional<std::string> profile;  // 265: absent (legacy) or "tag:arm.com,2023:realm#1.0.0"
  Bytes challenge;                     // 10: 64 bytes
  Bytes personalization;               // 44235: 64 bytes
  std::string measurement_hash_alg;    // 44236
  Bytes rak;                           // 44237: the byte string's content, exactly as encoded
  Bytes rim;                           // 44238: 32, 48 or 64 bytes
  std::array<Bytes, 4> rems;           // 44239: four of 32, 48 or 64 bytes
  std::string rak_hash_alg;            // 44240: "sha-256", "sha-384" or "sha-512"
  // How `rak` is encoded: a raw SEC1 point in the legacy profile, a COSE_Key in realm#1.0.0.
  bool rak_is_cose_key = false;
};

// kMalformedEvidence naming the claim for strict CBOR failures, a missing claim, a wrong type or
// size, an unknown profile or hash algorithm name. Other claims are ignored.
Result<RealmClaims> ParseRealmClaims(ByteSpan payload);

// The digest of `data` under a hash named as in the realm/platform claims ("sha-256", "sha-384",
// "sha-512", the IANA Named Information names); kMalformedEvidence for any other name.
Result<Bytes> NamedHash(std::string_view name, ByteSpan data);

}  // namespace sigil::attestation::cca
