// NVIDIA GPU collateral carried in VerifyInput::collateral: a concatenation of PEM blocks,
//   "CERTIFICATE": the device certificate chain, LEAF FIRST (the key that signed the report),
//                  then its issuers in any order (nvtrust's hopperCertChain: FMC LF -> BROM ->
//                  Provisioner ICA -> GH100 Identity -> NVIDIA Device Identity CA); the root
//                  may be included but is only trusted if it equals a configured anchor;
//   "X509 CRL":    optional revocation lists, each applied to the chain certificates issued by
//                  its issuer (revocation.h);
//   "OCSP RESPONSE": optional DER OCSPResponse (RFC 6960 4.2.1, e.g. `openssl ocsp -respout`
//                  wrapped in PEM), applied to the chain certificates it answers for.
// Any other PEM label (keys, ...) is refused, text between blocks is ignored.
// Thread-safety: pure functions.
#pragma once

#include <vector>

#include "attestation/nvidia/revocation.h"
#include "core/bytes.h"
#include "core/ossl.h"
#include "core/result.h"

namespace sigil::attestation::nvidia {

struct Collateral {
  std::vector<X509Ptr> chain;    // in the given order, leaf first
  std::vector<X509CrlPtr> crls;
  std::vector<OcspResponsePtr> ocsp;
};

// Parses the PEM bundle above. Empty input gives an empty Collateral. kMalformedEvidence
// naming the block number if a block is corrupt, has another label, or does not parse.
Result<Collateral> ParseCollateral(ByteSpan pem);

// Revocation data alone, from one file (`sigil refs import-nvidia-rim --collateral`): a DER
// CRL (`openssl ca -gencrl` then `openssl crl -outform DER`), a DER OCSPResponse (`openssl ocsp
// -respout`), or a PEM bundle of "X509 CRL" and "OCSP RESPONSE" blocks as ParseCollateral reads
// them. Certificates are refused (kInvalidArgument): there the chain comes from the signed
// document itself, and a certificate here would only look like it mattered.
// kMalformedEvidence if the file is none of these.
Result<Collateral> ParseRevocationFile(ByteSpan bytes);

// Parses trust anchors: each entry one DER certificate or a PEM bundle of certificates.
// kInvalidArgument if an entry does not parse.
Result<std::vector<X509Ptr>> ParseAnchors(const std::vector<Bytes>& entries);

}  // namespace sigil::attestation::nvidia
