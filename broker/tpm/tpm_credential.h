// TPM2_MakeCredential done by the broker in software (TCG TPM 2.0 Library Part 1 rev 1.59
// s.24 "Credential Protection", Part 3 s.12.6 TPM2_MakeCredential), so a credential can be bound
// to (a) an endorsement key (EK) public key and (b) the Name of an attestation key (AK). Only the
// TPM that holds the EK's private part *and* has an object with that exact Name loaded can get
// the credential back with TPM2_ActivateCredential (enclave/tpm/activate.h).
//
// Supported EKs: the TCG EK Credential Profile templates with nameAlg SHA-256 and symmetric
// AES-128-CFB: RSA-2048 (L-1; seed RSA-OAEP encrypted) and NIST P-256 (L-2; seed from ECDH
// with an ephemeral key and KDFe).
#pragma once

#include <openssl/evp.h>

#include "core/bytes.h"
#include "core/result.h"
#include "core/secret_bytes.h"

namespace sigil::broker {

struct MadeCredential {
  Bytes credential_blob;   // marshalled TPM2B_ID_OBJECT (what ActivateCredential takes)
  Bytes encrypted_secret;  // marshalled TPM2B_ENCRYPTED_SECRET
};

// KDFa (Part 1 s.11.4.10.2): SP 800-108 counter-mode KDF with HMAC-SHA-256 as PRF,
// K(i) = HMAC(key, [i]32 || label || 0x00 || contextU || contextV || [bits]32). `label` is
// given without its terminating 0 (the KDF adds it). Exposed for tests.
Result<SecretBytes> KdfaSha256(ByteSpan key, std::string_view label, ByteSpan context_u,
                               ByteSpan context_v, std::size_t bits);

// MakeCredential(ek, ak_name, credential). `ak_name` is the AK's TPM2B_NAME contents
// (nameAlg || digest, see ParseAkPublic); `credential` at most 32 bytes (the EK nameAlg digest
// size, Part 3 s.12.6.1). kInvalidArgument for an EK that is neither RSA-2048 nor P-256.
Result<MadeCredential> MakeCredential(EVP_PKEY* ek, ByteSpan ak_name, const SecretBytes& credential);

}  // namespace sigil::broker
