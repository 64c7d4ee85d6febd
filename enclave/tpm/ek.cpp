#include "enclave/tpm/ek.h"

#include <tss2/tss2_mu.h>

namespace sigil::enclave::tpm {

namespace {

// The parts common to the L-1 and L-2 templates.
TPM2B_PUBLIC EkCommon(TPMI_ALG_PUBLIC type) {
  // TCG EK Credential Profile v2.5 s.B.3.4 "PolicyA": the digest of
  // TPM2_PolicySecret(TPM_RH_ENDORSEMENT) with SHA-256.
  static constexpr std::uint8_t kPolicyA[32] = {
      0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc, 0x8d, 0x46, 0xa5, 0xd7, 0x24,
      0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52, 0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa};
  TPM2B_PUBLIC t{};
  TPMT_PUBLIC& p = t.publicArea;
  p.type = type;
  p.nameAlg = TPM2_ALG_SHA256;
  p.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
                       TPMA_OBJECT_ADMINWITHPOLICY | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
  p.authPolicy.size = sizeof kPolicyA;
  std::copy(std::begin(kPolicyA), std::end(kPolicyA), p.authPolicy.buffer);
  return t;
}

Result<LoadedEk> CreateEk(const EsysContext& ctx, TPM2B_PUBLIC tmpl, const char* what) {
  TPM2B_SENSITIVE_CREATE sensitive{};
  TPM2B_DATA outside{};
  TPML_PCR_SELECTION creation_pcrs{};
  ESYS_TR handle = ESYS_TR_NONE;
  TPM2B_PUBLIC* pub_raw = nullptr;
  TSS2_RC rc = Retry([&] {
    return Esys_CreatePrimary(ctx.get(), ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                              &sensitive, &tmpl, &outside, &creation_pcrs, &handle, &pub_raw, nullptr, nullptr,
                              nullptr);
  });
  EsysPtr<TPM2B_PUBLIC> pub(pub_raw);
  if (rc != TSS2_RC_SUCCESS) return TssError(rc, std::string("Esys_CreatePrimary(") + what + ", endorsement hierarchy)");
  LoadedEk ek;
  ek.handle = TransientHandle(ctx.get(), handle);
  ek.pub = *pub;
  return ek;
}

}  // namespace

TPM2B_PUBLIC EccEkTemplate() {
  TPM2B_PUBLIC t = EkCommon(TPM2_ALG_ECC);
  TPMT_PUBLIC& p = t.publicArea;
  p.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_AES;
  p.parameters.eccDetail.symmetric.keyBits.aes = 128;
  p.parameters.eccDetail.symmetric.mode.aes = TPM2_ALG_CFB;
  p.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
  p.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
  p.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
  p.unique.ecc.x.size = 32;  // zeros
  p.unique.ecc.y.size = 32;
  return t;
}

TPM2B_PUBLIC RsaEkTemplate() {
  TPM2B_PUBLIC t = EkCommon(TPM2_ALG_RSA);
  TPMT_PUBLIC& p = t.publicArea;
  p.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_AES;
  p.parameters.rsaDetail.symmetric.keyBits.aes = 128;
  p.parameters.rsaDetail.symmetric.mode.aes = TPM2_ALG_CFB;
  p.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
  p.parameters.rsaDetail.keyBits = 2048;
  p.parameters.rsaDetail.exponent = 0;
  p.unique.rsa.size = 256;  // zeros
  return t;
}

Result<LoadedEk> CreateRsaEk(const EsysContext& ctx) { return CreateEk(ctx, RsaEkTemplate(), "RSA EK"); }
Result<LoadedEk> CreateEccEk(const EsysContext& ctx) { return CreateEk(ctx, EccEkTemplate(), "ECC P-256 EK"); }

Result<Bytes> MarshalPublic(const TPM2B_PUBLIC& pub) {
  Bytes out(sizeof(TPM2B_PUBLIC));
  size_t len = 0;
  TSS2_RC rc = Tss2_MU_TPM2B_PUBLIC_Marshal(&pub, out.data(), out.size(), &len);
  if (rc != TSS2_RC_SUCCESS) return TssError(rc, "Tss2_MU_TPM2B_PUBLIC_Marshal");
  out.resize(len);
  return out;
}

}  // namespace sigil::enclave::tpm
