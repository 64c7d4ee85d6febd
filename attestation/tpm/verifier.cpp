#include "attestation/tpm/verifier.h"

#include "attestation/tpm/attest.h"
#include "attestation/tpm/evidence.h"
#include "attestation/tpm/pcrs.h"
#include "attestation/tpm/signature.h"
#include "attestation/tpm/tpm_claims.h"
#include "core/digest.h"
#include "core/encoding.h"

namespace sigil::attestation::tpm {
namespace {

constexpr std::size_t kBindingSize = 64;
constexpr std::size_t kQualifyingDataSize = 32;

}  // namespace

Result<std::unique_ptr<Verifier>> TpmVerifier::Create(TpmConfig config) {
  if (config.registered_aks.empty()) {
    return Fail(Code::kInvalidArgument, "TpmConfig has no registered AK");
  }
  std::vector<Ak> aks;
  for (const Bytes& spki : config.registered_aks) {
    SIGIL_ASSIGN_OR_RETURN(EvpPkeyPtr key, LoadAk(spki, Code::kInvalidArgument));
    SIGIL_ASSIGN_OR_RETURN(Bytes der, AkDer(*key));
    aks.push_back(Ak{std::move(key), std::move(der)});
  }
  auto guard = config.monotonic_clock_guard ? std::make_unique<ReplayGuard>() : nullptr;
  return std::unique_ptr<Verifier>(new TpmVerifier(std::move(aks), std::move(guard)));
}

Result<Claims> TpmVerifier::Verify(const VerifyInput& input) const {
  if (!input.expected_binding.empty() && input.expected_binding.size() != kBindingSize) {
    return Fail(Code::kInvalidArgument, "expected_binding must be empty or 64 bytes");
  }
  SIGIL_ASSIGN_OR_RETURN(Evidence e, ParseEvidence(input.evidence));
  SIGIL_ASSIGN_OR_RETURN(Quote quote, ParseQuote(e.attest));

  // Step 3-4: the AK and the signature.
  const Ak* signer = nullptr;
  std::uint16_t digest_alg = 0;
  if (e.ak) {
    auto key = LoadAk(*e.ak, Code::kMalformedEvidence);
    if (!key) {
      return std::move(key).error().Wrap("$.ak");
    }
    SIGIL_ASSIGN_OR_RETURN(Bytes der, AkDer(**key));
    for (const Ak& ak : aks_) {
      if (ak.der == der) {
        signer = &ak;
      }
    }
    if (signer == nullptr) {
      return Fail(Code::kVerificationFailed, "the evidence's AK is not registered");
    }
    SIGIL_ASSIGN_OR_RETURN(digest_alg, VerifyQuoteSignature(*signer->key, e.attest, e.signature));
  } else {
    Error last(Code::kVerificationFailed, "no registered AK");
    for (const Ak& ak : aks_) {
      auto alg = VerifyQuoteSignature(*ak.key, e.attest, e.signature);
      if (alg) {
        signer = &ak;
        digest_alg = *alg;
        break;
      }
      last = std::move(alg).error();
    }
    if (signer == nullptr) {
      return last.Wrap("no registered AK verifies the quote");
    }
  }

  // Step 5: PCRs.
  SIGIL_ASSIGN_OR_RETURN(Bytes selected, CheckPcrs(quote, e.pcrs, digest_alg));

  // Step 6: freshness binding.
  if (!input.expected_binding.empty() &&
      !ConstantTimeEqual(quote.extra_data, input.expected_binding.first(kQualifyingDataSize))) {
    return Fail(Code::kVerificationFailed,
                "qualifying data (extraData) does not match the expected binding");
  }

  SIGIL_ASSIGN_OR_RETURN(Claims claims, BuildClaims(quote, e.pcrs, selected));

  // Step 7: replay guard, keyed by the AK's DER SPKI.
  if (guard_) {
    SIGIL_RETURN_IF_ERROR(guard_->Observe(
        HexEncode(signer->der), ClockState{quote.reset_count, quote.restart_count, quote.clock}));
  }
  return claims;
}

}  // namespace sigil::attestation::tpm
