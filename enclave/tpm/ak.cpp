#include "enclave/tpm/ak.h"

#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <charconv>

#include "attestation/tpm/signature.h"
#include "core/ossl.h"

namespace sigil::enclave::tpm {
namespace {

using ParamBldPtr = CPtr<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;
using ParamPtr = CPtr<OSSL_PARAM, OSSL_PARAM_free>;

constexpr TPMA_OBJECT kAkAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                      TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
                                      TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT;

Result<EvpPkeyPtr> FromData(const char* type, OSSL_PARAM_BLD* bld) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return OpenSslError(Code::kInvalidArgument,
                        std::string("AK public area: not a valid ") + type + " key");
  }
  return EvpPkeyPtr(raw);
}

Result<EvpPkeyPtr> PublicAreaToKey(const TPMT_PUBLIC& p) {
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld) return OpenSslError(Code::kInternal, "OSSL_PARAM_BLD_new");
  if (p.type == TPM2_ALG_RSA) {
    // Part 2 s.12.2.3.5: exponent 0 means the default 2^16 + 1.
    UINT32 e = p.parameters.rsaDetail.exponent == 0 ? 65537 : p.parameters.rsaDetail.exponent;
    BignumPtr n(BN_bin2bn(p.unique.rsa.buffer, p.unique.rsa.size, nullptr));
    BignumPtr bn_e(BN_new());
    if (!n || !bn_e || BN_set_word(bn_e.get(), e) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
      return OpenSslError(Code::kInternal, "AK public area: RSA parameters");
    }
    return FromData("RSA", bld.get());
  }
  if (p.type == TPM2_ALG_ECC) {
    const char* group = nullptr;
    std::size_t field = 0;
    switch (p.parameters.eccDetail.curveID) {
      case TPM2_ECC_NIST_P256:
        group = "P-256";
        field = 32;
        break;
      case TPM2_ECC_NIST_P384:
        group = "P-384";
        field = 48;
        break;
      default:
        return Fail(Code::kInvalidArgument, "AK public area: unsupported curve 0x" +
                                                std::to_string(p.parameters.eccDetail.curveID));
    }
    const TPM2B_ECC_PARAMETER& x = p.unique.ecc.x;
    const TPM2B_ECC_PARAMETER& y = p.unique.ecc.y;
    if (x.size > field || y.size > field) {
      return Fail(Code::kInvalidArgument, "AK public area: ECC point coordinate too long");
    }
    // SEC 1 v2 s.2.3.3 uncompressed point: 0x04 || X || Y, each left-padded to the field size.
    Bytes point(1 + 2 * field, 0);
    point[0] = 0x04;
    std::copy(x.buffer, x.buffer + x.size, point.begin() + 1 + (field - x.size));
    std::copy(y.buffer, y.buffer + y.size, point.begin() + 1 + field + (field - y.size));
    if (OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                         point.size()) != 1) {
      return OpenSslError(Code::kInternal, "AK public area: EC parameters");
    }
    return FromData("EC", bld.get());
  }
  return Fail(Code::kInvalidArgument,
              "AK public area: key type 0x" + std::to_string(p.type) + " is neither RSA nor ECC");
}

}  // namespace

Result<AkKind> ParseAkKind(std::string_view name) {
  if (name == "rsa" || name == "rsassa") return AkKind::kRsaSsaSha256;
  if (name == "rsapss") return AkKind::kRsaPssSha256;
  if (name == "ecc" || name == "ecc-p256") return AkKind::kEccP256Sha256;
  if (name == "ecc-p384") return AkKind::kEccP384Sha384;
  return Fail(Code::kInvalidArgument,
              "unknown AK kind '" + std::string(name) + "' (rsa, rsapss, ecc-p256, ecc-p384)");
}

std::string_view AkKindName(AkKind kind) {
  switch (kind) {
    case AkKind::kRsaSsaSha256:
      return "rsa";
    case AkKind::kRsaPssSha256:
      return "rsapss";
    case AkKind::kEccP256Sha256:
      return "ecc-p256";
    case AkKind::kEccP384Sha384:
      return "ecc-p384";
  }
  return "?";
}

TPM2B_PUBLIC AkTemplate(AkKind kind) {
  TPM2B_PUBLIC t{};
  TPMT_PUBLIC& p = t.publicArea;
  p.nameAlg = TPM2_ALG_SHA256;
  p.objectAttributes = kAkAttributes;
  if (kind == AkKind::kRsaSsaSha256 || kind == AkKind::kRsaPssSha256) {
    p.type = TPM2_ALG_RSA;
    TPMS_RSA_PARMS& r = p.parameters.rsaDetail;
    r.symmetric.algorithm = TPM2_ALG_NULL;
    r.scheme.scheme = kind == AkKind::kRsaSsaSha256 ? TPM2_ALG_RSASSA : TPM2_ALG_RSAPSS;
    r.scheme.details.anySig.hashAlg = TPM2_ALG_SHA256;
    r.keyBits = 2048;
    r.exponent = 0;
  } else {
    p.type = TPM2_ALG_ECC;
    TPMS_ECC_PARMS& e = p.parameters.eccDetail;
    e.symmetric.algorithm = TPM2_ALG_NULL;
    e.scheme.scheme = TPM2_ALG_ECDSA;
    bool p384 = kind == AkKind::kEccP384Sha384;
    e.scheme.details.ecdsa.hashAlg = p384 ? TPM2_ALG_SHA384 : TPM2_ALG_SHA256;
    e.curveID = p384 ? TPM2_ECC_NIST_P384 : TPM2_ECC_NIST_P256;
    e.kdf.scheme = TPM2_ALG_NULL;
  }
  return t;
}

