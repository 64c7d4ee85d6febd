#include "attestation/azure/td_binding.h"

#include <algorithm>
#include <string>
#include <utility>

namespace sigil::attestation::azure {
namespace {

template <class A, class B>
bool Same(const A& a, const B& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

}  // namespace

Result<void> CheckTdQuoteMatchesTdReport(const dcap::TdReportBody& q, const TdReport& td) {
  const std::pair<const char*, bool> fields[] = {
      {"TEE_TCB_SVN", Same(q.tee_tcb_svn, td.tee_tcb_svn)},
      {"MRSEAM", Same(q.mr_seam, td.mr_seam)},
      {"MRSIGNERSEAM", Same(q.mr_signer_seam, td.mr_signer_seam)},
      {"SEAM ATTRIBUTES", Same(q.seam_attributes, td.seam_attributes)},
      {"TD ATTRIBUTES", Same(q.td_attributes, td.td_attributes)},
      {"XFAM", Same(q.xfam, td.xfam)},
      {"MRTD", Same(q.mr_td, td.mr_td)},
      {"MRCONFIGID", Same(q.mr_config_id, td.mr_config_id)},
      {"MROWNER", Same(q.mr_owner, td.mr_owner)},
      {"MROWNERCONFIG", Same(q.mr_owner_config, td.mr_owner_config)},
      {"RTMR0", Same(q.rtmr[0], td.rtmr[0])},
      {"RTMR1", Same(q.rtmr[1], td.rtmr[1])},
      {"RTMR2", Same(q.rtmr[2], td.rtmr[2])},
      {"RTMR3", Same(q.rtmr[3], td.rtmr[3])},
      {"REPORTDATA", Same(q.report_data, td.report_data)},
      // TD 1.5 bodies only (quote v5 body type 3).
      {"TEE_TCB_SVN2", !q.tee_tcb_svn2 || Same(*q.tee_tcb_svn2, td.tee_tcb_svn2)},
      {"MRSERVICETD", !q.mr_service_td || Same(*q.mr_service_td, td.servtd_hash)},
  };
  for (const auto& [name, same] : fields) {
    if (!same) {
      return Fail(Code::kVerificationFailed,
                  std::string("the TD quote was not made from the HCL report's TDREPORT: ") +
                      name + " differs");
    }
  }
  return Ok();
}

}  // namespace sigil::attestation::azure
