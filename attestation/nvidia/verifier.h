// NvidiaVerifier: verifies an NVIDIA Hopper GPU attestation report (SPDM 1.1 GET_MEASUREMENTS
// request + signed MEASUREMENTS response, report.h) with the device certificate chain against
// pinned NVIDIA Device Identity CA roots, and produces Claims.
// Thread-safety: Create() is a factory; Verify() is const and safe to call concurrently.
#pragma once

#include <memory>
#include <vector>

#include "attestation/verifier.h"
#include "core/bytes.h"
#include "core/ossl.h"
#include "core/result.h"

namespace sigil::attestation::nvidia {

struct NvidiaConfig {
  // Trusted roots, each a DER certificate or a PEM bundle (e.g. nvtrust's
  // verifier_device_root.pem, "NVIDIA Device Identity CA"). At least one.
  std::vector<Bytes> roots;
  // Optional device chain (PEM, leaf first, same format as the collateral) used when the
  // collateral carries no certificate. Trusted only through the roots.
  Bytes default_chain;
};

class NvidiaVerifier final : public Verifier {
 public:
  // kInvalidArgument if there is no root, a root does not parse, or default_chain is not a
  // PEM certificate bundle.
  static Result<std::unique_ptr<Verifier>> Create(NvidiaConfig config);

  std::string_view tee() const override { return "nvidia-gpu"; }

  // input.evidence: the report, raw or hex text (DecodeEvidence). input.collateral: PEM
  // bundle of the device chain (leaf first) plus optional "X509 CRL" blocks (collateral.h);
  // without certificates, the configured default_chain is used.
  // input.expected_binding: 32 bytes = the expected request nonce; 64 bytes = Sigil's binding,
  // whose FIRST 32 bytes are the nonce (as Trustee binds a GPU to a CPU report: the GPU nonce
  // is the first 32 bytes of the binding hash). Empty or any other length is kInvalidArgument:
  // there is no unchecked-nonce mode.
  // Checks, in order:
  //  1. expected_binding length (kInvalidArgument);
  //  2. decode and strict parse (report.h; kMalformedEvidence), collateral parse
  //     (kMalformedEvidence);
  //  3. chain leaf-first to a configured root at input.now, >= 2 certificates, CRLs applied
  //     (chain.h; kVerificationFailed, kExpired);
  //  4. ECDSA P-384/SHA-384 signature with the leaf key (signature.h; kVerificationFailed);
  //  5. report FWID (opaque 20) == leaf TcbInfo FWID (kVerificationFailed);
  //  6. request nonce == expected nonce, constant time (kVerificationFailed).
  // Not checked here: RIM reference values (rim.h verifies NVIDIA's signed RIMs for the import
  // into reference sets; policies compare per block with indices_in_reference). Online OCSP.
  // Revocation without CRLs is reported as nvidia.revocation = "not-checked", never "good".
  Result<Claims> Verify(const VerifyInput& input) const override;

 private:
  NvidiaVerifier(std::vector<X509Ptr> roots, Bytes default_chain)
      : roots_(std::move(roots)), default_chain_(std::move(default_chain)) {}

  std::vector<X509Ptr> roots_;
  Bytes default_chain_;
};

}  // namespace sigil::attestation::nvidia
