#include "attestation/azure/ak_key.h"

#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "core/ossl.h"

namespace sigil::attestation::azure {
namespace {

using ParamBldPtr = CPtr<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;
using ParamPtr = CPtr<OSSL_PARAM, OSSL_PARAM_free>;

}  // namespace

Result<Bytes> RsaJwkToSpkiDer(const RsaJwk& jwk) {
  BignumPtr n(BN_bin2bn(jwk.n.data(), static_cast<int>(jwk.n.size()), nullptr));
  BignumPtr e(BN_bin2bn(jwk.e.data(), static_cast<int>(jwk.e.size()), nullptr));
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!n || !e || !bld || !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get())) {
    return OpenSslError(Code::kInternal, "RSA key parameters");
  }
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0) {
    return OpenSslError(Code::kMalformedEvidence, "HCLAkPub is not a usable RSA public key");
  }
  EvpPkeyPtr key(raw);
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(key.get(), &der);
  if (len <= 0) {
    return OpenSslError(Code::kInternal, "i2d_PUBKEY");
  }
  Bytes out(der, der + len);
  OPENSSL_free(der);  // i2d's allocation; there is no owning type for it
  return out;
}

Result<std::string> SpkiDerToPem(ByteSpan spki_der) {
  const unsigned char* p = spki_der.data();
  EvpPkeyPtr key(d2i_PUBKEY(nullptr, &p, static_cast<long>(spki_der.size())));
  if (!key || p != spki_der.data() + spki_der.size()) {
    return OpenSslError(Code::kInvalidArgument, "SubjectPublicKeyInfo does not parse");
  }
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key.get()) != 1) {
    return OpenSslError(Code::kInternal, "PEM_write_bio_PUBKEY");
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

}  // namespace sigil::attestation::azure
