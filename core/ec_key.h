// EC public keys for ECDSA verification (P-256 and P-384 only, the curves of COSE ES256/ES384,
// RFC 9053 section 2.1) from the forms trust anchors and evidence carry them in.
// Thread-safety: every function here is thread-safe.
#pragma once

#include <string_view>

#include "core/bytes.h"
#include "core/json.h"
#include "core/ossl.h"
#include "core/result.h"

namespace sigil {

enum class EcCurve { kP256, kP384 };

// Coordinate size in bytes: 32 (P-256) or 48 (P-384).
std::size_t EcCoordinateSize(EcCurve curve);

// An uncompressed SEC1 point (0x04 || x || y) on `curve`. Fails with kMalformedEvidence if the
// length or prefix is wrong or the point is not on the curve (an explicit public-key check).
Result<EvpPkeyPtr> EcPublicKeyFromPoint(EcCurve curve, ByteSpan point);

// A SubjectPublicKeyInfo in PEM or DER, or a JWK (RFC 7518 section 6.2: kty "EC", crv "P-256"
// or "P-384", x and y base64url of the coordinate size; a "d" member is refused). Fails with
// kInvalidArgument naming `what` for anything else, including other curves and key types.
Result<EvpPkeyPtr> EcPublicKeyFromText(ByteSpan text, std::string_view what);
Result<EvpPkeyPtr> EcPublicKeyFromJwk(const Json& jwk, std::string_view what);

// The curve of an EC key; kInvalidArgument if the key is not EC on P-256 or P-384.
Result<EcCurve> EcCurveOf(const EVP_PKEY* key);

// The uncompressed SEC1 point of an EC public key.
Result<Bytes> EcPublicPoint(const EVP_PKEY* key);

}  // namespace sigil
