#include "attestation/azure/tdreport.h"

#include <algorithm>
#include <string>

namespace sigil::attestation::azure {
namespace {

template <std::size_t N>
void Take(ByteSpan b, std::size_t off, std::array<std::uint8_t, N>& out) {
  std::copy_n(b.begin() + static_cast<std::ptrdiff_t>(off), N, out.begin());
}

}  // namespace

Result<TdReport> ParseTdReport(ByteSpan b) {
  if (b.size() != 1024) {
    return Fail(Code::kMalformedEvidence,
                "TDREPORT is " + std::to_string(b.size()) + " bytes, not 1024");
  }
  TdReport r;
  Take(b, 0, r.report_type);
  if (r.report_type[0] != 0x81) {
    return Fail(Code::kMalformedEvidence,
                "TDREPORT REPORTTYPE.TYPE (0x0) is " + std::to_string(r.report_type[0]) +
                    ", not 0x81 (TDX)");
  }
  Take(b, 16, r.cpu_svn);
  Take(b, 32, r.tee_tcb_info_hash);
  Take(b, 80, r.tee_info_hash);
  Take(b, 128, r.report_data);
  Take(b, 224, r.mac);
  Take(b, 256, r.tcb_valid);
  Take(b, 264, r.tee_tcb_svn);
  Take(b, 280, r.mr_seam);
  Take(b, 328, r.mr_signer_seam);
  Take(b, 376, r.seam_attributes);
  Take(b, 384, r.tee_tcb_svn2);
  Take(b, 512, r.td_attributes);
  Take(b, 520, r.xfam);
  Take(b, 528, r.mr_td);
  Take(b, 576, r.mr_config_id);
  Take(b, 624, r.mr_owner);
  Take(b, 672, r.mr_owner_config);
  for (std::size_t i = 0; i < 4; ++i) {
    Take(b, 720 + 48 * i, r.rtmr[i]);
  }
  Take(b, 912, r.servtd_hash);
  r.tee_tcb_info = b.subspan(kTeeTcbInfoOffset, kTeeTcbInfoSize);
  r.td_info = b.subspan(kTdInfoOffset, kTdInfoSize);
  return r;
}

}  // namespace sigil::attestation::azure
