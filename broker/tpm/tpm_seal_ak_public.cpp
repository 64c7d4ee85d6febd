#include "broker/tpm/tpm_seal_ak_public.h"

#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <tss2/tss2_mu.h>

#include "attestation/tpm/signature.h"
#include "core/digest.h"
#include "core/ossl.h"

namespace sigil::broker {
namespace {

using ParamBldPtr = CPtr<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;
using ParamPtr = CPtr<OSSL_PARAM, OSSL_PARAM_free>;

Unexpected<Error> Bad(const std::string& what) {
  return Fail(Code::kInvalidArgument, "AK public area (TPM2B_PUBLIC): " + what);
}

Result<EvpPkeyPtr> FromData(const char* type, OSSL_PARAM_BLD* bld) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0) {
    return Bad(std::string("the ") + type + " key does not load");
  }
  return EvpPkeyPtr(key);
}

Result<EvpPkeyPtr> RsaKey(const TPMT_PUBLIC& p) {
  const auto& n = p.unique.rsa;
  if (n.size == 0 || p.parameters.rsaDetail.keyBits != n.size * 8) return Bad("RSA modulus size does not match keyBits");
  BignumPtr bn_n(BN_bin2bn(n.buffer, n.size, nullptr));
  BignumPtr bn_e(BN_new());
  UINT32 e = p.parameters.rsaDetail.exponent == 0 ? 65537 : p.parameters.rsaDetail.exponent;  // Part 2 s.12.2.3.5
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !bld || BN_set_word(bn_e.get(), e) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    return Fail(Code::kInternal, "OpenSSL: cannot build RSA parameters");
  }
  return FromData("RSA", bld.get());
}

Result<EvpPkeyPtr> EccKey(const TPMT_PUBLIC& p) {
  const char* group = nullptr;
  std::size_t size = 0;
  switch (p.parameters.eccDetail.curveID) {
    case TPM2_ECC_NIST_P256: group = "P-256"; size = 32; break;
    case TPM2_ECC_NIST_P384: group = "P-384"; size = 48; break;
    default: return Bad("ECC curve " + std::to_string(p.parameters.eccDetail.curveID) + " is not P-256 or P-384");
  }
  const auto& x = p.unique.ecc.x;
  const auto& y = p.unique.ecc.y;
  if (x.size > size || y.size > size) return Bad("ECC point coordinates too long");
  // SEC 1 s.2.3.3 uncompressed point: 0x04 || X || Y, each left-padded to the field size.
  Bytes point(1 + 2 * size, 0);
  point[0] = 0x04;
  std::copy(x.buffer, x.buffer + x.size, point.begin() + 1 + (size - x.size));
  std::copy(y.buffer, y.buffer + y.size, point.begin() + 1 + size + (size - y.size));
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1) {
    return Fail(Code::kInternal, "OpenSSL: cannot build EC parameters");
  }
  return FromData("EC", bld.get());
}

}  // namespace

Result<AkPublic> ParseAkPublic(ByteSpan in) {
  TPM2B_PUBLIC pub{};
  size_t off = 0;
  if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(in.data(), in.size(), &off, &pub) != TSS2_RC_SUCCESS || off != in.size()) {
    return Bad("does not parse (expected a marshalled TPM2B_PUBLIC, e.g. tpm2_readpublic -o)");
  }
  const TPMT_PUBLIC& p = pub.publicArea;
  constexpr TPMA_OBJECT kRequired = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                    TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT;
  if ((p.objectAttributes & kRequired) != kRequired || (p.objectAttributes & TPMA_OBJECT_DECRYPT)) {
    return Bad("not a restricted signing key (needs fixedTPM, fixedParent, sensitiveDataOrigin, restricted, sign; "
               "not decrypt)");
  }
  // Name = nameAlg || H(marshalled TPMT_PUBLIC) (Part 1 s.16).
  Bytes area(sizeof(TPMT_PUBLIC));
  size_t len = 0;
  if (Tss2_MU_TPMT_PUBLIC_Marshal(&p, area.data(), area.size(), &len) != TSS2_RC_SUCCESS) {
    return Bad("cannot re-marshal TPMT_PUBLIC");
  }
  area.resize(len);
  AkPublic out;
  out.name = {static_cast<std::uint8_t>(p.nameAlg >> 8), static_cast<std::uint8_t>(p.nameAlg & 0xff)};
  if (p.nameAlg == TPM2_ALG_SHA256) {
    auto d = Sha256(area);
    out.name.insert(out.name.end(), d.begin(), d.end());
  } else if (p.nameAlg == TPM2_ALG_SHA384) {
    auto d = Sha384(area);
    out.name.insert(out.name.end(), d.begin(), d.end());
  } else {
    return Bad("nameAlg " + std::to_string(p.nameAlg) + " is not SHA-256 or SHA-384");
  }
  Result<EvpPkeyPtr> key = p.type == TPM2_ALG_RSA   ? RsaKey(p)
                           : p.type == TPM2_ALG_ECC ? EccKey(p)
                                                    : Result<EvpPkeyPtr>(Bad("type is not RSA or ECC"));
  if (!key) return std::move(key).error();
  SIGIL_ASSIGN_OR_RETURN(out.spki_der, attestation::tpm::AkDer(**key));
  // The verifier's own acceptance rules (RSA >= 2048, P-256/P-384).
  SIGIL_RETURN_IF_ERROR(attestation::tpm::LoadAk(out.spki_der, Code::kInvalidArgument));
  return out;
}

}  // namespace sigil::broker
