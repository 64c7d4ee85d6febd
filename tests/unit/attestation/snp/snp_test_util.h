// Shared helpers for the SEV-SNP tests: vector loading (/work/shared/vectors/sev-snp, see its
// MANIFEST.md) and the verification times the manifest names.
#pragma once

#include <chrono>
#include <fstream>
#include <iterator>
#include <string>

#include "core/bytes.h"
#include "core/encoding.h"

namespace sigil::testing::snp {

inline std::string VectorPath(const std::string& rel) {
  return std::string(SIGIL_SHARED_DIR) + "/vectors/sev-snp/" + rel;
}

inline Bytes ReadVector(const std::string& rel) {
  std::ifstream in(VectorPath(rel), std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// virtee's report is stored as ASCII hex.
inline Bytes ReadHexVector(const std::string& rel) {
  std::string text = ToString(ReadVector(rel));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  return HexDecode(text).value();
}

inline std::chrono::system_clock::time_point At(std::int64_t unix_seconds) {
  return std::chrono::system_clock::time_point(std::chrono::seconds(unix_seconds));
}

// MANIFEST SNP-1: go-sev-guest TestVerifyVcekCert time 2022-09-24T01:00:00Z.
inline auto Snp1Time() { return At(1663981200); }
// MANIFEST SNP-2: untimed upstream; VCEK valid 2023-04-03..2030-04-03. 2024-01-01T00:00:00Z.
inline auto Snp2Time() { return At(1704067200); }
// MANIFEST SNP-3: Turin VCEK valid 2024-11-06..2031-11-06. 2025-01-01T00:00:00Z.
inline auto Snp3Time() { return At(1735689600); }

inline Bytes Snp1Report() { return ReadVector("go-sev-guest/attestation.bin"); }
inline Bytes Snp2Report() { return ReadHexVector("virtee-sev/report_milan.hex"); }

}  // namespace sigil::testing::snp
