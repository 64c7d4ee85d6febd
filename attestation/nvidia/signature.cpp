#include "attestation/nvidia/signature.h"

#include <openssl/ecdsa.h>
#include <openssl/err.h>

#include <cstring>

namespace sigil::attestation::nvidia {
namespace {
using EcdsaSigPtr = CPtr<ECDSA_SIG, ECDSA_SIG_free>;
constexpr int kScalarSize = 48;
}  // namespace

Result<void> VerifyReportSignature(ByteSpan report_bytes, const Report& report,
                                   const EVP_PKEY& key) {
  const std::size_t signed_size = SignedSize(report);
  if (report_bytes.size() != signed_size + kSignatureSize) {
    return Fail(Code::kInvalidArgument, "NVIDIA report bytes do not match the parsed report");
  }
  char group[32] = {0};
  if (EVP_PKEY_get_base_id(&key) != EVP_PKEY_EC ||
      EVP_PKEY_get_group_name(&key, group, sizeof(group), nullptr) != 1 ||
      std::strcmp(group, "secp384r1") != 0) {
    ERR_clear_error();
    return Fail(Code::kVerificationFailed, "NVIDIA leaf certificate key must be EC P-384");
  }
  EcdsaSigPtr sig(ECDSA_SIG_new());
  BignumPtr r(BN_bin2bn(report.signature.data(), kScalarSize, nullptr));
  BignumPtr s(BN_bin2bn(report.signature.data() + kScalarSize, kScalarSize, nullptr));
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    return OpenSslError(Code::kInternal, "building ECDSA signature");
  }
  (void)r.release();  // owned by `sig` now
  (void)s.release();
  const int der_len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (der_len <= 0) return OpenSslError(Code::kInternal, "sizing ECDSA signature");
  Bytes der(static_cast<std::size_t>(der_len));
  unsigned char* out = der.data();
  if (i2d_ECDSA_SIG(sig.get(), &out) != der_len) {
    return OpenSslError(Code::kInternal, "encoding ECDSA signature");
  }
  EvpMdCtxPtr md(EVP_MD_CTX_new());
  if (!md || EVP_DigestVerifyInit(md.get(), nullptr, EVP_sha384(), nullptr,
                                  const_cast<EVP_PKEY*>(&key)) != 1) {
    return OpenSslError(Code::kInternal, "initialising ECDSA verification");
  }
  const ByteSpan signed_part = report_bytes.first(signed_size);
  if (EVP_DigestVerify(md.get(), der.data(), der.size(), signed_part.data(),
                       signed_part.size()) != 1) {
    ERR_clear_error();
    return Fail(Code::kVerificationFailed,
                "NVIDIA report signature does not verify with the leaf certificate key");
  }
  return Ok();
}

}  // namespace sigil::attestation::nvidia
