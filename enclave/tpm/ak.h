// The attestation key (AK): a restricted signing key (TCG TPM 2.0 Library Part 1 s.25.2,
// "restricted" keys only sign TPM-generated structures such as TPMS_ATTEST), either created as
// a primary object in the owner hierarchy from a fixed template or loaded from a persistent
// handle. A primary is derived from the owner seed and the template (Part 1 s.26.3), so the same
// TPM yields the same AK every time until TPM2_Clear; persisting it (EvictControl) just avoids
// regenerating it (RSA key generation takes seconds on some TPMs).
#pragma once

#include <tss2/tss2_esys.h>

#include <optional>
#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/result.h"
#include "enclave/tpm/esys.h"

namespace sigil::enclave::tpm {

enum class AkKind {
  kRsaSsaSha256,   // RSA-2048, RSASSA-PKCS1-v1_5 with SHA-256
  kRsaPssSha256,   // RSA-2048, RSA-PSS with SHA-256
  kEccP256Sha256,  // NIST P-256, ECDSA with SHA-256
  kEccP384Sha384,  // NIST P-384, ECDSA with SHA-384
};

// "rsa" (= "rsassa"), "rsapss", "ecc" (= "ecc-p256"), "ecc-p384". kInvalidArgument otherwise.
Result<AkKind> ParseAkKind(std::string_view name);
std::string_view AkKindName(AkKind kind);

// The TPM2B_PUBLIC template of a restricted signing AK of `kind` (fixedTPM, fixedParent,
// sensitiveDataOrigin, userWithAuth, restricted, sign; nameAlg SHA-256; empty auth).
TPM2B_PUBLIC AkTemplate(AkKind kind);

// A loaded AK: its ESYS_TR (flushed if transient, closed if persistent) and public area.
struct LoadedAk {
  TransientHandle transient;  // set for a primary created now
  TrCloser persistent;        // set for an AK at a persistent handle
  TPM2B_PUBLIC pub{};
  ESYS_TR handle() const {
    return transient.get() != ESYS_TR_NONE ? transient.get() : persistent.get();
  }
};

// TPM2_CreatePrimary in the owner hierarchy (owner auth empty) with AkTemplate(kind).
Result<LoadedAk> CreatePrimaryAk(const EsysContext& ctx, AkKind kind);
// The object at persistent handle `handle` (0x81xxxxxx). It must be a restricted signing key;
// kNotFound if nothing is there, kInvalidArgument if it is not an AK.
Result<LoadedAk> LoadPersistentAk(const EsysContext& ctx, TPM2_HANDLE handle);
// Creates the primary AK of `kind` and makes it persistent at `handle` (TPM2_EvictControl with
// owner auth). If an AK is already there it is returned unchanged (kAlreadyExists is not an
// error: the handle already serves its purpose).
Result<LoadedAk> PersistAk(const EsysContext& ctx, AkKind kind, TPM2_HANDLE handle);

// "0x81000001" / "2164260865" -> handle in the persistent range (Part 2 s.7.5); else
// kInvalidArgument.
Result<TPM2_HANDLE> ParsePersistentHandle(std::string_view text);

// DER SubjectPublicKeyInfo (RFC 5280 s.4.1) of an RSA or ECC public area, as the verifier
// registers AKs. kInvalidArgument for other key types or curves.
Result<Bytes> PublicAreaToSpkiDer(const TPM2B_PUBLIC& pub);
// The same as PEM ("-----BEGIN PUBLIC KEY-----").
Result<std::string> PublicAreaToSpkiPem(const TPM2B_PUBLIC& pub);

}  // namespace sigil::enclave::tpm
