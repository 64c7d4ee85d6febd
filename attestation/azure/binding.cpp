#include "attestation/azure/binding.h"

#include <algorithm>
#include <string>

#include "core/digest.h"

namespace sigil::attestation::azure {

ReportData ExpectedReportData(const HclReport& hcl) {
  ReportData out{};
  switch (hcl.hash_type) {
    case HclHashType::kSha256: {
      const auto d = Sha256(hcl.runtime_data);
      std::copy(d.begin(), d.end(), out.begin());
      break;
    }
    case HclHashType::kSha384: {
      const auto d = Sha384(hcl.runtime_data);
      std::copy(d.begin(), d.end(), out.begin());
      break;
    }
    case HclHashType::kSha512: {
      const auto d = Sha512(hcl.runtime_data);
      std::copy(d.begin(), d.end(), out.begin());
      break;
    }
  }
  return out;
}

Result<void> CheckRuntimeDataBinding(const HclReport& hcl, ByteSpan report_data) {
  if (report_data.size() != 64) {
    return Fail(Code::kInternal, "REPORT_DATA must be 64 bytes");
  }
  const ReportData want = ExpectedReportData(hcl);
  const std::size_t n = HashSize(hcl.hash_type);
  const ByteSpan want_span(want);
  if (!ConstantTimeEqual(report_data.first(n), want_span.first(n))) {
    return Fail(Code::kVerificationFailed,
                "runtime-data binding: REPORT_DATA[0:" + std::to_string(n) +
                    "] is not the hash of the HCL runtime data (the runtime data, and the AK in "
                    "it, are not the ones the hardware report vouches for)");
  }
  if (!ConstantTimeEqual(report_data.subspan(n), want_span.subspan(n))) {
    return Fail(Code::kVerificationFailed, "runtime-data binding: REPORT_DATA[" +
                                               std::to_string(n) + ":64] is not zero");
  }
  return Ok();
}

}  // namespace sigil::attestation::azure
