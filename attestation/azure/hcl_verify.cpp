#include "attestation/azure/hcl_verify.h"

#include <algorithm>

#include "attestation/azure/ak_key.h"
#include "attestation/azure/azure_claims.h"
#include "attestation/azure/binding.h"
#include "attestation/azure/td_binding.h"
#include "attestation/azure/tdreport.h"
#include "attestation/dcap/quote.h"
#include "attestation/snp/certs.h"
#include "attestation/snp/collateral.h"
#include "attestation/snp/report.h"
#include "core/digest.h"

namespace sigil::attestation::azure {
namespace {

constexpr char kTdxNotVerifiable[] =
    "not verified: a TDX TDREPORT is MAC'd with a CPU-internal key and cannot be authenticated "
    "offline; it needs a TD quote made from it";

// MANIFEST AZ-SNP-1: "A verifier should reject on hwID != chip_id before checking the
// signature". SnpVerifier checks the signature first; a VCEK for another chip then shows up as
// a bad signature, which does not tell the operator that the wrong certificate was supplied.
Result<void> CheckCollateralVcekChip(ByteSpan collateral, const snp::Report& report) {
  if (collateral.empty() || report.signing_key != 0 || report.mask_chip_key) {
    return Ok();
  }
  SIGIL_ASSIGN_OR_RETURN(snp::SortedCerts certs, snp::ParseCollateral(collateral));
  if (!certs.vek || snp::SubjectCommonName(*certs.vek) != "SEV-VCEK") {
    return Ok();  // SnpVerifier refuses a VLEK for a VCEK report with its own message
  }
  SIGIL_ASSIGN_OR_RETURN(snp::VcekExtensions ext, snp::ReadVcekExtensions(*certs.vek));
  if (!ext.hw_id) {
    return Ok();
  }
  const ByteSpan chip(report.chip_id);
  const ByteSpan hw(*ext.hw_id);
  bool match = false;
  if (hw.size() == chip.size()) {
    match = ConstantTimeEqual(hw, chip);
  } else if (hw.size() == 8) {  // Turin: 8-byte hwID, the rest of CHIP_ID zero
    match = ConstantTimeEqual(hw, chip.first(8)) &&
            std::all_of(chip.begin() + 8, chip.end(), [](std::uint8_t b) { return b == 0; });
  }
  if (!match) {
    return Fail(Code::kVerificationFailed,
                "the collateral's VCEK is for another chip: its hwID does not match the SEV-SNP "
                "report CHIP_ID (0x1A0); fetch the VCEK for this CHIP_ID from AMD KDS or the "
                "VM's IMDS THIM endpoint");
  }
  return Ok();
}

Result<void> CheckTdReportHashes(const TdReport& td) {
  const auto tcb = Sha384(td.tee_tcb_info);
  if (!ConstantTimeEqual(tcb, td.tee_tcb_info_hash)) {
    return Fail(Code::kVerificationFailed,
                "TDREPORT TEE_TCB_INFO_HASH (0x20) is not SHA-384 of TEE_TCB_INFO (0x100)");
  }
  const auto info = Sha384(td.td_info);
  if (!ConstantTimeEqual(info, td.tee_info_hash)) {
    return Fail(Code::kVerificationFailed,
                "TDREPORT TEE_INFO_HASH (0x50) is not SHA-384 of TDINFO_STRUCT (0x200)");
  }
  return Ok();
}

}  // namespace

std::string_view AzureTeeName(AzurePlatform platform) {
  return platform == AzurePlatform::kTdx ? "azure-tdx-vtpm" : "azure-snp-vtpm";
}

Result<BoundHcl> ParseAndBindHclReport(ByteSpan hcl_bytes) {
  SIGIL_ASSIGN_OR_RETURN(const HclReport hcl, ParseHclReport(hcl_bytes));
  BoundHcl out;
  out.report_type = hcl.report_type;
  if (hcl.report_type == HclReportType::kSnp) {
    auto report = snp::ParseReport(hcl.hardware_report);
    if (!report) {
      return std::move(report).error().Wrap("HCL report's SEV-SNP report (at 0x20)");
    }
    SIGIL_RETURN_IF_ERROR(CheckRuntimeDataBinding(hcl, report->report_data));
  } else {
    auto td = ParseTdReport(hcl.hardware_report);
    if (!td) {
      return std::move(td).error().Wrap("HCL report's TDREPORT (at 0x20)");
    }
    SIGIL_RETURN_IF_ERROR(CheckRuntimeDataBinding(hcl, td->report_data));
  }
  SIGIL_ASSIGN_OR_RETURN(out.runtime, ParseRuntimeData(hcl.runtime_data));
  SIGIL_ASSIGN_OR_RETURN(out.ak_spki_der, RsaJwkToSpkiDer(out.runtime.ak));
  if (out.runtime.ek) {
    SIGIL_ASSIGN_OR_RETURN(out.ek_spki_der, RsaJwkToSpkiDer(*out.runtime.ek));
  }
  out.hardware_report.assign(hcl.hardware_report.begin(), hcl.hardware_report.end());
  out.runtime_data.assign(hcl.runtime_data.begin(), hcl.runtime_data.end());
  AddRuntimeClaims(hcl, out.runtime, out.ak_spki_der, out.ek_spki_der, out.claims);
  return out;
}

Result<std::unique_ptr<HclReportVerifier>> HclReportVerifier::Create(const AzureConfig& config) {
  std::unique_ptr<Verifier> snp;
  if (config.platform == AzurePlatform::kSnp) {
    auto made = snp::SnpVerifier::Create(config.snp);
    if (!made) {
      return std::move(made).error().Wrap("azure-snp-vtpm");
    }
    snp = std::move(made).value();
  }
  std::unique_ptr<Verifier> dcap;
  if (config.platform == AzurePlatform::kTdx && config.tdx) {
    auto made = dcap::DcapVerifier::Create(dcap::DcapTee::kTdx, *config.tdx);
    if (!made) {
      return std::move(made).error().Wrap("azure-tdx-vtpm");
    }
    dcap = std::move(made).value();
  }
  return std::unique_ptr<HclReportVerifier>(
      new HclReportVerifier(config.platform, std::move(snp), std::move(dcap)));
}

Result<HclVerification> HclReportVerifier::Verify(ByteSpan hcl_bytes, ByteSpan collateral,
                                                  std::chrono::system_clock::time_point now,
                                                  ByteSpan td_quote) const {
  SIGIL_ASSIGN_OR_RETURN(BoundHcl bound, ParseAndBindHclReport(hcl_bytes));
  const bool is_tdx = bound.report_type == HclReportType::kTdx;
  if (is_tdx != (platform_ == AzurePlatform::kTdx)) {
    return Fail(Code::kVerificationFailed,
                std::string("the HCL report carries a ") + (is_tdx ? "TDX TDREPORT" : "SEV-SNP report") +
                    " (report type at 0x4C8), but this verifier is " +
                    std::string(AzureTeeName(platform_)));
  }
  if (!is_tdx && !td_quote.empty()) {
    return Fail(Code::kInvalidArgument, "azure-snp-vtpm: a TD quote belongs to TDX evidence");
  }
  HclVerification out;
  out.report_type = bound.report_type;
  if (!is_tdx) {
    const snp::Report report = snp::ParseReport(bound.hardware_report).value();  // parsed above
    if (report.vmpl != 0) {
      return Fail(Code::kVerificationFailed,
                  "SEV-SNP report VMPL (0x30) is " + std::to_string(report.vmpl) +
                      ", not 0: only the paravisor at VMPL0 writes HCL reports; a report from a "
                      "higher VMPL was requested by the guest and vouches for nothing it carries");
    }
    SIGIL_RETURN_IF_ERROR(CheckCollateralVcekChip(collateral, report));
    const ReportData expected = report.report_data;  // equal to H(runtime data) || 0 (bound)
    auto claims = snp_->Verify(VerifyInput{bound.hardware_report, collateral, expected, now, {}});
    if (!claims) {
      return std::move(claims).error().Wrap("azure-snp-vtpm hardware layer");
    }
    out.claims = std::move(claims).value();
    out.hardware_verified = true;
    out.hardware_status = "verified";
  } else {
    const TdReport td = ParseTdReport(bound.hardware_report).value();  // parsed above
    SIGIL_RETURN_IF_ERROR(CheckTdReportHashes(td));
    if (td_quote.empty()) {
      AddTdReportClaims(td, out.claims);
      out.claims.Set("tcb.status", std::string("NotEvaluated"));
      out.hardware_verified = false;
      out.hardware_status = kTdxNotVerifiable;
    } else {
      if (!dcap_) {
        return Fail(Code::kInvalidArgument,
                    "azure-tdx-vtpm: a TD quote was given but no Intel DCAP trust anchor is "
                    "configured");
      }
      auto claims = dcap_->Verify(VerifyInput{td_quote, collateral, td.report_data, now, {}});
      if (!claims) {
        return std::move(claims).error().Wrap("azure-tdx-vtpm TD quote");
      }
      SIGIL_ASSIGN_OR_RETURN(const dcap::Quote quote, dcap::ParseQuote(td_quote));
      if (!quote.td) {
        return Fail(Code::kVerificationFailed, "azure-tdx-vtpm: the TD quote has no TD body");
      }
      SIGIL_RETURN_IF_ERROR(CheckTdQuoteMatchesTdReport(*quote.td, td));
      out.claims = std::move(claims).value();
      out.hardware_verified = true;
      out.hardware_status = "verified (TD quote)";
    }
  }
  for (const auto& [name, value] : bound.claims.values()) {
    out.claims.Set(name, value);
  }
  out.claims.Set("tee", std::string(AzureTeeName(platform_)));
  out.claims.Set("azure.hardware_verified", out.hardware_verified);
  out.runtime_data = std::move(bound.runtime_data);
  out.runtime = std::move(bound.runtime);
  out.ak_spki_der = std::move(bound.ak_spki_der);
  SIGIL_ASSIGN_OR_RETURN(out.ak_pem, SpkiDerToPem(out.ak_spki_der));
  return out;
}

Result<HclVerification> VerifyHclReport(ByteSpan hcl, const AzureConfig& config,
                                        std::chrono::system_clock::time_point now) {
  return VerifyHclReport(hcl, {}, {}, config, now);
}

Result<HclVerification> VerifyHclReport(ByteSpan hcl, ByteSpan collateral,
                                        const AzureConfig& config,
                                        std::chrono::system_clock::time_point now) {
  return VerifyHclReport(hcl, collateral, {}, config, now);
}

Result<HclVerification> VerifyHclReport(ByteSpan hcl, ByteSpan collateral, ByteSpan td_quote,
                                        const AzureConfig& config,
                                        std::chrono::system_clock::time_point now) {
  SIGIL_ASSIGN_OR_RETURN(std::unique_ptr<HclReportVerifier> v, HclReportVerifier::Create(config));
  return v->Verify(hcl, collateral, now, td_quote);
}

}  // namespace sigil::attestation::azure
