// Attestation result tokens: compact JWS (RFC 7515) with alg EdDSA (RFC 8037), signed by the
// broker's token key. The token carries the verified claims, the TEE public key it is bound to
// (cnf.jwk, RFC 7800), the evidence digest, and a short lifetime.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

#include "attestation/claims.h"
#include "core/bytes.h"
#include "core/json.h"
#include "core/ed25519.h"
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

// Header {"alg":"EdDSA","kid":TokenKeyId(signer's public key),"typ":"JWT"} (the kid names the
// key, so relying parties pick it from the key set). The signer is the broker's token key,
// expanded once at start: every attestation signs a token.
Result<std::string> SignToken(const TokenBody& body, const Ed25519Signer& signer);
// The tokens this broker signed, remembered (SHA-256 of the whole token) until they expire, so
// that their release need not verify this broker's own signature again: an Ed25519 verify is
// about a fifth of a flow's cryptography. Remembering is exact (the whole token, signature
// included), so a token found here is one this process produced; any other token is verified
// as usual. At most `capacity` are kept, the oldest forgotten first. Thread-safe.
class IssuedTokens {
 public:
  explicit IssuedTokens(std::size_t capacity = 1 << 16) : capacity_(capacity) {}
  void Remember(const std::string& token, std::int64_t exp_seconds, std::int64_t now_seconds);
  bool Contains(const std::string& token) const;

 private:
  const std::size_t capacity_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::int64_t> exp_by_digest_;
  std::deque<std::pair<std::string, std::int64_t>> order_;  // oldest first
};

// kUnauthenticated for a malformed or badly signed token, kExpired past exp. With `issued`, a
// token this broker signed itself is recognised without a signature verification.
Result<TokenBody> VerifyToken(const std::string& token, ByteSpan signing_public_key, std::int64_t now_seconds,
                              const IssuedTokens* issued = nullptr);

// The token key's id: its RFC 7638 JWK thumbprint, base64url(SHA-256(
// {"crv":"Ed25519","kty":"OKP","x":base64url(public key)})), so anyone can recompute it.
std::string TokenKeyId(ByteSpan signing_public_key);

// The token keys as a JWK Set (RFC 7517 section 5), served at /.well-known/jwks.json:
// {"keys":[{"kty":"OKP","crv":"Ed25519","x","kid","use":"sig","alg":"EdDSA"}]}.
Json TokenKeySet(ByteSpan signing_public_key);

}  // namespace sigil::broker
