#include "core/ecdsa_raw.h"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>

#include "core/ossl.h"

namespace sigil {
namespace {

using EcdsaSig = CPtr<ECDSA_SIG, ECDSA_SIG_free>;
constexpr std::size_t kMaxScalar = 66;

BIGNUM* ToBignum(ByteSpan b, ScalarOrder order) {
  const int n = static_cast<int>(b.size());
  return order == ScalarOrder::kBigEndian ? BN_bin2bn(b.data(), n, nullptr) : BN_lebin2bn(b.data(), n, nullptr);
}

}  // namespace

Result<void> VerifyRawEcdsa(const EVP_PKEY* key, const EVP_MD* digest, ByteSpan message, ByteSpan r, ByteSpan s,
                            ScalarOrder order, const std::string& failure) {
  if (r.empty() || s.empty() || r.size() > kMaxScalar || s.size() > kMaxScalar) {
    return Fail(Code::kMalformedEvidence, "ECDSA signature: r and s must be 1 to 66 bytes");
  }
  EcdsaSig sig(ECDSA_SIG_new());
  BIGNUM* br = ToBignum(r, order);
  BIGNUM* bs = ToBignum(s, order);
  if (!sig || br == nullptr || bs == nullptr || ECDSA_SIG_set0(sig.get(), br, bs) != 1) {
    BN_free(br);  // not owned by `sig` unless set0 succeeded
    BN_free(bs);
    return OpenSslError(Code::kInternal, "building an ECDSA signature");
  }
  unsigned char* der = nullptr;
  const int der_len = i2d_ECDSA_SIG(sig.get(), &der);
  if (der_len <= 0) return OpenSslError(Code::kInternal, "encoding an ECDSA signature");
  const Bytes der_sig(der, der + der_len);
  OPENSSL_free(der);
  EvpMdCtxPtr md(EVP_MD_CTX_new());
  if (!md || EVP_DigestVerifyInit(md.get(), nullptr, digest, nullptr, const_cast<EVP_PKEY*>(key)) != 1) {
    return OpenSslError(Code::kInternal, "initialising ECDSA verification");
  }
  if (EVP_DigestVerify(md.get(), der_sig.data(), der_sig.size(), message.data(), message.size()) != 1) {
    ERR_clear_error();
    return Fail(Code::kVerificationFailed, failure);
  }
  return Ok();
}

}  // namespace sigil
