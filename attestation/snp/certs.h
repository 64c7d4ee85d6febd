// Certificate loading and the AMD VCEK/VLEK X.509 extensions (AMD "Versioned Chip Endorsement
// Key (VCEK) Certificate and KDS Interface Specification", pub. 57230, section "VCEK Certificate
// Extensions"; the VLEK spec pub. 58369 uses the same OIDs except hwID).
// Thread-safety: pure functions; returned objects are owned by the caller.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "attestation/snp/tcb.h"
#include "core/bytes.h"
#include "core/ossl.h"
#include "core/result.h"

namespace sigil::attestation::snp {

// Parses every certificate in `bytes`: one or more PEM "CERTIFICATE" blocks, or else exactly one
// DER certificate. Fails with `code` (kInvalidArgument for configuration, kMalformedEvidence for
// collateral) if no PEM block parses, or the DER has trailing bytes. As in OpenSSL, text outside
// the PEM blocks is ignored.
// Serial numbers: RFC 5280 4.1.2.2 requires a positive serial, but AMD KDS has issued VCEKs with
// serial 0 (all three VCEKs in our vectors) and, per go-sev-guest, negative serials. OpenSSL 3
// parses both, and so do we: the serial carries no security meaning here, because each
// certificate is authenticated by its signature chain to the pinned ARK (tests pin this).
Result<std::vector<X509Ptr>> LoadCertificates(ByteSpan bytes, Code code);

// DER encoding of `cert`.
Bytes CertDer(const X509& cert);
// The subject commonName, or "" if absent.
std::string SubjectCommonName(const X509& cert);

// The VCEK/VLEK extensions under 1.3.6.1.4.1.3704.1.
struct VcekExtensions {
  std::string product_name;  // .2 productName, e.g. "Milan-B0"
  TcbVersion tcb;            // .3.1 blSPL, .3.2 teeSPL, .3.3 snpSPL, .3.8 ucodeSPL, .3.9 fmcSPL
  std::optional<Bytes> hw_id;  // .4 hwID (64 bytes Milan/Genoa, 8 bytes Turin; absent on VLEK)
};

// Reads the extensions. kVerificationFailed if productName or an SPL needed for the product is
// missing or badly encoded (fmcSPL is required exactly for Turin).
Result<VcekExtensions> ReadVcekExtensions(const X509& cert);

}  // namespace sigil::attestation::snp
