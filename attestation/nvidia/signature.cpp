#include "attestation/nvidia/signature.h"

#include <openssl/ecdsa.h>
#include <openssl/err.h>

#include <cstring>

#include "core/ecdsa_raw.h"

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
  const ByteSpan raw(report.signature.data(), report.signature.size());
  return VerifyRawEcdsa(&key, EVP_sha384(), report_bytes.first(signed_size), raw.first(kScalarSize),
                        raw.subspan(kScalarSize, kScalarSize), ScalarOrder::kBigEndian,
                        "NVIDIA report signature does not verify with the leaf certificate key");
}

}  // namespace sigil::attestation::nvidia
