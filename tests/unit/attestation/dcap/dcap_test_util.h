// Shared helpers for the DCAP tests: vector paths, file loading, fixed verification times.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <string>

#include "attestation/dcap/collateral.h"
#include "attestation/dcap/x509.h"
#include "core/bytes.h"
#include "core/file_io.h"

namespace sigil::attestation::dcap::testing {

inline std::string VectorPath(const std::string& rel) {
  return std::string(SIGIL_SHARED_DIR) + "/vectors/" + rel;
}

inline Bytes Load(const std::string& rel) {
  auto b = ReadFile(VectorPath(rel));
  if (!b) ADD_FAILURE() << "cannot read " << rel << ": " << b.error().message();
  return b ? std::move(b).value() : Bytes{};
}

inline std::string LoadText(const std::string& rel) { return ToString(Load(rel)); }

// Seconds since the epoch of a UTC date, e.g. At(2023, 7, 1, 1, 0, 0).
inline TimePoint At(int y, int mo, int d, int h, int mi, int s) {
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}
inline TimePoint Unix(std::int64_t s) {
  return std::chrono::system_clock::time_point(std::chrono::seconds(s));
}

inline const char* kTdx1 = "tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat";
inline const char* kTdx2 = "tdx/go-tdx-guest/quote_v5_sample.dat";
inline const char* kTdx3 = "tdx/dcap-qvl/tdx_quote.bin";
inline const char* kTdx3Collateral = "tdx/dcap-qvl/tdx_quote_collateral.json";
inline const char* kSgx1 = "sgx/dcap-qvl/sgx_quote.bin";
inline const char* kSgx1Collateral = "sgx/dcap-qvl/sgx_quote_collateral.json";
inline const char* kRootDer = "tdx/dcap-qvl/TrustedRootCA.der";
inline const char* kRootPem = "tdx/go-tdx-guest/trusted_root.pem";

inline std::vector<X509Ptr> Roots() {
  std::vector<X509Ptr> r;
  auto root = ParseCert(Load(kRootDer));
  if (root) r.push_back(std::move(root).value());
  return r;
}

// TDX-1's collateral built from the go-tdx-guest PCS files.
inline std::string Tdx1Collateral() {
  auto c = CollateralFromPcsResponses(
      LoadText("tdx/go-tdx-guest/sample_tcbInfo_response.json"),
      LoadText("tdx/go-tdx-guest/sample_qeIdentity_response.json"),
      LoadText("tdx/go-tdx-guest/tcb_info_issuer_chain.pem"), Load("tdx/go-tdx-guest/pckcrl.der"),
      Load("tdx/go-tdx-guest/rootcrl.der"));
  if (!c) ADD_FAILURE() << c.error().message();
  return c ? *c : std::string();
}

}  // namespace sigil::attestation::dcap::testing
