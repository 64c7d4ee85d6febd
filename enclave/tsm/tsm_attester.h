// TsmAttester: SEV-SNP reports, TDX quotes and Arm CCA realm tokens for sigil-load (the Attester
// seam, enclave/attester.h) through Linux configfs-tsm (tsm_report.h), falling back to the
// /dev/sev-guest ioctl for SNP when configfs-tsm is absent (guest_device.h). The evidence is the
// raw report, quote or CCA token collection, with the 64-byte binding as REPORT_DATA /
// REPORTDATA / the realm challenge, exactly what the broker's SnpVerifier / DcapVerifier /
// CcaVerifier read. Paths are injectable for tests.
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
  std::string tee;  // "sev-snp", "tdx" or "cca"
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
  // kInvalidArgument for a tee other than "sev-snp" / "tdx" / "cca". Touches no device: a missing
  // TSM is reported by Evidence(), where the caller can act on it.
  static Result<AttesterPtr> Create(TsmAttesterConfig config);

  std::string_view tee() const override { return config_.tee; }
  // configfs-tsm first (provider "sev_guest" / "tdx_guest" / "arm_cca_guest"); if its root does
  // not exist, SNP uses SNP_GET_REPORT on the device. TDX and CCA have no fallback (guest_device.h;
  // a realm's token comes only through configfs-tsm): kUnavailable names what was missing and
  // why. kInvalidArgument for a binding that is not 64 bytes.
  Result<Bytes> Evidence(ByteSpan binding) const override;

 private:
  explicit TsmAttester(TsmAttesterConfig config) : config_(std::move(config)) {}
  // The raw report or quote with `binding` (64 bytes) as its report data.
  Result<Bytes> Report(ByteSpan binding) const;
  TsmAttesterConfig config_;
};

}  // namespace sigil::enclave::tsm
