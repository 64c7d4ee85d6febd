#include "attestation/snp/signature.h"

#include <openssl/ecdsa.h>
#include <openssl/err.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace sigil::attestation::snp {
namespace {

using EcdsaSigPtr = CPtr<ECDSA_SIG, ECDSA_SIG_free>;

BignumPtr FromLittleEndian(const std::array<std::uint8_t, kP384ScalarSize>& le) {
  return BignumPtr(BN_lebin2bn(le.data(), static_cast<int>(le.size()), nullptr));
}

}  // namespace

Result<void> VerifyReportSignature(ByteSpan report_bytes, const Report& report,
                                   const EVP_PKEY& key) {
  if (report_bytes.size() != kReportSize) {
    return Fail(Code::kInvalidArgument, "report must be 1184 bytes");
  }
  char group[32] = {0};
  if (EVP_PKEY_get_base_id(&key) != EVP_PKEY_EC ||
      EVP_PKEY_get_group_name(&key, group, sizeof(group), nullptr) != 1 ||
      std::strcmp(group, "secp384r1") != 0) {
    ERR_clear_error();
    return Fail(Code::kVerificationFailed, "VCEK/VLEK public key must be EC P-384");
  }
  // Convert the little-endian (R, S) to an ECDSA_SIG and then to DER for EVP_DigestVerify.
  BignumPtr r = FromLittleEndian(report.sig_r_le);
  BignumPtr s = FromLittleEndian(report.sig_s_le);
  EcdsaSigPtr sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    return OpenSslError(Code::kInternal, "ECDSA_SIG construction");
  }
  (void)r.release();  // owned by sig now
  (void)s.release();
  unsigned char* der = nullptr;
  const int der_len = i2d_ECDSA_SIG(sig.get(), &der);
  if (der_len <= 0) {
    return OpenSslError(Code::kInternal, "i2d_ECDSA_SIG");
  }
  Bytes der_sig(der, der + der_len);
  OPENSSL_free(der);

  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha384(), nullptr,
                                   const_cast<EVP_PKEY*>(&key)) != 1) {
    return OpenSslError(Code::kInternal, "EVP_DigestVerifyInit");
  }
  const ByteSpan signed_part = report_bytes.first(kSignedSize);
  if (EVP_DigestVerify(ctx.get(), der_sig.data(), der_sig.size(), signed_part.data(),
                       signed_part.size()) != 1) {
    ERR_clear_error();
    return Fail(Code::kVerificationFailed,
                "SEV-SNP report signature does not verify with the VCEK/VLEK");
  }
  return Ok();
}

}  // namespace sigil::attestation::snp
