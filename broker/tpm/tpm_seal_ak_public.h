// A TPM attestation key given as its TPM2B_PUBLIC (what `tpm2_createak -u`, `tpm2_readpublic -o`
// and ESAPI return), for `sigil tpm register-ak --ak-public`. From the public area alone the
// broker derives the AK's SubjectPublicKeyInfo and its TPM Name, nameAlg || H_nameAlg(TPMT_PUBLIC)
// (TCG TPM 2.0 Library Part 1 s.16 "Names"). The TPM writes the signer's *qualified* name into
// every quote (qualifiedSigner, Part 2 s.10.12.12); for a primary key that is nameAlg ||
// H(hierarchy handle || Name), which the verifier then requires (attestation/tpm/verifier.h).
#pragma once

#include "core/bytes.h"
#include "core/result.h"

namespace sigil::broker {

struct AkPublic {
  Bytes spki_der;  // DER SubjectPublicKeyInfo of the key in the public area
  Bytes name;      // TPM2B_NAME contents: big-endian nameAlg || digest
};

// Parses a marshalled TPM2B_PUBLIC (tss2-mu, whole buffer) of a restricted signing key
// (fixedTPM, fixedParent, sensitiveDataOrigin, restricted, sign; not decrypt: Part 1 s.25.2,
// such a key only signs digests of TPM-generated structures) with nameAlg SHA-256 or SHA-384,
// RSA (exponent 0 = 65537) or ECC NIST P-256/P-384. kInvalidArgument naming what is wrong.
Result<AkPublic> ParseAkPublic(ByteSpan tpm2b_public);

}  // namespace sigil::broker
