#include "enclave/azure/azure_attester.h"

#include <cstdio>

#include "attestation/azure/evidence.h"
#include "attestation/azure/hcl_report.h"
#include "attestation/dcap/quote.h"
#include "attestation/tpm/evidence.h"
#include "core/protocol.h"
#include "enclave/tpm/ak.h"
#include "enclave/tpm/bound_quote.h"
#include "enclave/tpm/esys.h"
#include "enclave/tpm/nv_read.h"

namespace sigil::enclave::azure {
namespace {

namespace az = attestation::azure;

std::string Hex(TPM2_HANDLE h) {
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%08x", h);
  return hex;
}

az::HclReportType PlatformOf(const std::string& tee) {
  return tee == "azure-tdx-vtpm" ? az::HclReportType::kTdx : az::HclReportType::kSnp;
}

// The report must be one the broker can take for this tee: a structural parse (the broker's own
// parser) catches an index that holds something else, and the report type says which platform
// this VM is, so a wrong --tee is named here rather than refused later by the broker.
Result<void> CheckHclReport(ByteSpan report, const std::string& tee, TPM2_HANDLE index) {
  auto parsed = az::ParseHclReport(report);
  if (!parsed) {
    return Fail(
        Code::kInvalidArgument,
        "NV index " + Hex(index) + " does not hold an HCL report: " + parsed.error().message());
  }
  if (parsed->report_type != PlatformOf(tee)) {
    const std::string_view is = az::ReportTypeName(parsed->report_type);
    return Fail(Code::kInvalidArgument, "the HCL report's platform is " + std::string(is) +
                                            ": use --tee azure-" + std::string(is) + "-vtpm, not " +
                                            tee);
  }
  return Ok();
}

}  // namespace

Result<Bytes> TdQuoteForHclReport(ByteSpan hcl_report, const ImdsConfig& imds) {
  auto parsed = az::ParseHclReport(hcl_report);
  if (!parsed) {
    return Fail(Code::kInvalidArgument, "not an HCL report: " + parsed.error().message());
  }
  if (parsed->report_type != az::HclReportType::kTdx) {
    return Fail(Code::kInvalidArgument, "the HCL report is not a TDX one: no TDREPORT to quote");
  }
  // For TDX the hardware report is exactly the 1024-byte TDREPORT (hcl_report.h).
  auto quote = FetchTdQuote(imds, parsed->hardware_report);
  if (!quote) return std::move(quote).error().Wrap("TD quote");
  // A wrong endpoint that happens to answer {"quote": ...} is named here, not as a DCAP parse
  // error at the broker.
  auto shape = attestation::dcap::ParseQuote(*quote);
  if (!shape || !shape->td) {
    return Fail(Code::kMalformedEvidence,
                "TD quote: IMDS at " + imds.url + " answered with something that is not a TD quote" +
                    (shape ? std::string(" (an SGX quote)") : ": " + shape.error().message()));
  }
  return quote;
}

Result<AttesterPtr> AzureVtpmAttester::Create(AzureAttesterConfig config) {
  if (config.tee != "azure-snp-vtpm" && config.tee != "azure-tdx-vtpm") {
    return Fail(Code::kInvalidArgument,
                "Azure attester: tee '" + config.tee + "' is not azure-snp-vtpm or azure-tdx-vtpm");
  }
  if ((config.ak_handle & TPM2_HR_RANGE_MASK) != TPM2_HR_PERSISTENT) {
    return Fail(Code::kInvalidArgument, "Azure attester: AK handle " + Hex(config.ak_handle) +
                                            " is not a persistent handle (0x81...)");
  }
  if ((config.hcl_report_index & TPM2_HR_RANGE_MASK) != TPM2_HR_NV_INDEX) {
    return Fail(Code::kInvalidArgument, "Azure attester: " + Hex(config.hcl_report_index) +
                                            " is not an NV index (0x01...)");
  }
  if (config.tee == "azure-tdx-vtpm") {
    if (auto url = ParseImdsUrl(config.imds.url); !url) {
      return std::move(url).error().Wrap("Azure attester");
    }
    if (config.imds.timeout.count() <= 0) {
      return Fail(Code::kInvalidArgument, "Azure attester: the IMDS timeout must be positive");
    }
  }
  SIGIL_ASSIGN_OR_RETURN(TPML_PCR_SELECTION sel, tpm::QuoteSelection(config.pcrs, config.purpose));
  return AttesterPtr(new AzureVtpmAttester(std::move(config), sel));
}

Result<Bytes> AzureVtpmAttester::Evidence(ByteSpan binding) const {
  const std::string who = config_.tee + " attester";
  if (binding.size() != protocol::kBindingSize) {
    return Fail(Code::kInvalidArgument,
                who + ": binding must be 64 bytes, got " + std::to_string(binding.size()));
  }
  SIGIL_ASSIGN_OR_RETURN(tpm::EsysContext ctx, tpm::OpenTpm(config_.tcti));
  auto report = tpm::ReadNvIndex(ctx, config_.hcl_report_index, az::kMaxHclReportSize);
  if (!report) {
    return std::move(report).error().Wrap(who + ": HCL report (is this an Azure confidential VM?)");
  }
  if (auto ok = CheckHclReport(*report, config_.tee, config_.hcl_report_index); !ok) {
    return std::move(ok).error().Wrap(who);
  }
  auto ak = tpm::LoadPersistentAk(ctx, config_.ak_handle);
  if (!ak) return std::move(ak).error().Wrap(who + ": vTPM AK");
  SIGIL_ASSIGN_OR_RETURN(attestation::tpm::Evidence quote,
                         tpm::TakeBoundQuote(ctx, *ak, sel_, binding, config_.purpose, who));
  Bytes td_quote;
  if (PlatformOf(config_.tee) == az::HclReportType::kTdx) {
    // After the TPM quote: IMDS is the slow, remote step, and a TPM that cannot quote should fail
    // the load before it is asked.
    auto fetched = TdQuoteForHclReport(*report, config_.imds);
    if (!fetched) return std::move(fetched).error().Wrap(who);
    td_quote = std::move(fetched).value();
  }
  return az::MakeAzureEvidence(*report, attestation::tpm::SerializeEvidence(quote), td_quote);
}

}  // namespace sigil::enclave::azure
