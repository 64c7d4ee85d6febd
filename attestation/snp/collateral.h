// SEV-SNP collateral carried in VerifyInput::collateral. Accepted encodings:
//   1. empty: the VCEK/VLEK comes from SnpConfig::vcek_cache and the ASK from
//      SnpConfig::intermediates;
//   2. a concatenation of PEM "CERTIFICATE" blocks in any order (e.g. the VCEK as PEM followed by
//      the KDS cert_chain ASK+ARK), or a single DER certificate (the VCEK, as served by AMD KDS);
//   3. a JSON object {"vcek": "<standard base64 of the DER VCEK/VLEK>", "chain": "<PEM ASK+ARK>"}
//      (both members optional, strings).
// Certificates are sorted by role: an EC key is the VCEK/VLEK (at most one), an RSA certificate
// whose subject equals its issuer is an ARK, any other RSA certificate an ASK/ASVK. Nothing here
// is trusted: the verifier accepts the chain only if the ARK equals a configured anchor.
// Thread-safety: pure function.
#pragma once

#include <vector>

#include "core/bytes.h"
#include "core/ossl.h"
#include "core/result.h"

namespace sigil::attestation::snp {

struct SortedCerts {
  X509Ptr vek;                  // VCEK or VLEK; null if none
  std::vector<X509Ptr> asks;    // ASK / ASVK candidates
  std::vector<X509Ptr> arks;    // self-signed roots (checked against the anchors later)
};

// Sorts `certs` by role (see above). kMalformedEvidence (or `code`) if more than one EC
// certificate is present or a certificate has neither an EC nor an RSA key.
Result<SortedCerts> SortCertificates(std::vector<X509Ptr> certs, Code code);

// Parses VerifyInput::collateral in the formats above. Errors are kMalformedEvidence.
Result<SortedCerts> ParseCollateral(ByteSpan collateral);

// Joins several separately given collateral inputs (each in one of the encodings above: a DER
// or PEM certificate, a PEM bundle, or the JSON object), e.g. the VCEK as served by AMD KDS and
// the KDS cert_chain file, into one PEM bundle for VerifyInput::collateral. The certificates'
// roles are decided by what they are (see above), never by the order of the inputs.
// kInvalidArgument naming the input ("SEV-SNP collateral #2: ...") if one is empty or does not
// parse, or if the inputs together hold more than one VCEK/VLEK.
Result<Bytes> CombineCollateral(const std::vector<Bytes>& parts);

}  // namespace sigil::attestation::snp
