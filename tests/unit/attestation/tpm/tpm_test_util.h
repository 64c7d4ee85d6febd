// Helpers for the TPM tests: vector files and evidence built from them.
#pragma once

#include <string>

#include "attestation/tpm/evidence.h"
#include "core/bytes.h"
#include "core/file_io.h"

namespace sigil::attestation::tpm {

inline std::string VectorPath(const std::string& rel) {
  return std::string(SIGIL_SHARED_DIR) + "/vectors/tpm2/" + rel;
}

inline Bytes ReadVector(const std::string& rel) {
  auto b = ReadFile(VectorPath(rel));
  return b ? std::move(b).value() : Bytes{};
}

}  // namespace sigil::attestation::tpm

namespace sigil::attestation::tpm {

inline Bytes TrusteeEvidence(bool with_ak = true) {
  auto e = EvidenceFromTpm2Tools(ReadVector("trustee/derived_attest.bin"),
                                 ReadVector("trustee/derived_tpmt_signature.bin"),
                                 ReadVector("trustee/derived_pcrs_sha256.txt"),
                                 with_ak ? ReadVector("trustee/derived_ak_pub.der") : Bytes{});
  return e ? std::move(e).value() : Bytes{};
}

inline Bytes AzureEvidence() {
  auto e = EvidenceFromTpm2Tools(ReadVector("azure-cvm-tooling/derived_attest.bin"),
                                 ReadVector("azure-cvm-tooling/derived_signature_rsassa_raw.bin"),
                                 ReadVector("azure-cvm-tooling/derived_pcrs_sha256.txt"),
                                 ReadVector("azure-cvm-tooling/akpub.pem"));
  return e ? std::move(e).value() : Bytes{};
}

}  // namespace sigil::attestation::tpm
