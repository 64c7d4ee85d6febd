#include "enclave/tpm/activate.h"

#include <tss2/tss2_mu.h>

#include "core/encoding.h"
#include "enclave/tpm/ek.h"

namespace sigil::enclave::tpm {
namespace {

// A policy session satisfying the EK's policy A: TPM2_PolicySecret(TPM_RH_ENDORSEMENT) with the
// (empty) endorsement auth (EK Credential Profile s.B.3.4).
Result<TransientHandle> EkPolicySession(const EsysContext& ctx) {
  TPMT_SYM_DEF sym{};
  sym.algorithm = TPM2_ALG_NULL;
  ESYS_TR session = ESYS_TR_NONE;
  TSS2_RC rc = Retry([&] {
    return Esys_StartAuthSession(ctx.get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                 nullptr, TPM2_SE_POLICY, &sym, TPM2_ALG_SHA256, &session);
  });
  if (rc != TSS2_RC_SUCCESS) return TssError(rc, "Esys_StartAuthSession(policy, for the EK)");
  TransientHandle handle(ctx.get(), session);
  rc = Retry([&] {
    TPM2B_TIMEOUT* timeout = nullptr;
    TPMT_TK_AUTH* ticket = nullptr;
    TSS2_RC r = Esys_PolicySecret(ctx.get(), ESYS_TR_RH_ENDORSEMENT, session, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                  ESYS_TR_NONE, nullptr, nullptr, nullptr, 0, &timeout, &ticket);
    Esys_Free(timeout);
    Esys_Free(ticket);
    return r;
  });
  if (rc != TSS2_RC_SUCCESS) return TssError(rc, "Esys_PolicySecret(TPM_RH_ENDORSEMENT)");
  return handle;
}

}  // namespace

Result<SecretBytes> ActivateCredential(const EsysContext& ctx, ESYS_TR ak, ESYS_TR ek, ByteSpan credential_blob,
                                       ByteSpan encrypted_secret) {
  TPM2B_ID_OBJECT id{};
  TPM2B_ENCRYPTED_SECRET secret{};
  size_t off = 0;
  if (Tss2_MU_TPM2B_ID_OBJECT_Unmarshal(credential_blob.data(), credential_blob.size(), &off, &id) !=
          TSS2_RC_SUCCESS ||
      off != credential_blob.size()) {
    return Fail(Code::kInvalidArgument, "ActivateCredential: credential blob is not a marshalled TPM2B_ID_OBJECT");
  }
  off = 0;
  if (Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(encrypted_secret.data(), encrypted_secret.size(), &off, &secret) !=
          TSS2_RC_SUCCESS ||
      off != encrypted_secret.size()) {
    return Fail(Code::kInvalidArgument,
                "ActivateCredential: encrypted secret is not a marshalled TPM2B_ENCRYPTED_SECRET");
  }
  SIGIL_ASSIGN_OR_RETURN(TransientHandle session, EkPolicySession(ctx));
  TPM2B_DIGEST* cert_raw = nullptr;
  // Not retried: the policy session is consumed by the attempt.
  TSS2_RC rc = Esys_ActivateCredential(ctx.get(), ak, ek, ESYS_TR_PASSWORD, session.get(), ESYS_TR_NONE, &id,
                                       &secret, &cert_raw);
  EsysPtr<TPM2B_DIGEST> cert(cert_raw);
  if (rc != TSS2_RC_SUCCESS) {
    Error e = TssError(rc, "Esys_ActivateCredential");
    // Format-one TPM errors (bit 7) carry the failing parameter; strip it to get the code.
    TSS2_RC base = (rc & TPM2_RC_FMT1) ? (rc & (TPM2_RC_FMT1 | 0x3f)) : (rc & 0xfff);
    if ((rc & 0xfff0000) == 0 && (base == TPM2_RC_INTEGRITY || base == TPM2_RC_VALUE || base == TPM2_RC_SIZE)) {
      return Error(Code::kVerificationFailed,
                   e.message() + " (the credential was not made for this TPM's EK and this AK's Name)");
    }
    return e;
  }
  return SecretBytes::CopyFrom(std::span<const std::uint8_t>(cert->buffer, cert->size));
}

Result<Json> EnrolAkByEk(const EnrolOptions& o, const PostJson& post) {
  SIGIL_ASSIGN_OR_RETURN(EsysContext ctx, OpenTpm(o.tcti));
  SIGIL_ASSIGN_OR_RETURN(LoadedEk ek, o.ecc_ek ? CreateEccEk(ctx) : CreateRsaEk(ctx));
  LoadedAk ak;
  if (o.ak_handle) {
    SIGIL_ASSIGN_OR_RETURN(ak, LoadPersistentAk(ctx, *o.ak_handle));
  } else {
    SIGIL_ASSIGN_OR_RETURN(ak, CreatePrimaryAk(ctx, o.kind));
  }
  SIGIL_ASSIGN_OR_RETURN(Bytes ak_public, MarshalPublic(ak.pub));
  std::string ek_text = o.ek_cert;
  if (ek_text.empty()) {
    SIGIL_ASSIGN_OR_RETURN(ek_text, PublicAreaToSpkiPem(ek.pub));
  }
  Json start{{"tenant", o.tenant}, {"ek", ek_text}, {"ak_public", Base64UrlEncode(ak_public)}};
  SIGIL_ASSIGN_OR_RETURN(Json started, post("/v1/tpm/enrol/start", start));
  SIGIL_ASSIGN_OR_RETURN(std::string id, GetString(started, "enrolment_id", "enrol/start answer"));
  SIGIL_ASSIGN_OR_RETURN(std::string blob_text, GetString(started, "credential_blob", "enrol/start answer"));
  SIGIL_ASSIGN_OR_RETURN(std::string secret_text, GetString(started, "encrypted_secret", "enrol/start answer"));
  auto blob = Base64UrlDecode(blob_text);
  auto enc = Base64UrlDecode(secret_text);
  if (!blob || !enc) return Fail(Code::kInvalidArgument, "enrol/start answer: credential fields are not base64url");
  SIGIL_ASSIGN_OR_RETURN(SecretBytes secret, ActivateCredential(ctx, ak.handle(), ek.handle.get(), *blob, *enc));
  Json finish{{"enrolment_id", id}, {"secret", Base64UrlEncode(secret.Reveal(SecretAccess::Get()))}};
  return post("/v1/tpm/enrol/finish", finish);
}

}  // namespace sigil::enclave::tpm
