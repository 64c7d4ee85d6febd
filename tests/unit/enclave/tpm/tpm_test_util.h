// Helpers for tests against a real TPM: a quick primary key and the list of loaded transient
// objects (TPM2_GetCapability(TPM2_CAP_HANDLES) from TRANSIENT_FIRST, Part 3 s.30.2).
#pragma once

#include <algorithm>
#include <vector>

#include "core/bytes.h"
#include "enclave/tpm/esys.h"

namespace sigil::enclave::tpm {

// An ECC P-256 restricted signing primary under the owner hierarchy (empty auth).
inline Result<TransientHandle> CreateTestPrimary(const EsysContext& ctx) {
  TPM2B_SENSITIVE_CREATE sens{};
  TPM2B_PUBLIC tmpl{};
  tmpl.publicArea.type = TPM2_ALG_ECC;
  tmpl.publicArea.nameAlg = TPM2_ALG_SHA256;
  tmpl.publicArea.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                     TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
                                     TPMA_OBJECT_SIGN_ENCRYPT;
  tmpl.publicArea.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
  tmpl.publicArea.parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
  tmpl.publicArea.parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
  tmpl.publicArea.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
  tmpl.publicArea.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
  TPM2B_DATA outside{};
  TPML_PCR_SELECTION pcrs{};
  ESYS_TR h = ESYS_TR_NONE;
  TSS2_RC rc =
      Esys_CreatePrimary(ctx.get(), ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                         &sens, &tmpl, &outside, &pcrs, &h, nullptr, nullptr, nullptr, nullptr);
  if (rc != TSS2_RC_SUCCESS) return Fail(rc, "Esys_CreatePrimary");
  return TransientHandle(ctx.get(), h);
}

inline Result<std::vector<TPM2_HANDLE>> TransientHandlesInTpm(const EsysContext& ctx) {
  TPMS_CAPABILITY_DATA* raw = nullptr;
  TSS2_RC rc =
      Esys_GetCapability(ctx.get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_HANDLES,
                         TPM2_TRANSIENT_FIRST, TPM2_MAX_CAP_HANDLES, nullptr, &raw);
  if (rc != TSS2_RC_SUCCESS) return Fail(rc, "Esys_GetCapability");
  EsysPtr<TPMS_CAPABILITY_DATA> data(raw);
  std::vector<TPM2_HANDLE> out;
  for (UINT32 i = 0; i < data->data.handles.count; ++i) {
    TPM2_HANDLE h = data->data.handles.handle[i];
    if ((h & TPM2_HR_RANGE_MASK) == TPM2_HR_TRANSIENT) out.push_back(h);
  }
  return out;
}

// TPM2_PCR_Extend (Part 3 s.22.2) of SHA-256 PCR `pcr` with `digest` (32 bytes) at locality 0.
inline Result<void> ExtendSha256Pcr(const EsysContext& ctx, std::uint32_t pcr,
                                    const Bytes& digest) {
  if (digest.size() != 32) return Fail(Code::kInvalidArgument, "SHA-256 digest must be 32 bytes");
  TPML_DIGEST_VALUES values{};
  values.count = 1;
  values.digests[0].hashAlg = TPM2_ALG_SHA256;
  std::copy(digest.begin(), digest.end(), values.digests[0].digest.sha256);
  return Status(Esys_PCR_Extend(ctx.get(), ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                ESYS_TR_NONE, &values),
                "Esys_PCR_Extend");
}

}  // namespace sigil::enclave::tpm
