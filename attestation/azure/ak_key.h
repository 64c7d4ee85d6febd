// The HCL runtime data's RSA JWKs as OpenSSL keys: DER SubjectPublicKeyInfo (how Sigil's TPM
// verifier registers and compares AKs) and PEM (what `sigil attest verify` prints).
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "attestation/azure/runtime_data.h"
#include "core/bytes.h"
#include "core/result.h"

namespace sigil::attestation::azure {

// DER SPKI of the RSA public key (n, e). kMalformedEvidence if OpenSSL refuses the key.
Result<Bytes> RsaJwkToSpkiDer(const RsaJwk& jwk);

// "-----BEGIN PUBLIC KEY-----" PEM of a DER SPKI. kInvalidArgument if it does not parse.
Result<std::string> SpkiDerToPem(ByteSpan spki_der);

}  // namespace sigil::attestation::azure
