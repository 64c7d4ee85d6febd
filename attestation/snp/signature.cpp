#include "attestation/snp/signature.h"

#include <openssl/ecdsa.h>
#include <openssl/err.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "core/ecdsa_raw.h"

namespace sigil::attestation::snp {

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
  // R and S are stored little-endian (pub. 56860, "ECDSA P-384 with SHA-384 signature format").
  return VerifyRawEcdsa(&key, EVP_sha384(), report_bytes.first(kSignedSize), report.sig_r_le, report.sig_s_le,
                        ScalarOrder::kLittleEndian, "SEV-SNP report signature does not verify with the VCEK/VLEK");
}

}  // namespace sigil::attestation::snp
