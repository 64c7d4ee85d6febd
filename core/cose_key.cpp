// core/cose_key.h: EC2 COSE_Key -> OpenSSL public key (RFC 9053 section 7.1.1, table 19).
#include "core/cose_key.h"

#include <string>

#include "core/ec_key.h"

namespace sigil::cose {
namespace {
constexpr std::int64_t kKty = 1, kCrv = -1, kX = -2, kY = -3, kD = -4;
constexpr std::int64_t kKtyEc2 = 2, kCrvP256 = 1, kCrvP384 = 2;
}  // namespace

Result<EvpPkeyPtr> PublicKeyFromCoseKey(const cbor_item_t* map, std::string_view what) {
  const std::string w(what);
  if (!cbor_isa_map(map)) return Fail(Code::kMalformedEvidence, w + ": COSE_Key is not a map");
  SIGIL_ASSIGN_OR_RETURN(const cbor_item_t* kty_item, cbor::MapGet(map, kKty, w + " kty"));
  SIGIL_ASSIGN_OR_RETURN(const std::int64_t kty, cbor::GetInt(kty_item, w + " kty"));
  if (kty != kKtyEc2) return Fail(Code::kMalformedEvidence, w + ": kty " + std::to_string(kty) + " is not EC2 (2)");
  if (cbor::MapFind(map, kD) != nullptr) {
    return Fail(Code::kMalformedEvidence, w + ": carries a private key (d, -4)");
  }
  SIGIL_ASSIGN_OR_RETURN(const cbor_item_t* crv_item, cbor::MapGet(map, kCrv, w + " crv"));
  SIGIL_ASSIGN_OR_RETURN(const std::int64_t crv, cbor::GetInt(crv_item, w + " crv"));
  if (crv != kCrvP256 && crv != kCrvP384) {
    return Fail(Code::kMalformedEvidence, w + ": crv " + std::to_string(crv) + " is not P-256 (1) or P-384 (2)");
  }
  const EcCurve curve = crv == kCrvP256 ? EcCurve::kP256 : EcCurve::kP384;
  SIGIL_ASSIGN_OR_RETURN(const cbor_item_t* x_item, cbor::MapGet(map, kX, w + " x"));
  SIGIL_ASSIGN_OR_RETURN(const cbor_item_t* y_item, cbor::MapGet(map, kY, w + " y"));
  SIGIL_ASSIGN_OR_RETURN(const Bytes x, cbor::GetBytes(x_item, w + " x"));
  SIGIL_ASSIGN_OR_RETURN(const Bytes y, cbor::GetBytes(y_item, w + " y (compressed points are refused)"));
  const std::size_t n = EcCoordinateSize(curve);
  if (x.size() != n || y.size() != n) {
    return Fail(Code::kMalformedEvidence, w + ": x and y must be " + std::to_string(n) + " bytes each");
  }
  auto key = EcPublicKeyFromPoint(curve, Concat({Bytes{0x04}, x, y}));
  if (!key) return key.error().Wrap(w);
  return key;
}

}  // namespace sigil::cose
