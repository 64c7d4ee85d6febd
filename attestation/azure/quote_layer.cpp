#include "attestation/azure/quote_layer.h"

#include "attestation/tpm/verifier.h"

namespace sigil::attestation::azure {

Result<Claims> VerifyVtpmQuote(ByteSpan ak_spki, ByteSpan quote_evidence,
                               ByteSpan expected_binding) {
  tpm::TpmConfig config;
  config.registered_aks.emplace_back(ak_spki.begin(), ak_spki.end());
  auto verifier = tpm::TpmVerifier::Create(std::move(config));
  if (!verifier) {
    return std::move(verifier).error().Wrap("vTPM AK");
  }
  // The quote's time plays no part (no certificates); TpmVerifier ignores `now`.
  auto claims = (*verifier)->Verify(VerifyInput{quote_evidence, {}, expected_binding, {}, {}});
  if (!claims) {
    return std::move(claims).error().Wrap(
        "vTPM quote (must be made by the HCL report's HCLAkPub)");
  }
  return std::move(claims).value();
}

}  // namespace sigil::attestation::azure
