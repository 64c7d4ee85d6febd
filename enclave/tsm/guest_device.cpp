#include "enclave/tsm/guest_device.h"

#include <fcntl.h>
#include <linux/sev-guest.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/unique_fd.h"

namespace sigil::enclave::tsm {
namespace {

// include/uapi/linux/tdx-guest.h (Linux >= 6.2; Debian 12's headers predate it, so the two
// definitions are restated here exactly as the UAPI header has them).
struct TdxReportReq {
  std::uint8_t reportdata[64];
  std::uint8_t tdreport[1024];
};
constexpr unsigned long kTdxCmdGetReport0 = _IOWR('T', 1, TdxReportReq);

constexpr std::size_t kSnpReportSize = 0x4A0;
constexpr std::size_t kMsgReportRspHeader = 0x20;

Result<int> OpenDevice(const std::string& device) {
  const int fd = ::open(device.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    return Fail(Code::kUnavailable, "cannot open " + device + ": " + std::strerror(errno) +
                                        " (not a confidential guest, or the driver is not loaded)");
  }
  return fd;
}

std::uint32_t Le32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
         static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

}  // namespace

Result<Bytes> SnpReportFromDevice(const std::string& device, ByteSpan user_data, std::uint32_t vmpl) {
  if (user_data.size() != sizeof(snp_report_req::user_data)) {
    return Fail(Code::kInvalidArgument, "SNP report user data must be 64 bytes");
  }
  SIGIL_ASSIGN_OR_RETURN(int raw_fd, OpenDevice(device));
  UniqueFd fd(raw_fd);
  snp_report_req req{};
  std::memcpy(req.user_data, user_data.data(), user_data.size());
  req.vmpl = vmpl;
  snp_report_resp resp{};
  snp_guest_request_ioctl io{};
  io.msg_version = 1;  // the only message version the ABI defines for MSG_REPORT_REQ
  io.req_data = reinterpret_cast<std::uintptr_t>(&req);
  io.resp_data = reinterpret_cast<std::uintptr_t>(&resp);
  if (::ioctl(fd.get(), SNP_GET_REPORT, &io) != 0) {
    return Fail(Code::kUnavailable, "SNP_GET_REPORT on " + device + " failed: " +
                                        std::strerror(errno) + " (firmware error " +
                                        std::to_string(io.fw_error) + ", VMM error " +
                                        std::to_string(io.vmm_error) + ")");
  }
  const std::uint32_t status = Le32(resp.data);
  const std::uint32_t size = Le32(resp.data + 4);
  if (status != 0 || size != kSnpReportSize) {
    return Fail(Code::kUnavailable, "SNP firmware MSG_REPORT_RSP status " + std::to_string(status) +
                                        ", report size " + std::to_string(size));
  }
  return Bytes(resp.data + kMsgReportRspHeader, resp.data + kMsgReportRspHeader + kSnpReportSize);
}

Result<Bytes> TdReportFromDevice(const std::string& device, ByteSpan report_data) {
  if (report_data.size() != sizeof(TdxReportReq::reportdata)) {
    return Fail(Code::kInvalidArgument, "TDX report data must be 64 bytes");
  }
  SIGIL_ASSIGN_OR_RETURN(int raw_fd, OpenDevice(device));
  UniqueFd fd(raw_fd);
  TdxReportReq req{};
  std::memcpy(req.reportdata, report_data.data(), report_data.size());
  if (::ioctl(fd.get(), kTdxCmdGetReport0, &req) != 0) {
    return Fail(Code::kUnavailable, "TDX_CMD_GET_REPORT0 on " + device + " failed: " + std::strerror(errno));
  }
  return Bytes(std::begin(req.tdreport), std::end(req.tdreport));
}

}  // namespace sigil::enclave::tsm
