// The endorsement key (EK): a restricted decryption primary in the endorsement hierarchy created
// from the TCG EK Credential Profile for TPM Family 2.0 (v2.5 s.B.3.3, template L-1, RSA-2048):
// the same template on the same TPM always yields the same key (derived from the endorsement
// seed), and it is the key a TPM manufacturer's EK certificate certifies. Its authPolicy is
// PolicySecret(TPM_RH_ENDORSEMENT), so using it (ActivateCredential) needs a policy session.
#pragma once

#include <tss2/tss2_esys.h>

#include "core/bytes.h"
#include "core/result.h"
#include "enclave/tpm/esys.h"

namespace sigil::enclave::tpm {

// The L-1 RSA EK template: nameAlg SHA-256; fixedTPM, fixedParent, sensitiveDataOrigin,
// adminWithPolicy, restricted, decrypt; policy A (PolicySecret(TPM_RH_ENDORSEMENT)); AES-128-CFB;
// RSA-2048, exponent 0; unique = 256 zero bytes.
TPM2B_PUBLIC RsaEkTemplate();

struct LoadedEk {
  TransientHandle handle;  // flushed on destruction
  TPM2B_PUBLIC pub{};
};

// The L-2 ECC EK template: as L-1 but ECC NIST P-256, kdf and scheme NULL, unique = two 32-byte
// zero coordinates.
TPM2B_PUBLIC EccEkTemplate();

// TPM2_CreatePrimary(TPM_RH_ENDORSEMENT, RsaEkTemplate() / EccEkTemplate()) with empty
// endorsement auth.
Result<LoadedEk> CreateRsaEk(const EsysContext& ctx);
Result<LoadedEk> CreateEccEk(const EsysContext& ctx);

// Marshalled TPM2B_PUBLIC (tss2-mu), as tpm2_readpublic -o writes it.
Result<Bytes> MarshalPublic(const TPM2B_PUBLIC& pub);

}  // namespace sigil::enclave::tpm
