// The pre-configfs guest driver interfaces, used when configfs-tsm is absent (kernels < 6.7):
// /dev/sev-guest SNP_GET_REPORT (include/uapi/linux/sev-guest.h) and /dev/tdx_guest
// TDX_CMD_GET_REPORT0 (include/uapi/linux/tdx-guest.h). A TDREPORT is MAC'd for the local
// platform only; turning it into a remotely verifiable quote needs the quoting enclave, which
// Linux exposes only through configfs-tsm, so TDX quotes have no ioctl fallback.
// Thread-safety: each call opens its own descriptor; safe to call concurrently.
#pragma once

#include <cstdint>
#include <string>

#include "core/bytes.h"
#include "core/result.h"

namespace sigil::enclave::tsm {

inline constexpr const char* kSevGuestDevice = "/dev/sev-guest";
inline constexpr const char* kTdxGuestDevice = "/dev/tdx_guest";

// SNP_GET_REPORT with `user_data` (64 bytes) at `vmpl`; returns the 1184-byte ATTESTATION_REPORT
// cut out of MSG_REPORT_RSP (AMD pub. 56860, table "MSG_REPORT_RSP Message Structure": STATUS at
// 0x00, REPORT_SIZE at 0x04, REPORT at 0x20). kInvalidArgument for a wrong user_data size;
// kUnavailable naming the device, errno and the firmware/VMM error codes otherwise.
Result<Bytes> SnpReportFromDevice(const std::string& device, ByteSpan user_data, std::uint32_t vmpl);

// TDX_CMD_GET_REPORT0: the 1024-byte TDREPORT over `report_data` (64 bytes). Same errors.
Result<Bytes> TdReportFromDevice(const std::string& device, ByteSpan report_data);

}  // namespace sigil::enclave::tsm
