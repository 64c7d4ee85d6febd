// Sealing a small secret (the broker's root key) to a TPM 2.0 under a PCR policy, and unsealing
// it, through ESAPI (tpm2-tss).
//
// Seal: TPM2_CreatePrimary of the owner hierarchy's ECC P-256 storage root key (SRK) template
// (TCG TPM v2.0 Provisioning Guidance 1.0 s.7.5.1; re-created identically each time, so no
// persistent handle is needed), a trial policy session computing
//   PolicyPCR(selection, current values) [+ PolicyAuthValue if a password is given]
// (TCG TPM 2.0 Library Part 3 s.23.7, s.23.18), then TPM2_Create of a KEYEDHASH sealed-data
// object under the SRK with that authPolicy and without userWithAuth, so only a policy session
// that satisfies it can Unseal (Part 1 s.19.7 "Authorization Roles"). The password becomes the
// object's authValue as SHA-256(password), so any length fits the SHA-256 nameAlg limit.
//
// Parameter encryption (Part 1 s.21 "Session-based encryption"): TPM2_Create runs with a
// salted HMAC session (salt encrypted to the SRK, AES-128-CFB, TPMA_SESSION_DECRYPT) so the
// secret and the authValue cross the bus encrypted; TPM2_Unseal runs in a salted policy session
// with TPMA_SESSION_ENCRYPT so the unsealed bytes come back encrypted. With PolicyAuthValue the
// password is never sent in clear either (it keys the HMAC, Part 1 s.19.6.14).
//
// Every transient object and session is flushed (enclave/tpm/esys.h TransientHandle).
#pragma once

#include <string>

#include "broker/tpm/tpm_seal_pcrs.h"
#include "core/bytes.h"
#include "core/result.h"
#include "core/secret_bytes.h"
#include "enclave/tpm/esys.h"

namespace sigil::broker {

struct SealedObject {
  Bytes public_area;   // marshalled TPM2B_PUBLIC (tss2-mu)
  Bytes private_area;  // marshalled TPM2B_PRIVATE
  PcrSelection pcrs;
  Bytes policy_digest;  // the SHA-256 policy digest the object was sealed to
  bool with_password = false;
};

// Seals `secret` (1..128 bytes, MAX_SYM_DATA) to the PCRs' current values. `password` may be
// null or empty (no password).
Result<SealedObject> SealToTpm(enclave::tpm::EsysContext& tpm, const SecretBytes& secret,
                               const PcrSelection& pcrs, const SecretBytes* password);

// The policy digest PolicyPCR(+PolicyAuthValue) yields for the PCRs' values now (trial session).
Result<Bytes> CurrentPolicyDigest(enclave::tpm::EsysContext& tpm, const PcrSelection& pcrs,
                                  bool with_password);

// Unseals. Errors:
//  - kVerificationFailed "PCRs changed" (the current policy digest differs from the sealed one,
//    or the TPM answers TPM_RC_POLICY_FAIL);
//  - kUnauthenticated: wrong or missing password (TPM_RC_AUTH_FAIL), or the TPM refuses to load
//    the blob (tampered, or sealed on another TPM: TPM_RC_INTEGRITY and friends);
//  - kInvalidArgument: the blob does not parse or is not a policy-only sealed-data object;
//  - kUnavailable: the TPM cannot be reached or is in dictionary-attack lockout.
Result<SecretBytes> UnsealFromTpm(enclave::tpm::EsysContext& tpm, const SealedObject& sealed,
                                  const SecretBytes* password);

}  // namespace sigil::broker
