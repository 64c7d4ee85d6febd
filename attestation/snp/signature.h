// Report signature check: ECDSA P-384 with SHA-384 over report[0x000:0x2A0] (pub. 56860,
// appendix "Digital Signatures", "ECDSA P-384 with SHA-384": R and S little-endian).
// Thread-safety: pure function.
#pragma once

#include "attestation/snp/report.h"
#include "core/bytes.h"
#include "core/ossl.h"
#include "core/result.h"

namespace sigil::attestation::snp {

// `report_bytes` is the 1184-byte report that produced `report`. `key` must be an EC P-384 key
// (the VCEK or VLEK). Fails with kVerificationFailed if the key is not P-384 or the signature
// does not verify.
Result<void> VerifyReportSignature(ByteSpan report_bytes, const Report& report,
                                   const EVP_PKEY& key);

}  // namespace sigil::attestation::snp
