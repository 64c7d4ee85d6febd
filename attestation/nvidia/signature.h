// Report signature: ECDSA P-384 with SHA-384 (DSP0274 1.1 section 15 "Signature generation";
// NVIDIA negotiates TPM_ALG_ECDSA_ECC_NIST_P384 / TPM_ALG_SHA_384) over the concatenation of
// the GET_MEASUREMENTS request and the MEASUREMENTS response without the signature (the SPDM
// 1.1 L1/L2 transcript, which for one request/response pair is exactly those bytes). The
// signature is raw r||s, 48 bytes each, big-endian.
// Thread-safety: pure function.
#pragma once

#include "attestation/nvidia/report.h"
#include "core/bytes.h"
#include "core/ossl.h"
#include "core/result.h"

namespace sigil::attestation::nvidia {

// `report_bytes` is the decoded report `report` was parsed from. kVerificationFailed if `key`
// is not EC P-384 or the signature does not verify.
Result<void> VerifyReportSignature(ByteSpan report_bytes, const Report& report,
                                   const EVP_PKEY& key);

}  // namespace sigil::attestation::nvidia
