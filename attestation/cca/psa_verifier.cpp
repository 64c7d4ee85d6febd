// attestation/cca/psa_verifier.h: the checks in the order the header lists them.
#include "attestation/cca/psa_verifier.h"

#include <algorithm>
#include <string>

#include "attestation/cca/collection.h"
#include "attestation/cca/platform_claims.h"
#include "attestation/cca/psa_claims.h"
#include "core/cose_sign1.h"
#include "core/digest.h"

namespace sigil::attestation::cca {

Result<std::unique_ptr<Verifier>> PsaVerifier::Create(PsaConfig config) {
  SIGIL_ASSIGN_OR_RETURN(AnchorSet anchors, AnchorSet::Create(config.iaks, "PSA IAK"));
  return std::unique_ptr<Verifier>(new PsaVerifier(std::move(anchors), config.allow_unbound));
}

Result<Claims> PsaVerifier::Verify(const VerifyInput& input) const {
  const ByteSpan binding = input.expected_binding;
  if (binding.size() != 64 && !(binding.empty() && allow_unbound_)) {
    return Fail(Code::kInvalidArgument, "PSA: expected binding must be 64 bytes, got " + std::to_string(binding.size()));
  }
  // 1. Structure and claims.
  SIGIL_ASSIGN_OR_RETURN(const cose::Sign1 token,
                         cose::ParseSign1(input.evidence, cose::ParseOptions{.max_size = kMaxTokenSize}, "PSA token"));
  SIGIL_ASSIGN_OR_RETURN(const PlatformClaims claims, ParsePlatformClaims(token.payload, TokenKind::kPsa));
  // 2. Signed by a configured IAK (RFC 9783 section 5).
  SIGIL_RETURN_IF_ERROR(VerifyWithAnchors(token, anchors_, claims.instance_id, "PSA token"));
  // 3. Freshness and key binding through the nonce (a prefix of the binding; see the header).
  if (!binding.empty() && !ConstantTimeEqual(claims.challenge, binding.first(claims.challenge.size()))) {
    return Fail(Code::kVerificationFailed, "PSA: nonce does not match the expected binding (first " +
                                               std::to_string(claims.challenge.size()) + " bytes)");
  }
  return PsaClaims(claims);
}

}  // namespace sigil::attestation::cca
