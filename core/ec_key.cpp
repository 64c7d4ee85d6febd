// core/ec_key.h: EC public keys from points, SPKI (PEM/DER) and JWK, always checked on-curve.
#include "core/ec_key.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <string>

#include "core/encoding.h"

namespace sigil {
namespace {

using ParamBldPtr = CPtr<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;
using ParamPtr = CPtr<OSSL_PARAM, OSSL_PARAM_free>;

const char* GroupName(EcCurve curve) { return curve == EcCurve::kP256 ? "prime256v1" : "secp384r1"; }

// EVP_PKEY_fromdata does not check that the point lies on the curve; the public check does.
Result<void> CheckPublic(EVP_PKEY* key, Code code, std::string_view what) {
  EvpPkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    return OpenSslError(code, std::string(what) + ": public key is not a valid curve point");
  }
  return Ok();
}

Result<EvpPkeyPtr> FromSpki(ByteSpan text, std::string_view what) {
  EvpPkeyPtr key;
  BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  if (bio) key.reset(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    const unsigned char* p = text.data();
    key.reset(d2i_PUBKEY(nullptr, &p, static_cast<long>(text.size())));
    if (key && p != text.data() + text.size()) key.reset();  // trailing bytes after the DER
  }
  ERR_clear_error();
  if (!key) {
    return Fail(Code::kInvalidArgument,
                std::string(what) + ": not a PEM or DER public key (SubjectPublicKeyInfo) or JWK");
  }
  if (!EcCurveOf(key.get())) {
    return Fail(Code::kInvalidArgument, std::string(what) + ": not an EC P-256 or P-384 key");
  }
  SIGIL_RETURN_IF_ERROR(CheckPublic(key.get(), Code::kInvalidArgument, what));
  return key;
}

}  // namespace

std::size_t EcCoordinateSize(EcCurve curve) { return curve == EcCurve::kP256 ? 32 : 48; }

Result<EvpPkeyPtr> EcPublicKeyFromPoint(EcCurve curve, ByteSpan point) {
  const std::size_t n = EcCoordinateSize(curve);
  if (point.size() != 1 + 2 * n || point[0] != 0x04) {
    return Fail(Code::kMalformedEvidence, "EC point: expected " + std::to_string(1 + 2 * n) +
                                              " bytes starting 0x04, got " +
                                              std::to_string(point.size()));
  }
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, GroupName(curve), 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size())) {
    return OpenSslError(Code::kInternal, "building EC key parameters");
  }
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0) {
    return OpenSslError(Code::kMalformedEvidence, "EC point is not on the curve");
  }
  EvpPkeyPtr key(raw);
  SIGIL_RETURN_IF_ERROR(CheckPublic(key.get(), Code::kMalformedEvidence, "EC point"));
  return key;
}

Result<EvpPkeyPtr> EcPublicKeyFromJwk(const Json& jwk, std::string_view what) {
  const std::string w(what);
  if (!jwk.is_object()) return Fail(Code::kInvalidArgument, w + ": JWK is not an object");
  SIGIL_ASSIGN_OR_RETURN(const std::string kty, GetString(jwk, "kty", w));
  if (kty != "EC") return Fail(Code::kInvalidArgument, w + ".kty: expected \"EC\"");
  if (jwk.contains("d")) return Fail(Code::kInvalidArgument, w + ": a public JWK must not carry \"d\"");
  SIGIL_ASSIGN_OR_RETURN(const std::string crv, GetString(jwk, "crv", w));
  EcCurve curve;
  if (crv == "P-256") {
    curve = EcCurve::kP256;
  } else if (crv == "P-384") {
    curve = EcCurve::kP384;
  } else {
    return Fail(Code::kInvalidArgument, w + ".crv: expected \"P-256\" or \"P-384\"");
  }
  Bytes point{0x04};
  for (const char* member : {"x", "y"}) {
    SIGIL_ASSIGN_OR_RETURN(const std::string b64, GetString(jwk, member, w));
    auto c = Base64UrlDecode(b64);
    if (!c || c->size() != EcCoordinateSize(curve)) {
      return Fail(Code::kInvalidArgument, w + "." + member + ": expected base64url of " +
                                              std::to_string(EcCoordinateSize(curve)) + " bytes");
    }
    point.insert(point.end(), c->begin(), c->end());
  }
  auto key = EcPublicKeyFromPoint(curve, point);
  if (!key) return Fail(Code::kInvalidArgument, w + ": " + key.error().message());
  return key;
}

Result<EvpPkeyPtr> EcPublicKeyFromText(ByteSpan text, std::string_view what) {
  std::size_t i = 0;
  while (i < text.size() && (text[i] == ' ' || text[i] == '\n' || text[i] == '\r' || text[i] == '\t')) ++i;
  if (i < text.size() && text[i] == '{') {
    SIGIL_ASSIGN_OR_RETURN(const Json jwk, ParseJson(ToString(text), what));
    return EcPublicKeyFromJwk(jwk, what);
  }
  return FromSpki(text, what);
}

Result<EcCurve> EcCurveOf(const EVP_PKEY* key) {
  char group[64] = {0};
  std::size_t len = 0;
  if (key == nullptr || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
      EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &len) != 1) {
    ERR_clear_error();
    return Fail(Code::kInvalidArgument, "not an EC key");
  }
  const std::string_view name(group, len);
  if (name == "prime256v1") return EcCurve::kP256;
  if (name == "secp384r1") return EcCurve::kP384;
  return Fail(Code::kInvalidArgument, "EC key on " + std::string(name) + ", not P-256 or P-384");
}

Result<Bytes> EcPublicPoint(const EVP_PKEY* key) {
  std::size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, nullptr, 0, &len) != 1) {
    return OpenSslError(Code::kInternal, "reading the EC public point");
  }
  Bytes point(len);
  if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point.data(), len, &len) != 1) {
    return OpenSslError(Code::kInternal, "reading the EC public point");
  }
  point.resize(len);
  return point;
}

}  // namespace sigil
