#include "attestation/dev/evidence.h"

#include <initializer_list>
#include <limits>

#include "core/encoding.h"
#include "core/json.h"

namespace sigil::attestation::dev {
namespace {

Unexpected<Error> Malformed(std::string_view field, const std::string& problem) {
  return Fail(Code::kMalformedEvidence, "dev evidence: " + std::string(field) + ": " + problem);
}

Result<Json> ParseObject(ByteSpan bytes, std::string_view what) {
  auto j = ParseJson(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), what);
  if (!j) return Fail(Code::kMalformedEvidence, "dev evidence: " + j.error().message());
  if (!j->is_object()) return Malformed(what, "expected a JSON object");
  return std::move(j).value();
}

// Every field must be present, and nothing else: an unknown field may be a claim this version
// would silently ignore.
Result<void> ExactFields(const Json& j, std::initializer_list<std::string_view> fields,
                         std::string_view where, std::string_view optional = {}) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool known = !optional.empty() && it.key() == optional;
    for (std::string_view f : fields) known = known || it.key() == f;
    if (!known) return Malformed(std::string(where) + "." + it.key(), "unknown field");
  }
  for (std::string_view f : fields) {
    if (!j.contains(f)) return Malformed(std::string(where) + "." + std::string(f), "missing");
  }
  return Ok();
}

Result<std::string> StringField(const Json& j, std::string_view key, std::string_view where) {
  const Json& v = j.at(std::string(key));  // presence checked by ExactFields
  if (!v.is_string()) return Malformed(std::string(where) + "." + std::string(key), "expected a string");
  return v.get<std::string>();
}

Result<bool> BoolField(const Json& j, std::string_view key, std::string_view where) {
  const Json& v = j.at(std::string(key));
  if (!v.is_boolean()) return Malformed(std::string(where) + "." + std::string(key), "expected true or false");
  return v.get<bool>();
}

// Lower-case hex of exactly `size` bytes: one spelling per value, because the signed bytes are
// what a policy or audit record compares.
Result<Bytes> HexField(const Json& j, std::string_view key, std::size_t size, std::string_view where) {
  std::string field = std::string(where) + "." + std::string(key);
  SIGIL_ASSIGN_OR_RETURN(std::string text, StringField(j, key, where));
  if (text.size() != 2 * size) {
    return Malformed(field, "expected " + std::to_string(2 * size) + " lowercase hex digits (" +
                                std::to_string(size) + " bytes), got " + std::to_string(text.size()));
  }
  auto bytes = HexDecode(text);
  if (!bytes || HexEncode(*bytes) != text) return Malformed(field, "expected lowercase hex digits");
  return std::move(bytes).value();
}

Result<Bytes> Base64Field(const Json& j, std::string_view key) {
  std::string field = "evidence." + std::string(key);
  SIGIL_ASSIGN_OR_RETURN(std::string text, StringField(j, key, "evidence"));
  auto bytes = Base64UrlDecode(text);
  if (!bytes) return Malformed(field, bytes.error().message());
  return std::move(bytes).value();
}

}  // namespace

Result<std::string> SerializePayload(const DevPayload& p) {
  if (p.binding.size() != 64) return Fail(Code::kInvalidArgument, "dev evidence: binding must be 64 bytes");
  auto m = HexDecode(p.measurement);
  if (!m || m->size() != kMeasurementSize || HexEncode(*m) != p.measurement) {
    return Fail(Code::kInvalidArgument, "dev evidence: measurement must be 96 lowercase hex digits");
  }
  if (p.issued_at < 0) return Fail(Code::kInvalidArgument, "dev evidence: issued_at must be >= 0");
  Json j = {{"binding", HexEncode(p.binding)},   {"debug", p.debug},
            {"insecure", true},                  {"issued_at", p.issued_at},
            {"measurement", p.measurement},      {"platform", std::string(kPlatformName)}};
  if (p.workload) {
    if (auto v = ValidatePurpose(*p.workload); !v) return Fail(Code::kInvalidArgument, "dev evidence: " + v.error().message());
    if (p.workload->engine != p.measurement) {
      return Fail(Code::kInvalidArgument, "dev evidence: workload.engine must equal measurement");
    }
    j["workload"] = {{"engine", p.workload->engine}, {"mode", p.workload->mode}, {"sandbox", p.workload->sandbox}};
  }
  return CanonicalJson(j);
}

Bytes SigningInput(ByteSpan payload) { return Concat({AsBytes(kSignatureContext), payload}); }

