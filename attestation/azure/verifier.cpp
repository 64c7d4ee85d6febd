#include "attestation/azure/verifier.h"

#include <optional>
#include <string>

#include "attestation/azure/evidence.h"
#include "attestation/azure/quote_layer.h"

namespace sigil::attestation::azure {
namespace {

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

Result<std::unique_ptr<Verifier>> AzureVtpmVerifier::Create(AzureConfig config) {
  SIGIL_ASSIGN_OR_RETURN(std::unique_ptr<HclReportVerifier> hcl,
                         HclReportVerifier::Create(config));
  return std::unique_ptr<Verifier>(new AzureVtpmVerifier(config.platform, std::move(hcl)));
}

Result<Claims> AzureVtpmVerifier::Verify(const VerifyInput& input) const {
  if (!input.expected_binding.empty() && input.expected_binding.size() != 64) {
    return Fail(Code::kInvalidArgument, std::string(tee()) +
                                            ": expected binding must be empty or 64 bytes");
  }
  SIGIL_ASSIGN_OR_RETURN(AzureEvidence evidence, ParseAzureEvidence(input.evidence));
  if (!evidence.quote) {
    return Fail(Code::kMalformedEvidence,
                std::string(tee()) + ": evidence has no vTPM quote ($.quote); the HCL report "
                                     "alone proves nothing fresh");
  }
  SIGIL_ASSIGN_OR_RETURN(BoundHcl bound, ParseAndBindHclReport(evidence.hcl_report));
  // Both layers are evaluated so that a refusal names every layer that failed (the captures in
  // the shared vectors fail in both; an operator needs to know about each).
  auto quote = VerifyVtpmQuote(bound.ak_spki_der, *evidence.quote, input.expected_binding);
  auto hcl = hcl_->Verify(evidence.hcl_report, input.collateral, input.now, evidence.td_quote);
  std::optional<Error> hardware_error;
  if (!hcl) {
    hardware_error = hcl.error();
  } else if (!hcl->hardware_verified) {
    hardware_error = Error(Code::kVerificationFailed, "hardware layer " + hcl->hardware_status);
  }
  if (!quote || hardware_error) {
    std::string message = std::string(tee()) + ": ";
    if (!quote) {
      message += quote.error().message();
    }
    if (hardware_error) {
      message += std::string(quote ? "" : "; ") + hardware_error->message();
    }
    return Fail(quote ? hardware_error->code() : quote.error().code(), std::move(message));
  }
  Claims claims = std::move(hcl->claims);
  if (const auto m = claims.GetString("measurement")) {
    claims.Set("azure.hcl.measurement", *m);
  }
  // workload.* exists only if the quote layer replayed a purpose log against the quoted PCR
  // (tpm::VerifyPurposeLog); it is what the broker's key-class rule reads.
  for (const auto& [name, value] : quote->values()) {
    if (StartsWith(name, "tpm.") || StartsWith(name, "workload.") || name == "measurement") {
      claims.Set(name, value);
    }
  }
  claims.Set("tee", std::string(tee()));
  return claims;
}

}  // namespace sigil::attestation::azure
