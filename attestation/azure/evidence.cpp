#include "attestation/azure/evidence.h"

#include <string>
#include <string_view>

#include "core/encoding.h"
#include "core/json.h"

namespace sigil::attestation::azure {
namespace {

std::string_view AsText(ByteSpan b) {
  return std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
}

Unexpected<Error> Bad(std::string_view what) {
  return Fail(Code::kMalformedEvidence, "azure evidence: " + std::string(what));
}

}  // namespace

Result<AzureEvidence> ParseAzureEvidence(ByteSpan json) {
  auto parsed = ParseJson(AsText(json), "azure evidence");
  if (!parsed) {  // ParseJson reports kInvalidArgument; here the text is evidence
    return Error(Code::kMalformedEvidence, parsed.error().message());
  }
  const Json root = std::move(parsed).value();
  if (!root.is_object()) {
    return Bad("$ is not a JSON object");
  }
  for (const auto& [key, value] : root.items()) {
    if (key != "format" && key != "hcl_report" && key != "quote" && key != "td_quote") {
      return Bad("unknown member $." + key);
    }
  }
  const auto format = root.find("format");
  if (format == root.end() || !format->is_string() ||
      format->get_ref<const std::string&>() != kAzureEvidenceFormat) {
    return Bad("$.format is not \"" + std::string(kAzureEvidenceFormat) + "\"");
  }
  const auto hcl = root.find("hcl_report");
  if (hcl == root.end() || !hcl->is_string()) {
    return Bad("$.hcl_report is missing or not a string");
  }
  auto bytes = Base64UrlDecode(hcl->get_ref<const std::string&>());
  if (!bytes) {
    return Bad("$.hcl_report: " + bytes.error().message());
  }
  if (bytes->empty()) {
    return Bad("$.hcl_report is empty");
  }
  AzureEvidence out;
  out.hcl_report = std::move(bytes).value();
  if (const auto quote = root.find("quote"); quote != root.end()) {
    if (!quote->is_object()) {
      return Bad("$.quote is not an object (sigil-tpm-quote/v1)");
    }
    out.quote = ToBytes(CanonicalJson(*quote));
  }
  if (const auto td = root.find("td_quote"); td != root.end()) {
    if (!td->is_string()) {
      return Bad("$.td_quote is not a string");
    }
    auto td_bytes = Base64UrlDecode(td->get_ref<const std::string&>());
    if (!td_bytes || td_bytes->empty()) {
      return Bad("$.td_quote is empty or not unpadded base64url");
    }
    out.td_quote = std::move(td_bytes).value();
  }
  return out;
}

Result<Bytes> MakeAzureEvidence(ByteSpan hcl_report, ByteSpan tpm_quote_evidence,
                                ByteSpan td_quote) {
  if (hcl_report.empty()) {
    return Fail(Code::kInvalidArgument, "azure evidence: the HCL report is empty");
  }
  Json root = Json::object();
  root["format"] = kAzureEvidenceFormat;
  root["hcl_report"] = Base64UrlEncode(hcl_report);
  if (!tpm_quote_evidence.empty()) {
    auto quote = ParseJson(AsText(tpm_quote_evidence), "TPM quote evidence");
    if (!quote || !quote->is_object()) {
      return Fail(Code::kInvalidArgument,
                  "azure evidence: the TPM quote evidence is not a JSON object");
    }
    root["quote"] = std::move(quote).value();
  }
  if (!td_quote.empty()) {
    root["td_quote"] = Base64UrlEncode(td_quote);
  }
  return ToBytes(CanonicalJson(root));
}

}  // namespace sigil::attestation::azure
