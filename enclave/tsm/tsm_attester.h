// TsmAttester: SEV-SNP reports and TDX quotes for sigil-load (the Attester seam,
// enclave/attester.h) through Linux configfs-tsm (tsm_report.h), falling back to the
// /dev/sev-guest ioctl for SNP when configfs-tsm is absent (guest_device.h). The evidence is the
// raw report or quote, with the 64-byte binding as REPORT_DATA / REPORTDATA, exactly what the
// broker's SnpVerifier / DcapVerifier read. Paths are injectable for tests.
// Thread-safety: Evidence() is safe to call concurrently (one configfs entry per call).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "attestation/purpose.h"
#include "enclave/attester.h"
#include "enclave/tsm/guest_device.h"
#include "enclave/tsm/tsm_report.h"

namespace sigil::enclave::tsm {

struct TsmAttesterConfig {
  std::string tee;  // "sev-snp" or "tdx"
  std::string configfs_root = kConfigfsTsmRoot;
  std::string sev_guest_device = kSevGuestDevice;
  std::string tdx_guest_device = kTdxGuestDevice;
  std::uint32_t vmpl = 0;  // SNP ioctl fallback: VMPL written into the report request
  // With a purpose, the report data is PurposeBinding(binding, purpose) and the evidence the
  // sigil-purpose-bound/v1 envelope around the report (attestation/purpose_bound.h).
  std::optional<attestation::WorkloadPurpose> purpose;
};

class TsmAttester final : public Attester {
 public:
  // kInvalidArgument for a tee other than "sev-snp" / "tdx". Touches no device: a missing TSM is
  // reported by Evidence(), where the caller can act on it.
  static Result<AttesterPtr> Create(TsmAttesterConfig config);

  std::string_view tee() const override { return config_.tee; }
  // configfs-tsm first (provider "sev_guest" / "tdx_guest"); if its root does not exist, SNP
  // uses SNP_GET_REPORT on the device. TDX has no fallback (guest_device.h): kUnavailable names
  // both what was missing and why. kInvalidArgument for a binding that is not 64 bytes.
  Result<Bytes> Evidence(ByteSpan binding) const override;

 private:
  explicit TsmAttester(TsmAttesterConfig config) : config_(std::move(config)) {}
  // The raw report or quote with `binding` (64 bytes) as its report data.
  Result<Bytes> Report(ByteSpan binding) const;
  TsmAttesterConfig config_;
};

}  // namespace sigil::enclave::tsm
