// AzureVtpmAttester: the workload side of tees "azure-snp-vtpm" / "azure-tdx-vtpm" (Azure
// confidential VMs with the paravisor vTPM; the broker's verifier is attestation/azure, whose
// README.md describes the chain). Evidence(binding):
//  1. reads the HCL report from vTPM NV index 0x01400001 (owner auth, as `tpm2_nvread -C o`).
//     Index and layout: Microsoft's Azure CVM guest attestation documentation and the OpenHCL
//     IGVM attestation protocol definitions, as recorded in
//     /work/shared/vectors/azure-cvm/MANIFEST.md ("HCL report layout");
//  2. loads the vTPM attestation key at persistent handle 0x81000003 (Azure's AK, the one named
//     HCLAkPub in the report's runtime data) unless another handle is configured;
//  3. quotes the configured PCRs with that AK over binding[0..32) (enclave/tpm/bound_quote.h,
//     the same rule as tee "tpm"; with a purpose, the purpose PCR is extended first, added to
//     the quoted selection, and its log carried in the quote object as "purpose_log", which the
//     broker replays against the quote exactly as for tee "tpm": that is how an Azure CVM proves
//     its workload purpose, since its HCL report data is fixed at boot);
//  4. azure-tdx-vtpm only: POSTs the report's TDREPORT to Azure IMDS /acc/tdquote
//     (imds_td_quote.h; URL configurable) and gets the TD quote the host's quoting enclave made
//     from it. A TDREPORT is MAC'd with a CPU key, so this quote (DCAP) is what lets the broker
//     authenticate the hardware layer; without it the broker refuses azure-tdx-vtpm evidence;
//  5. returns sigil-azure-vtpm/v1 evidence (attestation/azure/evidence.h) with the HCL report
//     exactly as read (NV zero padding kept; the verifier accepts it) and, for TDX, the quote as
//     "td_quote".
//
// The report's user data is NOT refreshed (no write of the report-data request to NV index
// 0x01400002 before reading). The broker takes freshness and the binding from the quote's
// qualifying data and never compares the runtime data's `user-data` (attestation/azure/README.md
// "How expected_binding is used"); the report only has to name the AK, which is fixed for the
// VM's life. A refresh would cost a paravisor round trip to the hardware per load, a write to an
// index shared by every process in the VM (concurrent loaders would race on it), and the
// SNP-era HCL does not carry user-data at all. For the same reason the TD quote needs no nonce:
// it authenticates the boot-time TDREPORT, and the TPM quote carries the binding.
//
// The TD quote is only checked for shape here (a DCAP quote with a TD body): whether it speaks
// for this TDREPORT (body fields equal, chain to Intel, TCB) is the broker's check
// (attestation/azure/td_binding.h, hcl_verify.h), which a workload-side copy would not make any
// stronger.
// Thread-safety: Evidence() opens the TPM (and its IMDS connection) per call and is safe to call
// concurrently.
#pragma once

#include <tss2/tss2_tpm2_types.h>

#include <optional>
#include <string>

#include "enclave/attester.h"
#include "enclave/azure/imds_td_quote.h"
#include "enclave/tpm/purpose_pcr.h"

namespace sigil::enclave::azure {

// Where Azure's paravisor stores the HCL report, and Azure's vTPM AK (persistent, RSA-2048).
inline constexpr TPM2_HANDLE kHclReportNvIndex = 0x01400001;
inline constexpr TPM2_HANDLE kAzureAkHandle = 0x81000003;

struct AzureAttesterConfig {
  std::string tee;                              // "azure-snp-vtpm" or "azure-tdx-vtpm"
  std::string tcti;                             // "" = tpm2-tss default (/dev/tpmrm0 on Azure)
  std::string pcrs = "sha256:0,1,2,3,4,5,6,7";  // ParsePcrSelection syntax
  TPM2_HANDLE ak_handle = kAzureAkHandle;
  TPM2_HANDLE hcl_report_index = kHclReportNvIndex;
  // As TpmAttesterConfig::purpose: the broker's Azure verifier reads the purpose log through the
  // same TPM quote verifier.
  std::optional<tpm::TpmPurposeConfig> purpose;
  // azure-tdx-vtpm: where the TD quote comes from (Azure IMDS; sigil-load --azure-imds-url).
  ImdsConfig imds;
};

// The TD quote for an HCL report read from the vTPM: parses it (it must be a TDX one), sends its
// TDREPORT to IMDS (FetchTdQuote) and checks the answer parses as a DCAP quote with a TD body.
// kInvalidArgument for a report that does not parse or is not TDX; FetchTdQuote's errors;
// kMalformedEvidence if IMDS's quote is not a TD quote.
Result<Bytes> TdQuoteForHclReport(ByteSpan hcl_report, const ImdsConfig& imds);

class AzureVtpmAttester final : public Attester {
 public:
  // kInvalidArgument for another tee, a bad PCR selection or purpose, handles outside the
  // persistent / NV ranges, or (azure-tdx-vtpm) a bad IMDS URL or a non-positive timeout.
  // Touches no TPM and no network.
  static Result<AttesterPtr> Create(AzureAttesterConfig config);

  std::string_view tee() const override { return config_.tee; }
  // kInvalidArgument for a binding that is not 64 bytes; kUnavailable if the TPM cannot be
  // opened; kNotFound if the NV index or the AK handle is empty (not an Azure CVM);
  // kInvalidArgument if the NV index holds no HCL report or one of the other platform (an SNP
  // report under azure-tdx-vtpm, or the reverse); azure-tdx-vtpm: TdQuoteForHclReport's errors
  // (kUnavailable when IMDS cannot be reached or refuses).
  Result<Bytes> Evidence(ByteSpan binding) const override;

 private:
  AzureVtpmAttester(AzureAttesterConfig config, TPML_PCR_SELECTION sel)
      : config_(std::move(config)), sel_(sel) {}
  AzureAttesterConfig config_;
  TPML_PCR_SELECTION sel_;
};

}  // namespace sigil::enclave::azure
