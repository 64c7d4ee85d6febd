// AzureVtpmVerifier: an Azure confidential VM (paravisor vTPM) as one TEE, tee
// "azure-snp-vtpm" or "azure-tdx-vtpm". The chain it checks (MANIFEST azure-cvm):
//   vendor-signed hardware report -> REPORT_DATA = H(runtime data) -> HCLAkPub (runtime data)
//   -> TPM2_Quote signed by HCLAkPub -> PCRs + extraData == the broker's binding
// Evidence: "sigil-azure-vtpm/v1" (evidence.h); collateral: SEV-SNP collateral
// (attestation/snp/collateral.h) for azure-snp-vtpm.
// Thread-safety: Create() is a factory; Verify() is const and safe to call concurrently.
#pragma once

#include <memory>
#include <string_view>

#include "attestation/azure/hcl_verify.h"
#include "attestation/verifier.h"
#include "core/result.h"

namespace sigil::attestation::azure {

class AzureVtpmVerifier final : public Verifier {
 public:
  // kInvalidArgument as HclReportVerifier::Create.
  static Result<std::unique_ptr<Verifier>> Create(AzureConfig config);

  std::string_view tee() const override { return AzureTeeName(platform_); }

  // Checks, in order:
  //  1. expected_binding is empty or 64 bytes (kInvalidArgument); evidence parses and has a
  //     "quote" (kMalformedEvidence);
  //  2. ParseAndBindHclReport: HCL report, hardware report parse, REPORT_DATA = H(runtime data),
  //     runtime data, HCLAkPub (kMalformedEvidence / kVerificationFailed);
  //  3. the quote (VerifyVtpmQuote) with HCLAkPub as the only AK: signature, PCRs,
  //     extraData == expected_binding[0..32) (kVerificationFailed); then, if the quote carries a
  //     purpose_log, its replay against the quoted purpose PCR exactly as for tee "tpm"
  //     (tpm::VerifyPurposeLog: PCR 8-15 and in the quote's selection, every event canonical,
  //     replay == the quoted value; kVerificationFailed / kMalformedEvidence). Without one the
  //     evidence verifies with no workload.* claim, and the broker releases it no model-weights
  //     key (broker/api/release_purpose.h);
  //  4. the hardware layer (HclReportVerifier::Verify with input.collateral and the evidence's
  //     td_quote): SNP must verify (VMPL 0, VCEK for this chip, chain, signature, TCB); TDX
  //     needs a DCAP-verified TD quote whose body equals the TDREPORT (config.tdx); without
  //     one it is refused, since a TDREPORT alone cannot be authenticated.
  //  Steps 3 and 4 both run; a refusal names every layer that failed ("<quote error>;
  //  <hardware error>") with the code of the first.
  // An EMPTY expected_binding skips only the extraData comparison (offline tools); the broker
  // always passes its 64-byte binding.
  // Claims: the hardware layer's snp.* / tdx.*, platform.id and tcb.status; debug from the
  // hardware (SNP policy DEBUG, TD ATTRIBUTES.DEBUG); azure.*; the quote's tpm.* (and, with a
  // verified purpose log, workload.mode/engine/sandbox of its last event and tpm.purpose.pcr /
  // tpm.purpose.events, as tee "tpm"); tee = this verifier's name; measurement = the quote's
  // (hex SHA-384 over the selected PCRs: the guest OS boot chain, which the paravisor measures
  // into the vTPM; without the purpose PCR when a purpose log verified, so it stays one value
  // across loads); azure.hcl.measurement = the hardware measurement (the paravisor image).
  Result<Claims> Verify(const VerifyInput& input) const override;

 private:
  AzureVtpmVerifier(AzurePlatform platform, std::unique_ptr<HclReportVerifier> hcl)
      : platform_(platform), hcl_(std::move(hcl)) {}
  AzurePlatform platform_;
  std::unique_ptr<HclReportVerifier> hcl_;
};

}  // namespace sigil::attestation::azure
