// Attestation-key handling and the quote signature check (OpenSSL EVP).
// The TPM signs the digest of the marshalled TPMS_ATTEST (TCG TPM 2.0 Library Part 3 section
// 18.4 TPM2_Quote, Part 1 "Attestation" signing); we verify over the raw attest bytes.
#pragma once

#include <cstdint>

#include "core/bytes.h"
#include "core/ossl.h"
#include "core/result.h"

namespace sigil::attestation::tpm {

// Loads an SPKI public key, DER (whole buffer) or PEM ("PUBLIC KEY"). Only RSA (>= 2048 bits)
// and EC P-256/P-384 keys are accepted. `code` is used for every failure.
Result<EvpPkeyPtr> LoadAk(ByteSpan spki, Code code);
// DER SubjectPublicKeyInfo of `key` (the canonical form used to compare AKs).
Result<Bytes> AkDer(EVP_PKEY& key);

// Verifies `signature` over `attest` with `ak` and returns the hash algorithm (TPM_ALG_ID)
// of the signing scheme. `signature` is either
//  - a marshalled TPMT_SIGNATURE (Part 2 section 11.3.4): RSASSA-PKCS1-v1_5 or RSA-PSS with an
//    RSA AK, ECDSA with a P-256/P-384 AK; the scheme's hash must be SHA-256 or SHA-384 (SHA-1
//    signatures are refused); or
//  - when the AK is RSA and the blob is exactly the modulus size: a raw RSASSA-PKCS1-v1_5
//    signature with SHA-256 (what Azure's vTPM tooling stores). A marshalled TPMT_SIGNATURE is
//    always 6 bytes longer than the modulus, so the two forms cannot be confused.
// kMalformedEvidence if the blob does not parse, kVerificationFailed if the scheme does not fit
// the key or the signature is wrong.
Result<std::uint16_t> VerifyQuoteSignature(EVP_PKEY& ak, ByteSpan attest, ByteSpan signature);

}  // namespace sigil::attestation::tpm
