#include "core/jwk.h"

#include <string>

#include "core/encoding.h"
#include "core/hpke.h"

namespace sigil {
namespace {

constexpr std::size_t kX25519KeySize = 32;

Error Bad(std::string_view where, std::string_view member, std::string_view what) {
  return Error(Code::kInvalidArgument,
               std::string(where) + "." + std::string(member) + ": " + std::string(what));
}

}  // namespace

Json X25519PublicKeyToJwk(ByteSpan public_key) {
  return Json{{"kty", "OKP"}, {"crv", "X25519"}, {"x", Base64UrlEncode(public_key)}};
}

Result<Bytes> X25519PublicKeyFromJwkToCompare(const Json& jwk, std::string_view where) {
  if (!jwk.is_object()) {
    return Fail(Code::kInvalidArgument, std::string(where) + ": expected a JWK object");
  }
  SIGIL_ASSIGN_OR_RETURN(std::string kty, GetString(jwk, "kty", where));
  if (kty != "OKP") return Bad(where, "kty", "expected \"OKP\" (RFC 8037 section 2)");
  SIGIL_ASSIGN_OR_RETURN(std::string crv, GetString(jwk, "crv", where));
  if (crv != "X25519") return Bad(where, "crv", "expected \"X25519\"");
  if (jwk.contains("d")) return Bad(where, "d", "a public key JWK must not carry the private key");
  SIGIL_ASSIGN_OR_RETURN(std::string x, GetString(jwk, "x", where));
  // RFC 7515 section 2 / RFC 8037: unpadded canonical base64url, the protocol's one rule.
  Result<Bytes> key = Base64UrlDecode(x);
  if (!key) return Bad(where, "x", key.error().message());
  if (key->size() != kX25519KeySize) {
    return Bad(where, "x", "expected 32 bytes, got " + std::to_string(key->size()));
  }
  return key;
}

Result<Bytes> X25519PublicKeyFromJwk(const Json& jwk, std::string_view where) {
  SIGIL_ASSIGN_OR_RETURN(Bytes key, X25519PublicKeyFromJwkToCompare(jwk, where));
  Result<void> valid = hpke::ValidatePublicKey(hpke::Kem::kX25519HkdfSha256, key);
  if (!valid) return Bad(where, "x", valid.error().message());
  return key;
}

}  // namespace sigil
