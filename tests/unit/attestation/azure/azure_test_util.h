// Shared helpers for the Azure CVM tests: vectors of /work/shared/vectors/azure-cvm (see its
// MANIFEST.md) and the verification times the manifest names.
#pragma once

#include <chrono>
#include <fstream>
#include <iterator>
#include <string>

#include "attestation/azure/verifier.h"
#include "core/bytes.h"

namespace sigil::testing::azure {

inline std::string VectorPath(const std::string& name) {
  return std::string(SIGIL_SHARED_DIR) + "/vectors/azure-cvm/azure-cvm-tooling/" + name;
}

inline Bytes ReadVector(const std::string& name) {
  std::ifstream in(VectorPath(name), std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline std::chrono::system_clock::time_point At(std::int64_t unix_seconds) {
  return std::chrono::system_clock::time_point(std::chrono::seconds(unix_seconds));
}

// MANIFEST AZ-SNP-1: certs.pem chain checked at 2023-03-13T00:00:00Z; fails at
// 2030-01-02T00:00:00Z (VCEK expired) and 2022-12-31T00:00:00Z (not yet valid).
inline auto SnpChainTime() { return At(1678665600); }
inline auto AfterVcekExpiry() { return At(1893542400); }
inline auto BeforeVcekValidity() { return At(1672444800); }

inline Bytes SnpHcl() { return ReadVector("hcl-report-snp.bin"); }
inline Bytes TdxHcl() { return ReadVector("hcl-report-tdx.bin"); }

// An azure-tdx-vtpm verifier configuration with the Intel root of the dcap-qvl TD quote
// (/work/shared/vectors/tdx), signature and chain only: that quote's DCAP collateral has expired.
inline attestation::azure::AzureConfig TdxSignatureOnlyConfig() {
  attestation::azure::AzureConfig config;
  config.platform = attestation::azure::AzurePlatform::kTdx;
  attestation::dcap::DcapConfig dcap;
  dcap.trusted_root_certs.push_back(ReadVector("../../tdx/dcap-qvl/TrustedRootCA.der"));
  dcap.signature_and_chain_only = true;
  config.tdx = dcap;
  return config;
}

}  // namespace sigil::testing::azure
