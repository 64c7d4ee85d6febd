#include "attestation/dcap/x509.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <string>

#include "core/ecdsa_raw.h"

namespace sigil::attestation::dcap {
namespace {
using EcdsaSigPtr = CPtr<ECDSA_SIG, ECDSA_SIG_free>;
using X509StoreCtxPtr = CPtr<X509_STORE_CTX, X509_STORE_CTX_free>;
void FreeX509Stack(STACK_OF(X509) * s) noexcept { sk_X509_free(s); }
void FreeCrlStack(STACK_OF(X509_CRL) * s) noexcept { sk_X509_CRL_free(s); }
using X509StackPtr = CPtr<STACK_OF(X509), FreeX509Stack>;
using CrlStackPtr = CPtr<STACK_OF(X509_CRL), FreeCrlStack>;
using ParamBldPtr = CPtr<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;
using ParamPtr = CPtr<OSSL_PARAM, OSSL_PARAM_free>;

BioPtr MemBio(ByteSpan b) {
  return BioPtr(BIO_new_mem_buf(b.data(), static_cast<int>(b.size())));
}

bool IsTimeError(int err) {
  return err == X509_V_ERR_CERT_HAS_EXPIRED || err == X509_V_ERR_CERT_NOT_YET_VALID ||
         err == X509_V_ERR_CRL_HAS_EXPIRED || err == X509_V_ERR_CRL_NOT_YET_VALID;
}
}  // namespace

Result<EvpPkeyPtr> P256KeyFromRaw(ByteSpan xy) {
  if (xy.size() != 64) {
    return Fail(Code::kMalformedEvidence, "P-256 key must be 64 bytes");
  }
  Bytes point = Concat({Bytes{0x04}, xy});
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                        point.size())) {
    return OpenSslError(Code::kInternal, "building P-256 key parameters");
  }
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0) {
    return OpenSslError(Code::kMalformedEvidence, "attestation key is not a P-256 point");
  }
  EvpPkeyPtr key(raw);
  // fromdata does not check the point is on the curve; a public-key check does.
  EvpPkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    return OpenSslError(Code::kMalformedEvidence, "attestation key is not on the P-256 curve");
  }
  return key;
}

Result<void> VerifyEcdsaRaw(EVP_PKEY* key, ByteSpan message, ByteSpan rs, std::string_view what) {
  if (rs.size() != 64) {
    return Fail(Code::kMalformedEvidence, std::string(what) + ": signature must be 64 bytes");
  }
  return VerifyRawEcdsa(key, EVP_sha256(), message, rs.first(32), rs.subspan(32), ScalarOrder::kBigEndian,
                        std::string(what) + " does not verify");
}

Result<std::vector<X509Ptr>> ParsePemCerts(ByteSpan pem, std::string_view what) {
  BioPtr bio = MemBio(pem);
  std::vector<X509Ptr> out;
  while (true) {
    X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (cert == nullptr) break;
    out.emplace_back(cert);
  }
  const unsigned long err = ERR_peek_last_error();
  // PEM_R_NO_START_LINE just marks the end of the bundle; anything else is a corrupt block.
  if (err != 0 && ERR_GET_REASON(err) != PEM_R_NO_START_LINE) {
    return OpenSslError(Code::kMalformedEvidence, std::string(what) + ": corrupt PEM certificate");
  }
  ERR_clear_error();
  if (out.empty()) {
    return Fail(Code::kMalformedEvidence, std::string(what) + ": no PEM certificate found");
  }
  return out;
}

Result<X509Ptr> ParseCert(ByteSpan der_or_pem) {
  const unsigned char* p = der_or_pem.data();
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der_or_pem.size())));
  if (cert && p == der_or_pem.data() + der_or_pem.size()) return cert;
  ERR_clear_error();
  auto pem = ParsePemCerts(der_or_pem, "trusted root");
  if (!pem || pem->size() != 1) {
    return Fail(Code::kInvalidArgument, "trusted root is not one DER or PEM certificate");
  }
  return std::move((*pem)[0]);
}

Result<X509CrlPtr> ParseCrl(ByteSpan der, std::string_view what) {
  const unsigned char* p = der.data();
  X509CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
  if (!crl || p != der.data() + der.size()) {
    return OpenSslError(Code::kMalformedEvidence, std::string(what) + " is not a DER CRL");
  }
  return crl;
}

std::string SubjectCommonName(X509* cert) {
  char buf[256] = {0};
  const int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf,
                                          sizeof(buf));
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

Result<void> VerifyChain(const std::vector<X509Ptr>& roots, X509* leaf,
                         const std::vector<X509*>& intermediates,
                         const std::vector<X509_CRL*>& crls,
                         std::chrono::system_clock::time_point now, std::string_view what) {
  X509StorePtr store(X509_STORE_new());
  X509StackPtr untrusted(sk_X509_new_null());
  CrlStackPtr crl_stack(sk_X509_CRL_new_null());
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!store || !untrusted || !crl_stack || !ctx) {
    return OpenSslError(Code::kInternal, "allocating X509 store");
  }
  for (const auto& root : roots) {
    if (X509_STORE_add_cert(store.get(), root.get()) != 1) {
      return OpenSslError(Code::kInternal, "adding trusted root");
    }
  }
  for (X509* c : intermediates) sk_X509_push(untrusted.get(), c);
  for (X509_CRL* c : crls) sk_X509_CRL_push(crl_stack.get(), c);
  if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf, untrusted.get()) != 1) {
    return OpenSslError(Code::kInternal, "initialising chain verification");
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, std::chrono::system_clock::to_time_t(now));
  if (!crls.empty()) {
    X509_STORE_CTX_set0_crls(ctx.get(), crl_stack.get());
    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
  }
  if (X509_verify_cert(ctx.get()) == 1) return Ok();
  const int err = X509_STORE_CTX_get_error(ctx.get());
  ERR_clear_error();
  return Fail(IsTimeError(err) ? Code::kExpired : Code::kVerificationFailed,
              std::string(what) + " does not chain to the trusted Intel root at depth " +
                  std::to_string(X509_STORE_CTX_get_error_depth(ctx.get())) + ": " +
                  X509_verify_cert_error_string(err));
}

}  // namespace sigil::attestation::dcap
