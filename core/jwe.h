// JSON Web Encryption (RFC 7516) to a recipient's public JWK, flattened JSON serialization
// (section 7.2.2), composed from OpenSSL as RFC 7518 specifies:
//   RSA keys: "alg":"RSA-OAEP-256" (section 4.3: OAEP with SHA-256 and MGF1-SHA-256);
//   EC keys (P-256, P-384): "alg":"ECDH-ES+A256KW" (section 4.6: ephemeral-static ECDH, Concat
//   KDF with empty apu/apv, AES-256 key wrap of the content key, RFC 3394);
//   content: "enc":"A256GCM", AAD = ASCII(BASE64URL(protected header)) (RFC 7516 section 5.1).
// Used by the KBS front end to hand a resource to a TEE (broker/kbs/).
// Thread-safety: all functions are thread-safe.
#pragma once

#include <cstddef>
#include <string_view>

#include "core/bytes.h"
#include "core/json.h"
#include "core/ossl.h"
#include "core/result.h"

namespace sigil::jwe {

// A checked public key from a JWK.
struct RecipientKey {
  enum class Kind { kRsa, kEc } kind = Kind::kRsa;
  EvpPkeyPtr pkey;
  std::size_t field_bytes = 0;  // EC: 32 (P-256) or 48 (P-384)
};

// Parses a public JWK: {"kty":"RSA","n","e"} (2048 to 8192-bit modulus, odd exponent >= 3) or
// {"kty":"EC","crv":"P-256"|"P-384","x","y"} (a point on the curve). Refuses private members
// (d, p, q, dp, dq, qi, oth, k), unpadded-base64url violations, and an "alg" other than the one
// this module would use for the key type (a guest asking for RSA1_5 must not get OAEP silently).
// kInvalidArgument naming `where`.
Result<RecipientKey> ParseRecipientJwk(const Json& jwk, std::string_view where);

// {"protected","encrypted_key","iv","ciphertext","tag"}, all base64url without padding.
Result<Json> Encrypt(const RecipientKey& key, ByteSpan plaintext);

// RFC 7518 section 4.6.2 Concat KDF (NIST SP 800-56A single-step KDF with SHA-256):
// keydatalen = 8 * key_bytes; OtherInfo = len32(alg_id) || alg_id || len32(apu) || apu ||
// len32(apv) || apv || u32be(keydatalen).
Bytes ConcatKdf(ByteSpan z, std::string_view alg_id, ByteSpan apu, ByteSpan apv, std::size_t key_bytes);

}  // namespace sigil::jwe
