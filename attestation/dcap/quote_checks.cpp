#include "attestation/dcap/quote_checks.h"

#include <algorithm>

#include "core/digest.h"

namespace sigil::attestation::dcap {

Result<void> VerifyQuoteSignatures(const Quote& quote, const PckChain& chain) {
  EVP_PKEY* pck_key = X509_get0_pubkey(chain.leaf());
  if (pck_key == nullptr || EVP_PKEY_get_base_id(pck_key) != EVP_PKEY_EC) {
    return OpenSslError(Code::kMalformedEvidence, "PCK leaf key is not an EC key");
  }
  SIGIL_RETURN_IF_ERROR(VerifyEcdsaRaw(pck_key, quote.qe_report, quote.qe_report_signature,
                                       "QE report signature (by the PCK leaf key)"));
  const Sha256Digest expected = Sha256(Concat({quote.attestation_key, quote.qe_auth_data}));
  const auto& rd = quote.qe_report_body.report_data;
  const bool tail_zero = std::all_of(rd.begin() + 32, rd.end(), [](std::uint8_t b) { return b == 0; });
  if (!std::equal(expected.begin(), expected.end(), rd.begin()) || !tail_zero) {
    return Fail(Code::kVerificationFailed,
                "QE report data does not bind the attestation key (SHA-256(key || auth data) "
                "|| 32 zero bytes expected)");
  }
  SIGIL_ASSIGN_OR_RETURN(EvpPkeyPtr att_key, P256KeyFromRaw(quote.attestation_key));
  return VerifyEcdsaRaw(att_key.get(), quote.signed_region, quote.signature,
                        "quote signature (by the attestation key over header and body)");
}

}  // namespace sigil::attestation::dcap
