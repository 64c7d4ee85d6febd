// The runtime-data binding: the paravisor puts H(runtime data bytes, exactly as carried) into the
// first bytes of the hardware report's REPORT_DATA and zeros in the rest (MANIFEST: both
// captures are SHA-256 with REPORT_DATA[32:64] zero), H chosen by the HCL hash type.
// Thread-safety: pure functions.
#pragma once

#include <array>
#include <cstdint>

#include "attestation/azure/hcl_report.h"
#include "core/bytes.h"
#include "core/result.h"

namespace sigil::attestation::azure {

using ReportData = std::array<std::uint8_t, 64>;

// H(runtime data) || zero bytes to 64.
ReportData ExpectedReportData(const HclReport& hcl);

// REPORT_DATA (64 bytes) == ExpectedReportData(hcl), constant time. kVerificationFailed saying
// whether the digest or the zero remainder differs.
Result<void> CheckRuntimeDataBinding(const HclReport& hcl, ByteSpan report_data);

}  // namespace sigil::attestation::azure