Bytes SerializeEnvelope(const DevEnvelope& e) {
  Json j = {{"format", std::string(kEvidenceFormat)},
            {"payload", Base64UrlEncode(e.payload)},
            {"signature", Base64UrlEncode(e.signature)}};
  return ToBytes(CanonicalJson(j));
}

Result<DevEnvelope> ParseEnvelope(ByteSpan evidence) {
  if (evidence.size() > kMaxEvidenceSize) {
    return Malformed("evidence", std::to_string(evidence.size()) + " bytes exceeds the limit of " +
                                     std::to_string(kMaxEvidenceSize));
  }
  SIGIL_ASSIGN_OR_RETURN(Json j, ParseObject(evidence, "evidence"));
  SIGIL_RETURN_IF_ERROR(ExactFields(j, {"format", "payload", "signature"}, "evidence"));
  SIGIL_ASSIGN_OR_RETURN(std::string format, StringField(j, "format", "evidence"));
  if (format != kEvidenceFormat) {
    return Malformed("evidence.format", "expected '" + std::string(kEvidenceFormat) + "', got '" + format + "'");
  }
  DevEnvelope e;
  SIGIL_ASSIGN_OR_RETURN(e.payload, Base64Field(j, "payload"));
  SIGIL_ASSIGN_OR_RETURN(e.signature, Base64Field(j, "signature"));
  if (e.signature.size() != 64) {
    return Malformed("evidence.signature", "expected 64 bytes, got " + std::to_string(e.signature.size()));
  }
  return e;
}

Result<DevPayload> ParsePayload(ByteSpan payload) {
  constexpr std::string_view kWhere = "payload";
  SIGIL_ASSIGN_OR_RETURN(Json j, ParseObject(payload, kWhere));
  SIGIL_RETURN_IF_ERROR(ExactFields(
      j, {"binding", "debug", "insecure", "issued_at", "measurement", "platform"}, kWhere, "workload"));
  DevPayload p;
  SIGIL_ASSIGN_OR_RETURN(p.binding, HexField(j, "binding", 64, kWhere));
  SIGIL_ASSIGN_OR_RETURN(p.debug, BoolField(j, "debug", kWhere));
  SIGIL_ASSIGN_OR_RETURN(Bytes measurement, HexField(j, "measurement", kMeasurementSize, kWhere));
  p.measurement = HexEncode(measurement);
  SIGIL_ASSIGN_OR_RETURN(bool insecure, BoolField(j, "insecure", kWhere));
  if (!insecure) return Malformed("payload.insecure", "must be true: dev evidence is never secure");
  SIGIL_ASSIGN_OR_RETURN(std::string platform, StringField(j, "platform", kWhere));
  if (platform != kPlatformName) {
    return Malformed("payload.platform", "expected '" + std::string(kPlatformName) + "', got '" + platform + "'");
  }
  // nlohmann stores non-negative literals as unsigned and negative ones as signed; floats and
  // values beyond int64 are refused rather than rounded or wrapped.
  const Json& t = j.at("issued_at");
  if (!t.is_number_unsigned() ||
      t.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return Malformed("payload.issued_at", "expected a non-negative integer (Unix seconds)");
  }
  p.issued_at = static_cast<std::int64_t>(t.get<std::uint64_t>());
  if (j.contains("workload")) {
    const Json& w = j.at("workload");
    if (!w.is_object()) return Malformed("payload.workload", "expected a JSON object");
    SIGIL_RETURN_IF_ERROR(ExactFields(w, {"engine", "mode", "sandbox"}, "payload.workload"));
    WorkloadPurpose wp;
    SIGIL_ASSIGN_OR_RETURN(wp.engine, StringField(w, "engine", "payload.workload"));
    SIGIL_ASSIGN_OR_RETURN(wp.mode, StringField(w, "mode", "payload.workload"));
    SIGIL_ASSIGN_OR_RETURN(wp.sandbox, StringField(w, "sandbox", "payload.workload"));
    if (auto v = ValidatePurpose(wp); !v) return Malformed("payload.workload", v.error().message());
    // The dev TEE's measurement is the engine's (enclave/measurement.h): two values would be two
    // contradicting statements in one signed payload.
    if (wp.engine != p.measurement) return Malformed("payload.workload.engine", "must equal payload.measurement");
    p.workload = std::move(wp);
  }
  if (CanonicalJson(j) != std::string_view(reinterpret_cast<const char*>(payload.data()), payload.size())) {
    return Malformed("payload", "not in canonical JSON form (sorted keys, no whitespace, no duplicates)");
  }
  return p;
}

}  // namespace sigil::attestation::dev
