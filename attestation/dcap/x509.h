// OpenSSL helpers for DCAP verification: raw P-256 keys and r||s signatures (the encodings the
// quote and Intel's collateral use), PEM/DER certificates and CRLs, and chain validation to a
// configured root at a given time. Thread-safety: all functions are thread-safe.
#pragma once

#include <openssl/x509.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/ossl.h"
#include "core/result.h"

namespace sigil::attestation::dcap {

using X509CrlPtr = CPtr<X509_CRL, X509_CRL_free>;

// EVP_PKEY for the P-256 point x||y (64 bytes; SGX API "ECDSA Attestation Key").
// kMalformedEvidence if it is not a point on the curve.
Result<EvpPkeyPtr> P256KeyFromRaw(ByteSpan xy);

// ECDSA-SHA256 verification of a raw 64-byte r||s signature over `message`.
// kVerificationFailed naming `what` if it does not verify.
Result<void> VerifyEcdsaRaw(EVP_PKEY* key, ByteSpan message, ByteSpan rs, std::string_view what);

// All certificates of a PEM bundle, in order (trailing NULs and text ignored). kMalformedEvidence
// if none parse or a BEGIN block is corrupt.
Result<std::vector<X509Ptr>> ParsePemCerts(ByteSpan pem, std::string_view what);
// One certificate, DER or PEM. kInvalidArgument if it does not parse.
Result<X509Ptr> ParseCert(ByteSpan der_or_pem);
// A DER CRL. kMalformedEvidence naming `what` if it does not parse.
Result<X509CrlPtr> ParseCrl(ByteSpan der, std::string_view what);

// The subject common name of `cert` ("" if absent).
std::string SubjectCommonName(X509* cert);

// Validates `leaf` via `intermediates` to one of `roots` (the only trust anchors; a root
// carried in the evidence is never trusted) at time `now`. With `crls` non-empty every
// certificate of the chain must be covered by a CRL from its issuer that is current at `now`
// and does not list it (X509_V_FLAG_CRL_CHECK_ALL). kVerificationFailed naming `what` and
// OpenSSL's reason; kExpired when the only problem is a validity period.
Result<void> VerifyChain(const std::vector<X509Ptr>& roots, X509* leaf,
                         const std::vector<X509*>& intermediates,
                         const std::vector<X509_CRL*>& crls,
                         std::chrono::system_clock::time_point now, std::string_view what);

}  // namespace sigil::attestation::dcap
