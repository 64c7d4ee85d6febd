// The Azure confidential VM "HCL report": what the paravisor (OpenHCL/HCL) writes to vTPM NV
// index 0x01400001. A pure parser (no OpenSSL, no I/O, no clock). All integers little-endian u32.
// Layout (field meanings from the OpenHCL IGVM attestation protocol definitions, offsets and
// values as captured in /work/shared/vectors/azure-cvm/MANIFEST.md "HCL report layout"):
//   0x000 "HCLA" | 0x004 header version | 0x008 report_size (offset 0 to end of runtime data)
//   0x00C request type | 0x010 status | 0x014 12 reserved bytes
//   0x020 hardware report area, 1184 bytes (SNP ATTESTATION_REPORT, or TDREPORT + 160 zero bytes)
//   0x4C0 request data: data_size | version | report type | hash type | runtime-data size
//   0x4D4 runtime data (variable data): compact UTF-8 JSON, hashed as carried into REPORT_DATA
// NV reads are zero-padded to the index size, so bytes after report_size are accepted only if
// they are all zero (both real captures carry such padding: 229 and 162 bytes).
// Thread-safety: free functions without shared state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/bytes.h"
#include "core/result.h"

namespace sigil::attestation::azure {

inline constexpr std::uint32_t kHclSignature = 0x414C4348;  // "HCLA" read as little-endian u32
inline constexpr std::size_t kHclHeaderSize = 0x20;
inline constexpr std::size_t kHwReportAreaSize = 1184;    // sized for the larger (SNP) report
inline constexpr std::size_t kSnpReportSize = 1184;
inline constexpr std::size_t kTdReportSize = 1024;
inline constexpr std::size_t kRequestDataOffset = kHclHeaderSize + kHwReportAreaSize;  // 0x4C0
inline constexpr std::size_t kRequestDataSize = 20;       // version 1
inline constexpr std::size_t kRuntimeDataOffset = kRequestDataOffset + kRequestDataSize;  // 0x4D4
// The NV index holding the report is at most a few KiB; anything beyond this is not a report.
inline constexpr std::size_t kMaxHclReportSize = 64 * 1024;

// Request-data "report type" (0x4C8). 1 (VBS) and 3 (TVM) exist but carry no hardware report
// we can verify; they are refused.
enum class HclReportType : std::uint32_t { kSnp = 2, kTdx = 4 };
// Request-data "hash type" (0x4CC): the hash of the runtime data placed in REPORT_DATA.
enum class HclHashType : std::uint32_t { kSha256 = 1, kSha384 = 2, kSha512 = 3 };

struct HclReport {
  std::uint32_t header_version = 0;  // 1 (SNP-era captures) or 2
  std::uint32_t report_size = 0;     // == kRuntimeDataOffset + runtime_data.size()
  std::uint32_t request_type = 0;    // recorded only: it does not select the report type
  HclReportType report_type = HclReportType::kSnp;
  HclHashType hash_type = HclHashType::kSha256;
  ByteSpan hardware_report;  // SNP: 1184 bytes; TDX: the 1024-byte TDREPORT
  ByteSpan runtime_data;     // the JSON bytes exactly as carried
  std::size_t padding = 0;   // zero bytes after report_size
};

// Parses an HCL report. The spans point into `bytes`, which must outlive the result. Refuses
// (kMalformedEvidence, naming the field and its offset): a buffer shorter than the fixed part or
// longer than kMaxHclReportSize; signature other than "HCLA"; header version other than 1 or 2;
// nonzero status or reserved bytes; report type other than SNP (2) or TDX (4); hash type
// other than 1..3; request-data version other than 1 (version 2 inserts a capability bitmap we
// do not know how to read); data_size != 20 + runtime-data size; report_size !=
// 0x4D4 + runtime-data size; a runtime-data size beyond the buffer; an empty runtime data;
// nonzero bytes in the TDX pad (0x420..0x4BF) or after report_size.
Result<HclReport> ParseHclReport(ByteSpan bytes);

// "snp" / "tdx".
std::string_view ReportTypeName(HclReportType t);
// Digest size in bytes of the hash type: 32, 48 or 64.
std::size_t HashSize(HclHashType t);

}  // namespace sigil::attestation::azure
