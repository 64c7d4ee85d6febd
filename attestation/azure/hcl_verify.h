// Verification of an Azure confidential VM's HCL report on its own: the hardware layer (SEV-SNP
// report through SnpVerifier; a TDX TDREPORT cannot be authenticated offline) and the
// runtime-data binding, giving the vTPM attestation key (HCLAkPub) and the azure.* claims. The
// TPM quote layer is VerifyVtpmQuote; AzureVtpmVerifier (verifier.h) runs all three.
// Thread-safety: HclReportVerifier::Verify is const and safe to call concurrently.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "attestation/azure/hcl_report.h"
#include "attestation/azure/runtime_data.h"
#include "attestation/claims.h"
#include "attestation/dcap/verifier.h"
#include "attestation/snp/verifier.h"
#include "attestation/verifier.h"
#include "core/bytes.h"
#include "core/result.h"

namespace sigil::attestation::azure {

enum class AzurePlatform { kSnp, kTdx };

// "azure-snp-vtpm" / "azure-tdx-vtpm".
std::string_view AzureTeeName(AzurePlatform platform);

struct AzureConfig {
  // Which HCL reports this configuration accepts (an SNP report for kSnp, a TDREPORT for kTdx).
  AzurePlatform platform = AzurePlatform::kSnp;
  // kSnp: the SEV-SNP verifier's configuration (AMD ARK anchors required; ASK, VCEK cache and
  // imported-certificate source optional; attestation/snp/README.md). Unused for kTdx.
  snp::SnpConfig snp;
  // kTdx: the DCAP configuration (Intel SGX Root CA, collateral; attestation/dcap/README.md)
  // for the TD quote made from the TDREPORT. Without it no TDX hardware layer verifies.
  std::optional<dcap::DcapConfig> tdx;
};

// The parsed HCL report with its binding checked: enough to know the AK, nothing authenticated
// beyond "REPORT_DATA commits to this runtime data".
struct BoundHcl {
  HclReportType report_type = HclReportType::kSnp;
  Bytes hardware_report;  // 1184-byte SNP report or 1024-byte TDREPORT
  Bytes runtime_data;     // exactly as carried
  RuntimeData runtime;
  Bytes ak_spki_der;      // HCLAkPub as DER SubjectPublicKeyInfo
  Bytes ek_spki_der;      // HCLEkPub, empty if absent
  Claims claims;          // azure.* (AddRuntimeClaims)
};

// ParseHclReport, then the hardware report's parse (snp::ParseReport / ParseTdReport), the
// runtime-data binding (binding.h; kVerificationFailed), ParseRuntimeData and the AK/EK as DER.
Result<BoundHcl> ParseAndBindHclReport(ByteSpan hcl);

struct HclVerification {
  HclReportType report_type = HclReportType::kSnp;
  // True only when the hardware report was authenticated (SNP: VCEK signature and chain to a
  // configured ARK). Always false for TDX: a TDREPORT is MAC'd with a CPU-internal key.
  bool hardware_verified = false;
  std::string hardware_status;  // "verified", or why the hardware layer is not verified
  Bytes runtime_data;
  RuntimeData runtime;
  Bytes ak_spki_der;
  std::string ak_pem;  // HCLAkPub, PEM "PUBLIC KEY"
  // snp.* (SnpVerifier's, with tee "azure-snp-vtpm") or tdx.* (unauthenticated TDREPORT
  // fields, tee "azure-tdx-vtpm"), azure.*, azure.hardware_verified; `measurement` is the
  // hardware measurement (SNP MEASUREMENT / TDX MRTD: the paravisor, not the guest OS).
  Claims claims;
};

class HclReportVerifier {
 public:
  // kInvalidArgument if config.platform is kSnp and the SNP configuration is refused by
  // SnpVerifier::Create (no ARK, unparsable certificates), or kTdx with a `tdx` configuration
  // DcapVerifier::Create refuses.
  static Result<std::unique_ptr<HclReportVerifier>> Create(const AzureConfig& config);

  // Checks, in order: ParseAndBindHclReport (kMalformedEvidence, kVerificationFailed on the
  // binding); the report type matches the configured platform (kVerificationFailed); then
  //  SNP: VMPL == 0 (the paravisor requests the report at VMPL0; a report from a higher VMPL is
  //       the guest's own and could carry any runtime data; kVerificationFailed); if the
  //       collateral carries a VCEK, its hwID must equal CHIP_ID (checked before the signature,
  //       so a VCEK for another chip is named as such); then SnpVerifier::Verify with
  //       expected_binding = H(runtime data) || zeros (chain, signature, TCB, chip id);
  //  TDX: SHA-384(TEE_TCB_INFO) == TEE_TCB_INFO_HASH and SHA-384(TDINFO) == TEE_INFO_HASH
  //       (internal consistency only; kVerificationFailed). Without `td_quote` the result has
  //       hardware_verified = false and says why. With it: config.tdx is required
  //       (kInvalidArgument); DcapVerifier::Verify(td_quote, collateral, expected_binding =
  //       the TDREPORT's REPORTDATA, now), then CheckTdQuoteMatchesTdReport (td_binding.h);
  //       the claims are then the DCAP verifier's (tdx.*, platform.id = FMSPC, tcb.status).
  // `collateral` is SNP collateral (attestation/snp/collateral.h) or DCAP collateral
  // (attestation/dcap/README.md) for the TD quote.
  Result<HclVerification> Verify(ByteSpan hcl, ByteSpan collateral,
                                 std::chrono::system_clock::time_point now,
                                 ByteSpan td_quote = {}) const;

 private:
  HclReportVerifier(AzurePlatform platform, std::unique_ptr<Verifier> snp,
                    std::unique_ptr<Verifier> dcap)
      : platform_(platform), snp_(std::move(snp)), dcap_(std::move(dcap)) {}
  AzurePlatform platform_;
  std::unique_ptr<Verifier> snp_;   // null for TDX
  std::unique_ptr<Verifier> dcap_;  // TDX with config.tdx only
};

// For tools (`sigil attest verify --tee azure-snp-vtpm --evidence HCL_REPORT`): the HCL report
// alone. HclReportVerifier::Create(config) then Verify(hcl, collateral, now); the first form
// has no collateral (the VCEK then comes from config.snp.vcek_cache / cert_source).
Result<HclVerification> VerifyHclReport(ByteSpan hcl, const AzureConfig& config,
                                        std::chrono::system_clock::time_point now);
Result<HclVerification> VerifyHclReport(ByteSpan hcl, ByteSpan collateral,
                                        const AzureConfig& config,
                                        std::chrono::system_clock::time_point now);
// TDX with the TD quote made from the HCL report's TDREPORT (Azure: IMDS /acc/tdquote).
Result<HclVerification> VerifyHclReport(ByteSpan hcl, ByteSpan collateral, ByteSpan td_quote,
                                        const AzureConfig& config,
                                        std::chrono::system_clock::time_point now);

}  // namespace sigil::attestation::azure
