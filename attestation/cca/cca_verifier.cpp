// attestation/cca/cca_verifier.h: the checks in the order the header lists them.
#include "attestation/cca/cca_verifier.h"

#include <string>

#include "attestation/cca/cca_claims.h"
#include "attestation/cca/collection.h"
#include "attestation/cca/platform_claims.h"
#include "attestation/cca/realm_claims.h"
#include "core/cose_key.h"
#include "core/cose_sign1.h"
#include "core/digest.h"
#include "core/ec_key.h"

namespace sigil::attestation::cca {
namespace {

constexpr std::size_t kBindingSize = 64;

// The Realm Attestation Key from claim 44237 (DEN0137 A7.2.3.2.5): a raw uncompressed P-384
// point in the legacy profile, a serialized COSE_Key in realm#1.0.0.
Result<EvpPkeyPtr> RealmKey(const RealmClaims& realm) {
  if (!realm.rak_is_cose_key) {
    auto key = EcPublicKeyFromPoint(EcCurve::kP384, realm.rak);
    if (!key) return key.error().Wrap("CCA realm token claim public-key (44237)");
    return key;
  }
  SIGIL_ASSIGN_OR_RETURN(cbor::ItemPtr map, cbor::Decode(realm.rak, cbor::Limits{.max_size = 1024, .max_depth = 2},
                                                         "CCA realm token claim public-key (44237)"));
  return cose::PublicKeyFromCoseKey(map.get(), "CCA realm token claim public-key (44237)");
}

Result<cose::Sign1> ParseToken(ByteSpan bytes, std::string_view what) {
  return cose::ParseSign1(bytes, cose::ParseOptions{.tag = cose::TagRule::kOptional, .max_size = kMaxTokenSize},
                          what);
}

}  // namespace

Result<std::unique_ptr<Verifier>> CcaVerifier::Create(CcaConfig config) {
  SIGIL_ASSIGN_OR_RETURN(AnchorSet anchors, AnchorSet::Create(config.cpaks, "CCA CPAK"));
  return std::unique_ptr<Verifier>(new CcaVerifier(std::move(anchors), config.allow_unbound));
}

Result<Claims> CcaVerifier::Verify(const VerifyInput& input) const {
  if (input.expected_binding.size() != kBindingSize && !(input.expected_binding.empty() && allow_unbound_)) {
    return Fail(Code::kInvalidArgument, "CCA: expected binding must be 64 bytes, got " +
                                            std::to_string(input.expected_binding.size()));
  }
  // 1. Framing, both COSE_Sign1 and both claim sets.
  SIGIL_ASSIGN_OR_RETURN(const CcaCollection collection, ParseCollection(input.evidence));
  SIGIL_ASSIGN_OR_RETURN(const cose::Sign1 platform_token, ParseToken(collection.platform, "CCA platform token"));
  SIGIL_ASSIGN_OR_RETURN(const cose::Sign1 realm_token, ParseToken(collection.realm, "CCA realm token"));
  SIGIL_ASSIGN_OR_RETURN(const PlatformClaims platform,
                         ParsePlatformClaims(platform_token.payload, TokenKind::kCcaPlatform));
  SIGIL_ASSIGN_OR_RETURN(const RealmClaims realm, ParseRealmClaims(realm_token.payload));
  SIGIL_ASSIGN_OR_RETURN(const EvpPkeyPtr rak, RealmKey(realm));

  // 2. The platform token is the root of trust: signed by a configured CPAK.
  SIGIL_RETURN_IF_ERROR(VerifyWithAnchors(platform_token, anchors_, platform.instance_id, "CCA platform token"));
  // 3. The realm token is signed by the RAK it carries; only step 4 makes that key trusted.
  SIGIL_RETURN_IF_ERROR(cose::VerifySign1(realm_token, rak.get(), "CCA realm token (RAK)"));
  // 4. The platform vouches for this RAK: its challenge is the RAK's hash (DEN0137 A7.2.3.1.3).
  SIGIL_ASSIGN_OR_RETURN(const Bytes rak_hash, NamedHash(realm.rak_hash_alg, realm.rak));
  if (!ConstantTimeEqual(rak_hash, platform.challenge)) {
    return Fail(Code::kVerificationFailed,
                "CCA: platform challenge does not match the " + realm.rak_hash_alg + " hash of the realm's RAK");
  }
  // 5. Freshness and key binding: the realm challenge carries the caller's 64-byte binding.
  if (!input.expected_binding.empty() && !ConstantTimeEqual(realm.challenge, input.expected_binding)) {
    return Fail(Code::kVerificationFailed, "CCA: realm challenge does not match the expected binding");
  }
  return CcaClaims(platform, realm);
}

}  // namespace sigil::attestation::cca
