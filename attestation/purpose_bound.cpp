#include "attestation/purpose_bound.h"

#include <string>

#include "core/encoding.h"
#include "core/json.h"

namespace sigil::attestation {
namespace {

constexpr std::size_t kMaxEnvelopeSize = 256 * 1024;  // a TDX quote with certificates fits

Unexpected<Error> Malformed(const std::string& what) {
  return Fail(Code::kMalformedEvidence, "purpose-bound evidence: " + what);
}

}  // namespace

Sha512Digest PurposeBinding(ByteSpan binding, const WorkloadPurpose& p) {
  Sha256Digest event = PurposeEventDigest(p);
  return Sha512(Concat({AsBytes("sigil/v1/purpose-binding"), binding, event}));
}

Bytes WrapPurposeBound(ByteSpan report, const WorkloadPurpose& p) {
  Json j = {{"event", PurposeEvent(p)}, {"format", std::string(kPurposeBoundFormat)}, {"report", Base64UrlEncode(report)}};
  return ToBytes(CanonicalJson(j));
}

Result<Claims> PurposeBoundVerifier::Verify(const VerifyInput& input) const {
  if (input.evidence.empty() || input.evidence[0] != '{') return inner_->Verify(input);
  if (input.evidence.size() > kMaxEnvelopeSize) return Malformed("larger than " + std::to_string(kMaxEnvelopeSize) + " bytes");
  const std::string_view text(reinterpret_cast<const char*>(input.evidence.data()), input.evidence.size());
  auto j = ParseJson(text, "purpose-bound evidence");
  if (!j) return Fail(Code::kMalformedEvidence, j.error().message());
  if (!j->is_object() || j->size() != 3 || !j->contains("event") || !j->contains("format") || !j->contains("report") ||
      !(*j)["event"].is_string() || !(*j)["format"].is_string() || !(*j)["report"].is_string()) {
    return Malformed("expected exactly the string fields event, format, report");
  }
  if ((*j)["format"].get<std::string>() != kPurposeBoundFormat) {
    return Malformed("format is not " + std::string(kPurposeBoundFormat));
  }
  if (CanonicalJson(*j) != text) return Malformed("not in canonical JSON form");
  SIGIL_ASSIGN_OR_RETURN(WorkloadPurpose purpose, ParsePurposeEvent((*j)["event"].get<std::string>()));
  auto report = Base64UrlDecode((*j)["report"].get<std::string>());
  if (!report) return Malformed("report: " + report.error().message());
  if (input.expected_binding.size() != 64) {
    return Fail(Code::kInvalidArgument, "purpose-bound evidence needs the 64-byte expected binding");
  }
  Sha512Digest bound = PurposeBinding(input.expected_binding, purpose);
  VerifyInput inner = input;
  inner.evidence = *report;
  inner.expected_binding = bound;
  SIGIL_ASSIGN_OR_RETURN(Claims claims, inner_->Verify(inner));
  SetPurposeClaims(claims, purpose);
  claims.Set("purpose.bound", std::string("report-data"));
  return claims;
}

}  // namespace sigil::attestation
