// JSON Web Key (RFC 7517) form of X25519 public keys: the OKP key type of RFC 8037 section 2.
// Thread-safety: both functions are thread-safe.
#pragma once

#include <string_view>

#include "core/bytes.h"
#include "core/json.h"
#include "core/result.h"

namespace sigil {

// {"kty":"OKP","crv":"X25519","x":base64url(public_key)}, x unpadded (RFC 8037 section 2).
// `public_key` should be 32 bytes; a JWK made from any other length is refused on the way back.
Json X25519PublicKeyToJwk(ByteSpan public_key);

// The 32-byte X25519 public key in `jwk`. Fails with kInvalidArgument, naming the member under
// `where` (a JSON path such as "$.tee_public_key"), if `jwk` is not an object; kty is not "OKP";
// crv is not "X25519"; a "d" member is present (a public JWK must not carry the private key,
// RFC 8037 section 2); x is not unpadded canonical base64url of exactly 32 bytes; or the key fails
// hpke::ValidatePublicKey: a non-canonical u-coordinate, the all-zero key or another point of
// small order (RFC 7748 section 6.1). Other members (kid, use, alg) are ignored.
Result<Bytes> X25519PublicKeyFromJwk(const Json& jwk, std::string_view where);

// The same checks except the small-order test, which costs an X25519 operation: only for a key
// the caller then requires to be byte-for-byte equal to one that passed X25519PublicKeyFromJwk
// already (a release's key must equal the one its attestation token binds, which the broker
// checked at attest before signing the token).
Result<Bytes> X25519PublicKeyFromJwkToCompare(const Json& jwk, std::string_view where);

}  // namespace sigil
