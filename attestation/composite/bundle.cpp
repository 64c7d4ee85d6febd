#include "attestation/composite/bundle.h"

#include <string>

#include "core/encoding.h"
#include "core/json.h"

namespace sigil::attestation::composite {
namespace {

constexpr std::string_view kPrefix = R"({"cpu":)";

Unexpected<Error> Malformed(const std::string& what) {
  return Fail(Code::kMalformedEvidence, "composite evidence: " + what);
}

// A non-empty base64url string field (`allow_empty` for collateral).
Result<Bytes> DecodeField(const Json& obj, const char* name, const std::string& where, bool allow_empty) {
  const Json& v = obj[name];
  if (!v.is_string()) return Malformed(where + name + " must be a string");
  auto bytes = Base64UrlDecode(v.get<std::string>());
  if (!bytes) return Malformed(where + name + ": " + bytes.error().message());
  if (bytes->empty() && !allow_empty) return Malformed(where + name + " is empty");
  return bytes;
}

bool HasExactly(const Json& obj, std::initializer_list<const char*> keys) {
  if (!obj.is_object() || obj.size() != keys.size()) return false;
  for (const char* k : keys) {
    if (!obj.contains(k)) return false;
  }
  return true;
}

}  // namespace

bool LooksLikeGpuBundle(ByteSpan evidence) {
  return evidence.size() >= kPrefix.size() &&
         std::string_view(reinterpret_cast<const char*>(evidence.data()), kPrefix.size()) == kPrefix;
}

Result<GpuBundle> ParseGpuBundle(ByteSpan evidence) {
  if (evidence.size() > kMaxBundleSize) return Malformed("larger than " + std::to_string(kMaxBundleSize) + " bytes");
  const std::string_view text(reinterpret_cast<const char*>(evidence.data()), evidence.size());
  auto j = ParseJson(text, "composite evidence");
  if (!j) return Fail(Code::kMalformedEvidence, j.error().message());
  if (!HasExactly(*j, {"cpu", "format", "gpus"})) return Malformed("expected exactly the fields cpu, format, gpus");
  if (!(*j)["format"].is_string() || (*j)["format"].get<std::string>() != kGpuBundleFormat) {
    return Malformed("format is not " + std::string(kGpuBundleFormat));
  }
  GpuBundle out;
  SIGIL_ASSIGN_OR_RETURN(out.cpu, DecodeField(*j, "cpu", "", false));
  const Json& gpus = (*j)["gpus"];
  if (!gpus.is_array()) return Malformed("gpus must be an array");
  // A bundle without GPUs would be CPU evidence with extra steps; plain CPU evidence says that.
  if (gpus.empty() || gpus.size() > kMaxGpus) {
    return Malformed("gpus must have 1.." + std::to_string(kMaxGpus) + " entries, has " + std::to_string(gpus.size()));
  }
  for (std::size_t i = 0; i < gpus.size(); ++i) {
    const std::string where = "gpus[" + std::to_string(i) + "].";
    if (!HasExactly(gpus[i], {"collateral", "report"})) {
      return Malformed("gpus[" + std::to_string(i) + "]: expected exactly the fields collateral, report");
    }
    GpuEntry e;
    SIGIL_ASSIGN_OR_RETURN(e.report, DecodeField(gpus[i], "report", where, false));
    SIGIL_ASSIGN_OR_RETURN(e.collateral, DecodeField(gpus[i], "collateral", where, true));
    out.gpus.push_back(std::move(e));
  }
  // One encoding per bundle: duplicate keys (which the JSON reader collapses), whitespace and
  // other orders are refused rather than normalised.
  if (CanonicalJson(*j) != text) return Malformed("not in canonical JSON form");
  return out;
}

Bytes SerializeGpuBundle(const GpuBundle& bundle) {
  Json gpus = Json::array();
  for (const GpuEntry& e : bundle.gpus) {
    gpus.push_back(Json{{"collateral", Base64UrlEncode(e.collateral)}, {"report", Base64UrlEncode(e.report)}});
  }
  Json j = {{"cpu", Base64UrlEncode(bundle.cpu)}, {"format", std::string(kGpuBundleFormat)}, {"gpus", std::move(gpus)}};
  return ToBytes(CanonicalJson(j));
}

}  // namespace sigil::attestation::composite
