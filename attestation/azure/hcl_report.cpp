#include "attestation/azure/hcl_report.h"

#include <algorithm>
#include <string>

namespace sigil::attestation::azure {
namespace {

std::uint32_t U32At(ByteSpan b, std::size_t off) {
  return static_cast<std::uint32_t>(b[off]) | static_cast<std::uint32_t>(b[off + 1]) << 8 |
         static_cast<std::uint32_t>(b[off + 2]) << 16 | static_cast<std::uint32_t>(b[off + 3]) << 24;
}

std::string Hex(std::size_t v) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  do {
    out.insert(out.begin(), kDigits[v & 0xF]);
    v >>= 4;
  } while (v != 0);
  return "0x" + out;
}

Unexpected<Error> Bad(std::string_view field, std::size_t offset, std::string_view what) {
  return Fail(Code::kMalformedEvidence, "HCL report " + std::string(field) + " (" + Hex(offset) +
                                            "): " + std::string(what));
}

// Offset of the first nonzero byte of `b`, or b.size().
std::size_t FirstNonZero(ByteSpan b) {
  return static_cast<std::size_t>(
      std::find_if(b.begin(), b.end(), [](std::uint8_t x) { return x != 0; }) - b.begin());
}

}  // namespace

std::string_view ReportTypeName(HclReportType t) {
  return t == HclReportType::kTdx ? "tdx" : "snp";
}

std::size_t HashSize(HclHashType t) {
  switch (t) {
    case HclHashType::kSha256:
      return 32;
    case HclHashType::kSha384:
      return 48;
    case HclHashType::kSha512:
      return 64;
  }
  return 0;
}

Result<HclReport> ParseHclReport(ByteSpan bytes) {
  if (bytes.size() < kRuntimeDataOffset) {
    return Fail(Code::kMalformedEvidence,
                "HCL report is " + std::to_string(bytes.size()) + " bytes, shorter than its " +
                    std::to_string(kRuntimeDataOffset) + "-byte fixed part (header, hardware "
                    "report, request data)");
  }
  if (bytes.size() > kMaxHclReportSize) {
    return Fail(Code::kMalformedEvidence, "HCL report is " + std::to_string(bytes.size()) +
                                              " bytes, more than " +
                                              std::to_string(kMaxHclReportSize));
  }
  HclReport r;
  if (U32At(bytes, 0x00) != kHclSignature) {
    return Bad("signature", 0x00, "is not \"HCLA\"");
  }
  r.header_version = U32At(bytes, 0x04);
  if (r.header_version != 1 && r.header_version != 2) {
    return Bad("header version", 0x04, std::to_string(r.header_version) + " is not 1 or 2");
  }
  r.report_size = U32At(bytes, 0x08);
  r.request_type = U32At(bytes, 0x0C);
  if (const std::uint32_t status = U32At(bytes, 0x10); status != 0) {
    return Bad("status", 0x10, std::to_string(status) + " is not 0 (the report request failed)");
  }
  if (std::size_t nz = FirstNonZero(bytes.subspan(0x14, 12)); nz != 12) {
    return Bad("reserved", 0x14 + nz, "must be zero");
  }

  const ByteSpan req = bytes.subspan(kRequestDataOffset, kRequestDataSize);
  const std::uint32_t data_size = U32At(req, 0);
  const std::uint32_t data_version = U32At(req, 4);
  const std::uint32_t report_type = U32At(req, 8);
  const std::uint32_t hash_type = U32At(req, 12);
  const std::uint32_t runtime_size = U32At(req, 16);
  if (data_version != 1) {
    return Bad("request-data version", 0x4C4,
               std::to_string(data_version) + " is not 1 (version 2+ layouts are not supported)");
  }
  if (report_type == static_cast<std::uint32_t>(HclReportType::kSnp)) {
    r.report_type = HclReportType::kSnp;
  } else if (report_type == static_cast<std::uint32_t>(HclReportType::kTdx)) {
    r.report_type = HclReportType::kTdx;
  } else {
    return Bad("report type", 0x4C8,
               std::to_string(report_type) + " is neither SEV-SNP (2) nor TDX (4)");
  }
  if (hash_type < 1 || hash_type > 3) {
    return Bad("hash type", 0x4CC,
               std::to_string(hash_type) + " is not SHA-256 (1), SHA-384 (2) or SHA-512 (3)");
  }
  r.hash_type = static_cast<HclHashType>(hash_type);
  if (runtime_size == 0) {
    return Bad("runtime-data size", 0x4D0, "is zero");
  }
  if (runtime_size > bytes.size() - kRuntimeDataOffset) {
    return Bad("runtime-data size", 0x4D0,
               std::to_string(runtime_size) + " exceeds the " +
                   std::to_string(bytes.size() - kRuntimeDataOffset) + " bytes after 0x4D4");
  }
  // Both computed in 64 bits: runtime_size is bounded by the buffer above, so no overflow.
  if (static_cast<std::uint64_t>(data_size) != kRequestDataSize + std::uint64_t{runtime_size}) {
    return Bad("request data size", 0x4C0,
               std::to_string(data_size) + " != 20 + runtime-data size " +
                   std::to_string(runtime_size));
  }
  if (static_cast<std::uint64_t>(r.report_size) != kRuntimeDataOffset + std::uint64_t{runtime_size}) {
    return Bad("report_size", 0x08,
               std::to_string(r.report_size) + " != 0x4D4 + runtime-data size " +
                   std::to_string(runtime_size));
  }

  const ByteSpan area = bytes.subspan(kHclHeaderSize, kHwReportAreaSize);
  if (r.report_type == HclReportType::kSnp) {
    r.hardware_report = area.first(kSnpReportSize);
  } else {
    r.hardware_report = area.first(kTdReportSize);
    const ByteSpan pad = area.subspan(kTdReportSize);
    if (std::size_t nz = FirstNonZero(pad); nz != pad.size()) {
      return Bad("TDX hardware-report padding", kHclHeaderSize + kTdReportSize + nz,
                 "must be zero");
    }
  }
  r.runtime_data = bytes.subspan(kRuntimeDataOffset, runtime_size);
  const ByteSpan tail = bytes.subspan(r.report_size);
  if (std::size_t nz = FirstNonZero(tail); nz != tail.size()) {
    return Bad("trailing bytes", r.report_size + nz,
               "nonzero byte after report_size (only the NV index's zero padding may follow)");
  }
  r.padding = tail.size();
  return r;
}

}  // namespace sigil::attestation::azure
