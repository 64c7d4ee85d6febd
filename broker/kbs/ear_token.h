// The KBS attestation token: an EAR (draft-ietf-rats-ear) JWT, compact JWS with alg EdDSA signed
// by the broker's token key (the same key and kid as broker/keys/token.h, published at
// /.well-known/jwks.json). Payload:
//   {"eat_profile":"tag:github.com,2023:veraison/ear", "iat", "exp", "jti",
//    "ear.verifier-id":{"developer":"sigil","build":"sigild"},
//    "submods":{"cpu0":{"ear.status", "ear.trustworthiness-vector":{AR4SI},
//                       "ear.veraison.annotated-evidence":{verified claims, flat}}},
//    "cnf":{"jwk":tee-pubkey} (RFC 7800), "ear.sigil.evidence-digest": hex SHA-256 of evidence}
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>

#include "attestation/claims.h"
#include "core/bytes.h"
#include "core/json.h"
#include "core/ed25519.h"
#include "core/result.h"
#include "core/secret_bytes.h"

namespace sigil::broker {

inline constexpr const char* kEarProfile = "tag:github.com,2023:veraison/ear";

struct EarBody {
  std::string jti;
  std::int64_t iat = 0;
  std::int64_t exp = 0;
  std::string evidence_digest;
  Json tee_pubkey;  // the JWK as the guest sent it
  attestation::Claims claims;
};

// The AR4SI trustworthiness vector Sigil's verification supports for these verified claims, and
// the EAR status it implies (the worst tier among its claims). Tenant policy is applied later,
// at each release, so "executables" stays 0 (no claim) here.
Json TrustworthinessVector(const attestation::Claims& claims);
std::string EarStatus(const Json& vector);

Result<std::string> SignEar(const EarBody& body, const Ed25519Signer& signer);
// kUnauthenticated for anything malformed, signed by another key or of another profile;
// kExpired at or past exp.
Result<EarBody> VerifyEar(const std::string& token, ByteSpan signing_public_key, std::int64_t now_seconds);

}  // namespace sigil::broker
