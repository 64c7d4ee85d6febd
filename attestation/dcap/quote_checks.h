// The signature checks that tie a quote to Intel's PCK (Intel "TDX DCAP Quoting Library API"
// tables "Quote Signature Data", "QE Report Certification Data"; "SGX ECDSA Quote Library API"
// "ECDSA 256-bit Quote Signature Data Structure"). Thread-safety: thread-safe.
#pragma once

#include "attestation/dcap/pck.h"
#include "attestation/dcap/quote.h"
#include "core/result.h"

namespace sigil::attestation::dcap {

// Checks, in order:
//  1. the QE report signature (ECDSA P-256/SHA-256, r||s) by the PCK leaf's public key, over the
//     384-byte QE report: Intel's PCK vouches for the Quoting Enclave;
//  2. QE REPORTDATA[0..32] == SHA-256(attestation key || QE auth data) and REPORTDATA[32..64]
//     all zero: the QE vouches for the attestation key (SGX API "QE Report" / "QE Report Data");
//  3. the quote signature by the attestation key over header || body (signed_region).
// kVerificationFailed naming the failing check; kMalformedEvidence for an unusable key.
// Does not validate the PCK chain itself (VerifyPckChain).
Result<void> VerifyQuoteSignatures(const Quote& quote, const PckChain& chain);

}  // namespace sigil::attestation::dcap
