#include "enclave/tsm/tsm_attester.h"

#include <sys/stat.h>

#include "attestation/purpose_bound.h"

namespace sigil::enclave::tsm {
namespace {

constexpr std::size_t kBindingSize = 64;

// The configfs-tsm provider name each TEE's guest driver registers (drivers/virt/coco/: sev-guest,
// tdx-guest, arm-cca-guest). For CCA the inblob is the realm challenge (the RMM's
// RSI_ATTESTATION_TOKEN_INIT takes exactly 64 bytes, Arm DEN0137) and the outblob the CCA token
// collection (CBOR tag 399), which the broker's CcaVerifier reads as it is.
struct Provider {
  std::string_view tee;
  std::string_view provider;
};
constexpr Provider kProviders[] = {
    {"sev-snp", "sev_guest"},
    {"tdx", "tdx_guest"},
    {"cca", "arm_cca_guest"},
};

std::string_view ProviderOf(std::string_view tee) {
  for (const auto& p : kProviders) {
    if (p.tee == tee) return p.provider;
  }
  return {};
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

Result<AttesterPtr> TsmAttester::Create(TsmAttesterConfig config) {
  if (ProviderOf(config.tee).empty()) {
    return Fail(Code::kInvalidArgument,
                "TSM attester: tee '" + config.tee + "' is not sev-snp, tdx or cca");
  }
  if (config.purpose) SIGIL_RETURN_IF_ERROR(attestation::ValidatePurpose(*config.purpose));
  return AttesterPtr(new TsmAttester(std::move(config)));
}

Result<Bytes> TsmAttester::Evidence(ByteSpan binding) const {
  if (binding.size() != kBindingSize) {
    return Fail(Code::kInvalidArgument, "TSM attester: the binding must be 64 bytes");
  }
  if (config_.purpose) {
    // No runtime register reachable here (CCA's REMs are not exposed through configfs-tsm): the
    // purpose goes into the report data with the binding.
    Sha512Digest bound = attestation::PurposeBinding(binding, *config_.purpose);
    SIGIL_ASSIGN_OR_RETURN(Bytes report, Report(bound));
    return attestation::WrapPurposeBound(report, *config_.purpose);
  }
  return Report(binding);
}

Result<Bytes> TsmAttester::Report(ByteSpan binding) const {
  const bool snp = config_.tee == "sev-snp";
  if (Exists(config_.configfs_root)) {
    SIGIL_ASSIGN_OR_RETURN(TsmReport r,
                           GetTsmReport(config_.configfs_root, binding, ProviderOf(config_.tee)));
    return std::move(r.outblob);
  }
  if (config_.tee == "cca") {
    return Fail(Code::kUnavailable,
                "no CCA attestation interface: " + config_.configfs_root +
                    " does not exist; a realm token needs configfs-tsm (Linux >= 6.13 with "
                    "arm-cca-guest, inside a realm)");
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
