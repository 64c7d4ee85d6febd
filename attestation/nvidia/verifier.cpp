#include "attestation/nvidia/verifier.h"

#include "attestation/nvidia/chain.h"
#include "attestation/nvidia/collateral.h"
#include "attestation/nvidia/nvidia_claims.h"
#include "attestation/nvidia/report.h"
#include "attestation/nvidia/signature.h"
#include "core/digest.h"

namespace sigil::attestation::nvidia {
namespace {

constexpr std::size_t kBindingSize = 64;

// The nonce the report must carry: see the header for the two accepted lengths.
Result<ByteSpan> ExpectedNonce(ByteSpan binding) {
  if (binding.size() == kNonceSize) return binding;
  if (binding.size() == kBindingSize) return binding.first(kNonceSize);
  return Fail(Code::kInvalidArgument,
              "nvidia-gpu verifier: expected binding must be the 32-byte nonce or the 64-byte "
              "binding (got " + std::to_string(binding.size()) + " bytes)");
}

}  // namespace

Result<std::unique_ptr<Verifier>> NvidiaVerifier::Create(NvidiaConfig config) {
  SIGIL_ASSIGN_OR_RETURN(std::vector<X509Ptr> roots, ParseAnchors(config.roots));
  if (roots.empty()) {
    return Fail(Code::kInvalidArgument, "nvidia-gpu verifier needs at least one trusted root");
  }
  if (!config.default_chain.empty()) {
    auto chain = ParseCollateral(config.default_chain);
    if (!chain || chain->chain.empty()) {
      return Fail(Code::kInvalidArgument,
                  "nvidia-gpu default chain is not a PEM certificate bundle");
    }
  }
  return std::unique_ptr<Verifier>(
      new NvidiaVerifier(std::move(roots), std::move(config.default_chain)));
}

Result<Claims> NvidiaVerifier::Verify(const VerifyInput& input) const {
  SIGIL_ASSIGN_OR_RETURN(const ByteSpan nonce, ExpectedNonce(input.expected_binding));
  SIGIL_ASSIGN_OR_RETURN(const Bytes bytes, DecodeEvidence(input.evidence));
  SIGIL_ASSIGN_OR_RETURN(const Report report, ParseReport(bytes));
  SIGIL_ASSIGN_OR_RETURN(Collateral collateral, ParseCollateral(input.collateral));
  if (collateral.chain.empty() && !default_chain_.empty()) {
    SIGIL_ASSIGN_OR_RETURN(Collateral fallback, ParseCollateral(default_chain_));
    collateral.chain = std::move(fallback.chain);
  }
  SIGIL_ASSIGN_OR_RETURN(const Revocation revocation,
                         VerifyDeviceChain(collateral.chain, roots_, collateral.crls,
                                           collateral.ocsp, input.now));
  const X509& leaf = *collateral.chain.front();
  const EVP_PKEY* key = X509_get0_pubkey(&leaf);
  if (key == nullptr) {
    return OpenSslError(Code::kVerificationFailed, "NVIDIA leaf public key does not parse");
  }
  SIGIL_RETURN_IF_ERROR(VerifyReportSignature(bytes, report, *key));
  SIGIL_RETURN_IF_ERROR(CheckFwid(leaf, report));
  // DSP0274 GET_MEASUREMENTS Nonce: the requester's fresh value; without this comparison a
  // report captured once could be replayed forever.
  if (!ConstantTimeEqual(report.request_nonce, nonce)) {
    return Fail(Code::kVerificationFailed,
                "NVIDIA report nonce mismatch: the request nonce is not the expected nonce");
  }
  return MakeClaims(report, revocation);
}

}  // namespace sigil::attestation::nvidia
