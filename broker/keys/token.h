// Attestation result tokens: compact JWS (RFC 7515) with alg EdDSA (RFC 8037), signed by the
// broker's token key. The token carries the verified claims, the TEE public key it is bound to
// (cnf.jwk, RFC 7800), the evidence digest, and a short lifetime.
#pragma once

#include <cstdint>
#include <string>

#include "attestation/claims.h"
#include "core/bytes.h"
#include "core/result.h"
#include "core/secret_bytes.h"

namespace sigil::broker {

struct TokenBody {
  std::string tenant;
  std::string tee;
  std::string jti;
  std::int64_t iat = 0;
  std::int64_t exp = 0;
  Bytes tee_public_key;  // X25519
  std::string evidence_digest;
  attestation::Claims claims;
};

Result<std::string> SignToken(const TokenBody& body, const SecretBytes& signing_seed);
// kUnauthenticated for a malformed or badly signed token, kExpired past exp.
Result<TokenBody> VerifyToken(const std::string& token, ByteSpan signing_public_key, std::int64_t now_seconds);

}  // namespace sigil::broker
