#include "enclave/tsm/tsm_attester.h"

#include <sys/stat.h>

#include "attestation/purpose_bound.h"

namespace sigil::enclave::tsm {
namespace {

constexpr std::size_t kBindingSize = 64;

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

Result<AttesterPtr> TsmAttester::Create(TsmAttesterConfig config) {
  if (config.tee != "sev-snp" && config.tee != "tdx") {
    return Fail(Code::kInvalidArgument, "TSM attester: tee '" + config.tee + "' is not sev-snp or tdx");
  }
  if (config.purpose) SIGIL_RETURN_IF_ERROR(attestation::ValidatePurpose(*config.purpose));
  return AttesterPtr(new TsmAttester(std::move(config)));
}

Result<Bytes> TsmAttester::Evidence(ByteSpan binding) const {
  if (binding.size() != kBindingSize) {
    return Fail(Code::kInvalidArgument, "TSM attester: the binding must be 64 bytes");
  }
  if (config_.purpose) {
    // No runtime register here: the purpose goes into the report data with the binding.
    Sha512Digest bound = attestation::PurposeBinding(binding, *config_.purpose);
    SIGIL_ASSIGN_OR_RETURN(Bytes report, Report(bound));
    return attestation::WrapPurposeBound(report, *config_.purpose);
  }
  return Report(binding);
}

Result<Bytes> TsmAttester::Report(ByteSpan binding) const {
  const bool snp = config_.tee == "sev-snp";
  if (Exists(config_.configfs_root)) {
    SIGIL_ASSIGN_OR_RETURN(TsmReport r, GetTsmReport(config_.configfs_root, binding,
                                                     snp ? "sev_guest" : "tdx_guest"));
    return std::move(r.outblob);
  }
  if (snp) {
    auto report = SnpReportFromDevice(config_.sev_guest_device, binding, config_.vmpl);
    if (report) return report;
    return Fail(Code::kUnavailable, "no SEV-SNP attestation interface: " + config_.configfs_root +
                                        " does not exist (configfs-tsm) and " +
                                        report.error().message());
  }
  return Fail(Code::kUnavailable,
              "no TDX quote interface: " + config_.configfs_root +
                  " does not exist; a TDX quote needs configfs-tsm (Linux >= 6.7 with tdx-guest), "
                  "since " + config_.tdx_guest_device +
                  " only yields a TDREPORT that cannot be verified remotely" +
                  (Exists(config_.tdx_guest_device) ? "" : " (and that device is absent too)"));
}

}  // namespace sigil::enclave::tsm
