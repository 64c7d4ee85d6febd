// ECDSA signatures in the fixed-size raw form (r and s, each the size of the curve's scalar:
// RFC 9053 section 2.1 for COSE, DMTF SPDM, Intel DCAP; AMD SEV-SNP stores them little-endian)
// verified with OpenSSL, which takes the DER ECDSA-Sig-Value. One place for the conversion so
// that every verifier gets the same checks.
#pragma once

#include <openssl/evp.h>

#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/result.h"

namespace sigil {

enum class ScalarOrder { kBigEndian, kLittleEndian };

// Verifies the signature (r, s) of `message` hashed with `digest` under the EC public key `key`.
// kMalformedEvidence if r or s is empty or longer than 66 bytes (P-521's scalar);
// kVerificationFailed with `failure` as the message if it does not verify; kInternal if OpenSSL
// fails otherwise.
Result<void> VerifyRawEcdsa(const EVP_PKEY* key, const EVP_MD* digest, ByteSpan message, ByteSpan r, ByteSpan s,
                            ScalarOrder order, const std::string& failure);

}  // namespace sigil
