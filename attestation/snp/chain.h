// The AMD endorsement chain VCEK -> ASK -> ARK (or VLEK -> ASVK -> ARK), pub. 57230 section
// "Certificate Chain": ARK and ASK/ASVK are RSA-4096 certificates signed with RSASSA-PSS/SHA-384;
// the ARK is self-signed and must be byte-identical to a configured trust anchor.
// Thread-safety: pure function over caller-owned certificates.
#pragma once

#include <chrono>
#include <vector>

#include "attestation/snp/tcb.h"
#include "core/ossl.h"
#include "core/result.h"

namespace sigil::attestation::snp {

struct ChainInput {
  const X509* leaf = nullptr;  // VCEK or VLEK
  const X509* ask = nullptr;   // ASK or ASVK
  const X509* ark = nullptr;
  Product product = Product::kMilan;  // from the leaf's productName
  bool vlek = false;                  // leaf is a VLEK: the ASK must be an ASVK
  std::chrono::system_clock::time_point now;
};

// Checks, in order: ARK DER equals one of `trusted_arks` (kVerificationFailed); ARK self-signed;
// ASK signed by ARK; leaf signed by ASK, each with issuer name == issuer's subject and signature
// algorithm RSASSA-PSS with SHA-384 (kVerificationFailed); ARK CN "ARK-<product>" and ASK CN
// "SEV-<product>" (VCEK) or "SEV-VLEK-<product>" (VLEK) (kVerificationFailed: a Genoa VCEK must
// not chain to a Milan ARK even if keys were shared); every certificate valid at `now` (kExpired).
Result<void> VerifyChain(const ChainInput& in, const std::vector<X509Ptr>& trusted_arks);

}  // namespace sigil::attestation::snp
