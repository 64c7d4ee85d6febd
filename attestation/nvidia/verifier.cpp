#include "attestation/nvidia/verifier.h"

#include "attestation/nvidia/chain.h"
#include "attestation/nvidia/collateral.h"
#include "attestation/nvidia/nvidia_claims.h"
#include "attestation/nvidia/report.h"
#include "attestation/nvidia/signature.h"
#include "core/digest.h"
#include "core/encoding.h"

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

// Hex SHA-256 of the leaf's SubjectPublicKeyInfo (DER): the key that signed the report, one per
// device. Composite attestation (attestation/composite) refuses two reports by one key, since
// one GPU asked twice gives two different reports for the same nonce.
Result<std::string> DeviceKeyId(const X509& leaf) {
  const X509_PUBKEY* spki = X509_get_X509_PUBKEY(&leaf);
  const int len = spki == nullptr ? -1 : i2d_X509_PUBKEY(spki, nullptr);
  if (len <= 0) return OpenSslError(Code::kVerificationFailed, "NVIDIA leaf public key does not encode");
  Bytes der(static_cast<std::size_t>(len));
  unsigned char* out = der.data();
  if (i2d_X509_PUBKEY(spki, &out) != len) {
    return OpenSslError(Code::kInternal, "NVIDIA leaf public key encoding changed length");
  }
  return HexEncode(Sha256(der));
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
  SIGIL_ASSIGN_OR_RETURN(std::string device_key, DeviceKeyId(leaf));
  Claims claims = MakeClaims(report, revocation);
  claims.Set("nvidia.device_key", std::move(device_key));
  return claims;
}

}  // namespace sigil::attestation::nvidia