Result<LoadedAk> CreatePrimaryAk(const EsysContext& ctx, AkKind kind) {
  TPM2B_SENSITIVE_CREATE sensitive{};
  TPM2B_PUBLIC tmpl = AkTemplate(kind);
  TPM2B_DATA outside{};
  TPML_PCR_SELECTION creation_pcrs{};
  ESYS_TR handle = ESYS_TR_NONE;
  TPM2B_PUBLIC* pub_raw = nullptr;
  TSS2_RC rc = Retry([&] {
    return Esys_CreatePrimary(ctx.get(), ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                              ESYS_TR_NONE, &sensitive, &tmpl, &outside, &creation_pcrs, &handle,
                              &pub_raw, nullptr, nullptr, nullptr);
  });
  LoadedAk ak;
  ak.transient = TransientHandle(ctx.get(), handle);
  EsysPtr<TPM2B_PUBLIC> pub(pub_raw);
  if (rc != TSS2_RC_SUCCESS) {
    ak.transient.Release();
    return TssError(
        rc, "Esys_CreatePrimary(AK " + std::string(AkKindName(kind)) + ", owner hierarchy)");
  }
  ak.pub = *pub;
  return ak;
}

Result<LoadedAk> LoadPersistentAk(const EsysContext& ctx, TPM2_HANDLE handle) {
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%08x", handle);
  ESYS_TR tr = ESYS_TR_NONE;
  TSS2_RC rc = Retry([&] {
    return Esys_TR_FromTPMPublic(ctx.get(), handle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &tr);
  });
  if (rc != TSS2_RC_SUCCESS) {
    Error e = TssError(rc, std::string("Esys_TR_FromTPMPublic(") + hex + ")");
    // TPM_RC_HANDLE: nothing is persisted there.
    if ((rc & 0xffff & ~TPM2_RC_N_MASK) == TPM2_RC_HANDLE)
      return Error(Code::kNotFound, e.message());
    return e;
  }
  LoadedAk ak;
  ak.persistent = TrCloser(ctx.get(), tr);
  TPM2B_PUBLIC* pub_raw = nullptr;
  rc = Retry([&] {
    return Esys_ReadPublic(ctx.get(), tr, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub_raw,
                           nullptr, nullptr);
  });
  EsysPtr<TPM2B_PUBLIC> pub(pub_raw);
  SIGIL_RETURN_IF_ERROR(Status(rc, std::string("Esys_ReadPublic(") + hex + ")"));
  TPMA_OBJECT need = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT;
  if ((pub->publicArea.objectAttributes & need) != need ||
      (pub->publicArea.objectAttributes & TPMA_OBJECT_DECRYPT) != 0) {
    return Fail(Code::kInvalidArgument,
                std::string("the object at ") + hex + " is not a restricted signing key (an AK)");
  }
  ak.pub = *pub;
  return ak;
}

Result<LoadedAk> PersistAk(const EsysContext& ctx, AkKind kind, TPM2_HANDLE handle) {
  auto existing = LoadPersistentAk(ctx, handle);
  if (existing || existing.error().code() != Code::kNotFound) return existing;
  SIGIL_ASSIGN_OR_RETURN(LoadedAk created, CreatePrimaryAk(ctx, kind));
  ESYS_TR persistent = ESYS_TR_NONE;
  TSS2_RC rc = Retry([&] {
    return Esys_EvictControl(ctx.get(), ESYS_TR_RH_OWNER, created.transient.get(), ESYS_TR_PASSWORD,
                             ESYS_TR_NONE, ESYS_TR_NONE, handle, &persistent);
  });
  SIGIL_RETURN_IF_ERROR(Status(rc, "Esys_EvictControl(AK -> persistent handle)"));
  LoadedAk out;
  out.persistent = TrCloser(ctx.get(), persistent);
  out.pub = created.pub;
  return out;  // `created.transient` is flushed here; the persistent copy stays
}

Result<TPM2_HANDLE> ParsePersistentHandle(std::string_view text) {
  std::uint64_t v = 0;
  std::string_view digits = text;
  int base = 10;
  if (digits.starts_with("0x") || digits.starts_with("0X")) {
    digits.remove_prefix(2);
    base = 16;
  }
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, base);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
      (v & TPM2_HR_RANGE_MASK) != TPM2_HR_PERSISTENT || v > 0xffffffffu) {
    return Fail(Code::kInvalidArgument,
                "'" + std::string(text) + "' is not a persistent handle (0x81000000..0x81ffffff)");
  }
  return static_cast<TPM2_HANDLE>(v);
}

Result<Bytes> PublicAreaToSpkiDer(const TPM2B_PUBLIC& pub) {
  SIGIL_ASSIGN_OR_RETURN(EvpPkeyPtr key, PublicAreaToKey(pub.publicArea));
  return attestation::tpm::AkDer(*key);
}

Result<std::string> PublicAreaToSpkiPem(const TPM2B_PUBLIC& pub) {
  SIGIL_ASSIGN_OR_RETURN(EvpPkeyPtr key, PublicAreaToKey(pub.publicArea));
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key.get()) != 1) {
    return OpenSslError(Code::kInternal, "PEM_write_bio_PUBKEY");
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

}  // namespace sigil::enclave::tpm
