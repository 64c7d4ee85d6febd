// Intel DCAP quote parser: TDX quote v4/v5 and SGX quote v3. Pure function over bytes: no
// OpenSSL, no I/O, no clock. Layouts follow Intel "Intel TDX DCAP Quoting Library API"
// (appendix "Quote Format": Quote v4 and Quote v5 tables) and "Intel SGX ECDSA Quote Library
// API" (appendix "Quote Format", v3). Sections are cited by table title, since their numbering
// moves between document revisions. All integers are little-endian.
// Thread-safety: ParseQuote is thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "core/bytes.h"
#include "core/result.h"

namespace sigil::attestation::dcap {

inline constexpr std::size_t kHeaderSize = 48;
inline constexpr std::size_t kSgxReportBodySize = 384;  // also the QE report
inline constexpr std::size_t kTdReportBody10Size = 584;  // TD 1.0 (v4, v5 body type 2)
inline constexpr std::size_t kTdReportBody15Size = 648;  // TD 1.5 (v5 body type 3)
inline constexpr std::uint32_t kTeeTypeSgx = 0x00000000;
inline constexpr std::uint32_t kTeeTypeTdx = 0x00000081;
inline constexpr std::uint16_t kAttKeyEcdsaP256 = 2;

// Quote header (48 bytes; TDX API and SGX API table "Quote Header").
struct QuoteHeader {
  std::uint16_t version = 0;
  std::uint16_t att_key_type = 0;
  std::uint32_t tee_type = 0;
  std::uint16_t qe_svn = 0;   // "reserved" in TDX v4/v5
  std::uint16_t pce_svn = 0;  // "reserved" in TDX v4/v5
  std::array<std::uint8_t, 16> qe_vendor_id{};
  std::array<std::uint8_t, 20> user_data{};
};

// SGX REPORTBODY (384 bytes; SGX API table "ISV Enclave Report Body"). Also the QE report.
struct SgxReportBody {
  std::array<std::uint8_t, 16> cpu_svn{};
  std::uint32_t misc_select = 0;
  std::array<std::uint8_t, 16> attributes{};
  std::array<std::uint8_t, 32> mr_enclave{};
  std::array<std::uint8_t, 32> mr_signer{};
  std::uint16_t isv_prod_id = 0;
  std::uint16_t isv_svn = 0;
  std::uint16_t config_svn = 0;
  std::array<std::uint8_t, 64> report_data{};
};

using Measurement48 = std::array<std::uint8_t, 48>;

// TD Quote Body (TDX API table "TD Quote Body", 584 bytes; v5 "TD 1.5 Quote Body" adds the last two).
struct TdReportBody {
  std::array<std::uint8_t, 16> tee_tcb_svn{};
  Measurement48 mr_seam{};
  Measurement48 mr_signer_seam{};
  std::array<std::uint8_t, 8> seam_attributes{};
  std::array<std::uint8_t, 8> td_attributes{};
  std::array<std::uint8_t, 8> xfam{};
  Measurement48 mr_td{};
  Measurement48 mr_config_id{};
  Measurement48 mr_owner{};
  Measurement48 mr_owner_config{};
  std::array<Measurement48, 4> rtmr{};
  std::array<std::uint8_t, 64> report_data{};
  std::optional<std::array<std::uint8_t, 16>> tee_tcb_svn2;  // TD 1.5 only
  std::optional<Measurement48> mr_service_td;                // TD 1.5 only
};

// A parsed quote. Spans point into the caller's buffer, which must outlive the Quote.
struct Quote {
  QuoteHeader header;
  std::optional<TdReportBody> td;    // TDX quotes
  std::optional<SgxReportBody> sgx;  // SGX quotes
  ByteSpan signed_region;            // header || body (v5: || type || size || body)
  ByteSpan signature;                // ECDSA P-256 r||s, 64 bytes
  ByteSpan attestation_key;          // P-256 point x||y, 64 bytes
  ByteSpan qe_report;                // 384 bytes, signed by the PCK leaf
  SgxReportBody qe_report_body;
  ByteSpan qe_report_signature;      // 64 bytes
  ByteSpan qe_auth_data;
  ByteSpan pck_chain_pem;            // certification data type 5
  std::size_t trailing_bytes = 0;    // bytes after the signature data (accepted, see README)
};

// Parses a quote: SGX v3 (tee_type 0), TDX v4 or v5 (tee_type 0x81), attestation key type 2,
// certification data type 6 (TDX) wrapping type 5, or type 5 directly (SGX v3). Every length is
// bounds-checked and nested lengths must fill their container exactly. Bytes after the
// signature data are accepted and counted in trailing_bytes, as Intel's QVL and go-tdx-guest do.
// Fails with kMalformedEvidence naming the field and its byte offset.
Result<Quote> ParseQuote(ByteSpan bytes);

// Reads a 384-byte SGX report body (SGX API "ISV Enclave Report Body"). kMalformedEvidence if the size is wrong.
Result<SgxReportBody> ParseSgxReportBody(ByteSpan bytes);

}  // namespace sigil::attestation::dcap
