#include "broker/tpm/tpm_seal.h"

#include <sodium.h>
#include <tss2/tss2_mu.h>

#include <cstring>

#include "core/digest.h"
#include "core/encoding.h"

namespace sigil::broker {
namespace {

using enclave::tpm::EsysContext;
using enclave::tpm::EsysPtr;
using enclave::tpm::Retry;
using enclave::tpm::TransientHandle;

Result<void> Tss(TSS2_RC rc, std::string_view op) { return enclave::tpm::Status(rc, op); }

// The TPM's response code without the handle/session/parameter number (Part 2 s.6.6.2: for a
// format-one code, bits 6 and 8..11 say where; the error is RC_FMT1 + bits 0..5).
TSS2_RC TpmCode(TSS2_RC rc) {
  if ((rc & TSS2_RC_LAYER_MASK) != TSS2_TPM_RC_LAYER) return rc;
  if (rc & TPM2_RC_FMT1) return rc & (TPM2_RC_FMT1 | 0x3f);
  return rc;
}

// ECC P-256 SRK template: TCG TPM v2.0 Provisioning Guidance 1.0 s.7.5.1 (restricted decrypt
// storage key, AES-128-CFB, userWithAuth, noDA, empty authPolicy, zero-filled unique).
TPM2B_PUBLIC SrkTemplate() {
  TPM2B_PUBLIC t{};
  TPMT_PUBLIC& p = t.publicArea;
  p.type = TPM2_ALG_ECC;
  p.nameAlg = TPM2_ALG_SHA256;
  p.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
                       TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA | TPMA_OBJECT_RESTRICTED |
                       TPMA_OBJECT_DECRYPT;
  p.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_AES;
  p.parameters.eccDetail.symmetric.keyBits.aes = 128;
  p.parameters.eccDetail.symmetric.mode.aes = TPM2_ALG_CFB;
  p.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
  p.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
  p.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
  p.unique.ecc.x.size = 32;
  p.unique.ecc.y.size = 32;
  return t;
}

Result<TransientHandle> CreateSrk(EsysContext& tpm) {
  TPM2B_SENSITIVE_CREATE sens{};
  TPM2B_PUBLIC tmpl = SrkTemplate();
  TPM2B_DATA outside{};
  TPML_PCR_SELECTION creation{};
  ESYS_TR h = ESYS_TR_NONE;
  TPM2B_PUBLIC* out_pub = nullptr;
  TPM2B_CREATION_DATA* cdata = nullptr;
  TPM2B_DIGEST* chash = nullptr;
  TPMT_TK_CREATION* ticket = nullptr;
  TSS2_RC rc = Retry([&] {
    return Esys_CreatePrimary(tpm.get(), ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &sens,
                              &tmpl, &outside, &creation, &h, &out_pub, &cdata, &chash, &ticket);
  });
  EsysPtr<TPM2B_PUBLIC> p1(out_pub);
  EsysPtr<TPM2B_CREATION_DATA> p2(cdata);
  EsysPtr<TPM2B_DIGEST> p3(chash);
  EsysPtr<TPMT_TK_CREATION> p4(ticket);
  SIGIL_RETURN_IF_ERROR(Tss(rc, "TPM2_CreatePrimary(owner SRK, ECC P-256)"));
  return TransientHandle(tpm.get(), h);
}

// A session: `salt_key` NONE for an unsalted trial session, else salted to that key with
// AES-128-CFB parameter encryption available.
Result<TransientHandle> StartSession(EsysContext& tpm, ESYS_TR salt_key, TPM2_SE type) {
  TPMT_SYM_DEF sym{};
  if (salt_key == ESYS_TR_NONE) {
    sym.algorithm = TPM2_ALG_NULL;
  } else {
    sym.algorithm = TPM2_ALG_AES;
    sym.keyBits.aes = 128;
    sym.mode.aes = TPM2_ALG_CFB;
  }
  ESYS_TR s = ESYS_TR_NONE;
  TSS2_RC rc = Retry([&] {
    return Esys_StartAuthSession(tpm.get(), salt_key, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                 nullptr, type, &sym, TPM2_ALG_SHA256, &s);
  });
  SIGIL_RETURN_IF_ERROR(Tss(rc, "TPM2_StartAuthSession"));
  return TransientHandle(tpm.get(), s);
}

// The policy both the trial session (at seal) and the real one (at unseal) run, in this order.
Result<void> RunPolicy(EsysContext& tpm, ESYS_TR session, const PcrSelection& pcrs, bool with_password) {
  TPM2B_DIGEST empty{};  // empty pcrDigest: the TPM uses the PCRs' current values (Part 3 s.23.7)
  TPML_PCR_SELECTION sel = ToTpml(pcrs);
  SIGIL_RETURN_IF_ERROR(Tss(Retry([&] {
                              return Esys_PolicyPCR(tpm.get(), session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                                    &empty, &sel);
                            }),
                            "TPM2_PolicyPCR(" + FormatPcrSelection(pcrs) + ")"));
  if (with_password) {
    SIGIL_RETURN_IF_ERROR(Tss(Retry([&] {
                                return Esys_PolicyAuthValue(tpm.get(), session, ESYS_TR_NONE, ESYS_TR_NONE,
                                                            ESYS_TR_NONE);
                              }),
                              "TPM2_PolicyAuthValue"));
  }
  return Ok();
}

bool HasPassword(const SecretBytes* password) { return password != nullptr && !password->empty(); }

// authValue = SHA-256(password): fits the object's nameAlg digest size whatever the length.
TPM2B_AUTH AuthValue(const SecretBytes& password) {
  TPM2B_AUTH a{};
  Sha256Digest d = Sha256(password.Reveal(SecretAccess::Get()));
  a.size = static_cast<UINT16>(d.size());
  std::memcpy(a.buffer, d.data(), d.size());
  sodium_memzero(d.data(), d.size());
  return a;
}

template <class T>
Bytes Marshal(const T& v, TSS2_RC (*fn)(const T*, uint8_t*, size_t, size_t*)) {
  Bytes out(sizeof(T));
  size_t off = 0;
  if (fn(&v, out.data(), out.size(), &off) != TSS2_RC_SUCCESS) return {};
  out.resize(off);
  return out;
}

template <class T>
Result<T> Unmarshal(ByteSpan in, TSS2_RC (*fn)(const uint8_t*, size_t, size_t*, T*), const char* what) {
  T v{};
  size_t off = 0;
  if (fn(in.data(), in.size(), &off, &v) != TSS2_RC_SUCCESS || off != in.size()) {
    return Fail(Code::kInvalidArgument, std::string("sealed root key: ") + what + " does not parse");
  }
  return v;
}

}  // namespace

Result<Bytes> CurrentPolicyDigest(EsysContext& tpm, const PcrSelection& pcrs, bool with_password) {
  SIGIL_ASSIGN_OR_RETURN(TransientHandle trial, StartSession(tpm, ESYS_TR_NONE, TPM2_SE_TRIAL));
  SIGIL_RETURN_IF_ERROR(RunPolicy(tpm, trial.get(), pcrs, with_password));
  TPM2B_DIGEST* d = nullptr;
  TSS2_RC rc = Retry([&] {
    return Esys_PolicyGetDigest(tpm.get(), trial.get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &d);
  });
  EsysPtr<TPM2B_DIGEST> owned(d);
  SIGIL_RETURN_IF_ERROR(Tss(rc, "TPM2_PolicyGetDigest"));
  return Bytes(d->buffer, d->buffer + d->size);
}

Result<SealedObject> SealToTpm(EsysContext& tpm, const SecretBytes& secret, const PcrSelection& pcrs,
                               const SecretBytes* password) {
  auto data = secret.Reveal(SecretAccess::Get());
  if (data.empty() || data.size() > sizeof(TPM2B_SENSITIVE_DATA{}.buffer)) {
    return Fail(Code::kInvalidArgument, "a TPM-sealed secret must be 1 to 128 bytes");
  }
  SealedObject out;
  out.pcrs = pcrs;
  out.with_password = HasPassword(password);
  SIGIL_ASSIGN_OR_RETURN(TransientHandle srk, CreateSrk(tpm));
  SIGIL_ASSIGN_OR_RETURN(out.policy_digest, CurrentPolicyDigest(tpm, pcrs, out.with_password));

  TPM2B_PUBLIC pub{};
  TPMT_PUBLIC& p = pub.publicArea;
  p.type = TPM2_ALG_KEYEDHASH;
  p.nameAlg = TPM2_ALG_SHA256;
  // No userWithAuth: the user role needs the policy (Part 1 s.19.7); no sensitiveDataOrigin:
  // the data is ours.
  p.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT;
  p.authPolicy.size = static_cast<UINT16>(out.policy_digest.size());
  std::memcpy(p.authPolicy.buffer, out.policy_digest.data(), out.policy_digest.size());
  p.parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_NULL;

  TPM2B_SENSITIVE_CREATE sens{};
  if (out.with_password) sens.sensitive.userAuth = AuthValue(*password);
  sens.sensitive.data.size = static_cast<UINT16>(data.size());
  std::memcpy(sens.sensitive.data.buffer, data.data(), data.size());

  SIGIL_ASSIGN_OR_RETURN(TransientHandle hmac, StartSession(tpm, srk.get(), TPM2_SE_HMAC));
  TSS2_RC rc = Esys_TRSess_SetAttributes(tpm.get(), hmac.get(),
                                         TPMA_SESSION_DECRYPT | TPMA_SESSION_CONTINUESESSION, 0xff);
  TPM2B_DATA outside{};
  TPML_PCR_SELECTION creation{};
  TPM2B_PRIVATE* out_priv = nullptr;
  TPM2B_PUBLIC* out_pub = nullptr;
  TPM2B_CREATION_DATA* cdata = nullptr;
  TPM2B_DIGEST* chash = nullptr;
  TPMT_TK_CREATION* ticket = nullptr;
  if (rc == TSS2_RC_SUCCESS) {
    rc = Retry([&] {
      return Esys_Create(tpm.get(), srk.get(), hmac.get(), ESYS_TR_NONE, ESYS_TR_NONE, &sens, &pub, &outside,
                         &creation, &out_priv, &out_pub, &cdata, &chash, &ticket);
    });
  }
  sodium_memzero(&sens, sizeof sens);
  EsysPtr<TPM2B_PRIVATE> p1(out_priv);
  EsysPtr<TPM2B_PUBLIC> p2(out_pub);
  EsysPtr<TPM2B_CREATION_DATA> p3(cdata);
  EsysPtr<TPM2B_DIGEST> p4(chash);
  EsysPtr<TPMT_TK_CREATION> p5(ticket);
  SIGIL_RETURN_IF_ERROR(Tss(rc, "TPM2_Create(sealed root key under the SRK)"));
  out.public_area = Marshal(*out_pub, &Tss2_MU_TPM2B_PUBLIC_Marshal);
  out.private_area = Marshal(*out_priv, &Tss2_MU_TPM2B_PRIVATE_Marshal);
  if (out.public_area.empty() || out.private_area.empty()) {
    return Fail(Code::kInternal, "cannot marshal the sealed object");
  }
  return out;
}

Result<SecretBytes> UnsealFromTpm(EsysContext& tpm, const SealedObject& sealed, const SecretBytes* password) {
  SIGIL_ASSIGN_OR_RETURN(TPM2B_PUBLIC pub, Unmarshal<TPM2B_PUBLIC>(sealed.public_area, &Tss2_MU_TPM2B_PUBLIC_Unmarshal,
                                                                   "the public area (TPM2B_PUBLIC)"));
  SIGIL_ASSIGN_OR_RETURN(TPM2B_PRIVATE priv, Unmarshal<TPM2B_PRIVATE>(sealed.private_area,
                                                                      &Tss2_MU_TPM2B_PRIVATE_Unmarshal,
                                                                      "the private area (TPM2B_PRIVATE)"));
  const TPMT_PUBLIC& p = pub.publicArea;
  if (p.type != TPM2_ALG_KEYEDHASH || p.nameAlg != TPM2_ALG_SHA256 || (p.objectAttributes & TPMA_OBJECT_USERWITHAUTH) ||
      !ConstantTimeEqual(ByteSpan(p.authPolicy.buffer, p.authPolicy.size), sealed.policy_digest)) {
    return Fail(Code::kInvalidArgument,
                "sealed root key: the public area is not a policy-only SHA-256 sealed-data object with the "
                "recorded policy digest");
  }
  const std::string pcr_text = FormatPcrSelection(sealed.pcrs);
  const bool with_password = sealed.with_password;
  if (with_password && !HasPassword(password)) {
    return Fail(Code::kUnauthenticated, "the root key was sealed with a password: pass --seal-password-file");
  }
  SIGIL_ASSIGN_OR_RETURN(TransientHandle srk, CreateSrk(tpm));
  SIGIL_ASSIGN_OR_RETURN(Bytes now_digest, CurrentPolicyDigest(tpm, sealed.pcrs, with_password));
  const std::string pcr_error = "PCRs changed: the TPM's current values of PCRs " + pcr_text +
                                " differ from those the root key was sealed to";
  if (!ConstantTimeEqual(now_digest, sealed.policy_digest)) {
    return Fail(Code::kVerificationFailed, pcr_error + " (policy digest now " + HexEncode(now_digest) +
                                               ", sealed to " + HexEncode(sealed.policy_digest) + ")");
  }

  ESYS_TR obj_h = ESYS_TR_NONE;
  TSS2_RC rc = Retry([&] {
    return Esys_Load(tpm.get(), srk.get(), ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &priv, &pub, &obj_h);
  });
  if (rc != TSS2_RC_SUCCESS) {
    return Fail(Code::kUnauthenticated,
                "the TPM refused to load the sealed root key (tampered, or sealed by another TPM or owner seed): " +
                    enclave::tpm::TssError(rc, "TPM2_Load").message());
  }
  TransientHandle obj(tpm.get(), obj_h);
  if (with_password) {
    TPM2B_AUTH auth = AuthValue(*password);
    rc = Esys_TR_SetAuth(tpm.get(), obj.get(), &auth);
    sodium_memzero(&auth, sizeof auth);
    SIGIL_RETURN_IF_ERROR(Tss(rc, "Esys_TR_SetAuth"));
  }
  SIGIL_ASSIGN_OR_RETURN(TransientHandle policy, StartSession(tpm, srk.get(), TPM2_SE_POLICY));
  SIGIL_RETURN_IF_ERROR(Tss(Esys_TRSess_SetAttributes(tpm.get(), policy.get(),
                                                      TPMA_SESSION_ENCRYPT | TPMA_SESSION_CONTINUESESSION, 0xff),
                            "Esys_TRSess_SetAttributes"));
  SIGIL_RETURN_IF_ERROR(RunPolicy(tpm, policy.get(), sealed.pcrs, with_password));
  TPM2B_SENSITIVE_DATA* out = nullptr;
  rc = Esys_Unseal(tpm.get(), obj.get(), policy.get(), ESYS_TR_NONE, ESYS_TR_NONE, &out);
  EsysPtr<TPM2B_SENSITIVE_DATA> owned(out);
  switch (TpmCode(rc)) {
    case TSS2_RC_SUCCESS:
      break;
    case TPM2_RC_POLICY_FAIL:
      return Fail(Code::kVerificationFailed, pcr_error + " (TPM_RC_POLICY_FAIL)");
    case TPM2_RC_AUTH_FAIL:
    case TPM2_RC_BAD_AUTH:
      return Fail(Code::kUnauthenticated, "wrong seal password for the TPM-sealed root key (TPM_RC_AUTH_FAIL)");
    case TPM2_RC_LOCKOUT:
      return Fail(Code::kUnavailable, "the TPM is in dictionary-attack lockout after wrong seal passwords "
                                      "(TPM_RC_LOCKOUT); wait for its recovery time or reset the lockout");
    default:
      return enclave::tpm::TssError(rc, "TPM2_Unseal");
  }
  auto secret = SecretBytes::CopyFrom(ByteSpan(out->buffer, out->size));
  sodium_memzero(out->buffer, sizeof out->buffer);
  return secret;
}

}  // namespace sigil::broker
