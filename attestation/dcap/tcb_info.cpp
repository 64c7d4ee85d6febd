// JSON decoding of TCB Info and QE Identity (Intel PCS API v4: "TCB Info V3" (V2 accepted for
// SGX), "Enclave Identity V2"). Only called on bodies whose signature has been verified.
#include <cstdio>
#include <ctime>

#include "attestation/dcap/collateral.h"
#include "core/encoding.h"
#include "core/json.h"

namespace sigil::attestation::dcap {
namespace {

Error Bad(std::string_view doc, const std::string& what) {
  return Error(Code::kMalformedEvidence, std::string(doc) + ": " + what);
}

Result<Json> ParseDoc(std::string_view body, std::string_view doc) {
  auto j = ParseJson(body, doc);
  if (!j) return Error(Code::kMalformedEvidence, j.error().message());
  return std::move(j).value();
}

Result<TimePoint> ParseTime(const std::string& s, std::string_view doc) {
  std::tm tm{};
  char z = 0;
  int n = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &z, &n) != 7 ||
      z != 'Z' || static_cast<std::size_t>(n) != s.size()) {
    return Bad(doc, "bad date \"" + s + "\" (expected YYYY-MM-DDThh:mm:ssZ)");
  }
  // timegm would silently normalise out-of-range fields (month 13, day 0, ...) into another date.
  if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60 || tm.tm_hour < 0 || tm.tm_min < 0 || tm.tm_sec < 0) {
    return Bad(doc, "bad date \"" + s + "\" (field out of range)");
  }
  // system_clock counts nanoseconds in 64 bits, i.e. only 1677-2262: outside that a time point
  // silently wraps. Same bound as the X.509 times in attestation/verified_cache.h (Asn1ToTime),
  // but refused rather than saturated: Intel's JSON has no "never expires" convention, so such a
  // date is an error, and a refusal names it.
  if (tm.tm_year < 1970 || tm.tm_year >= 2250) {
    return Bad(doc, "date \"" + s + "\" is outside the supported years 1970-2249");
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

Result<std::int64_t> Int(const Json& j, std::string_view key, std::string_view doc,
                         std::int64_t max) {
  auto v = GetInt(j, key, doc);
  if (!v) return Error(Code::kMalformedEvidence, v.error().message());
  if (*v < 0 || *v > max) return Bad(doc, std::string(key) + " out of range");
  return *v;
}

Result<std::string> Str(const Json& j, std::string_view key, std::string_view doc) {
  auto v = GetString(j, key, doc);
  if (!v) return Error(Code::kMalformedEvidence, v.error().message());
  return std::move(v).value();
}

Result<Bytes> Hex(const Json& j, std::string_view key, std::string_view doc, std::size_t size) {
  SIGIL_ASSIGN_OR_RETURN(std::string text, Str(j, key, doc));
  auto b = HexDecode(text);
  if (!b || b->size() != size) {
    return Bad(doc, std::string(key) + " must be " + std::to_string(size) + " bytes of hex");
  }
  return std::move(b).value();
}

template <std::size_t N>
Result<void> HexInto(const Json& j, std::string_view key, std::string_view doc,
                     std::array<std::uint8_t, N>& out) {
  SIGIL_ASSIGN_OR_RETURN(Bytes b, Hex(j, key, doc, N));
  std::copy(b.begin(), b.end(), out.begin());
  return Ok();
}

std::vector<std::string> Advisories(const Json& level) {
  std::vector<std::string> out;
  auto it = level.find("advisoryIDs");
  if (it != level.end() && it->is_array()) {
    for (const auto& a : *it) {
      if (a.is_string()) out.push_back(a.get<std::string>());
    }
  }
  return out;
}

Result<std::vector<IsvSvnLevel>> IsvLevels(const Json& j, std::string_view doc) {
  auto it = j.find("tcbLevels");
  if (it == j.end() || !it->is_array()) return Bad(doc, "tcbLevels missing");
  std::vector<IsvSvnLevel> out;
  for (const auto& level : *it) {
    if (!level.is_object() || !level.contains("tcb") || !level["tcb"].is_object()) {
      return Bad(doc, "tcbLevels entry without tcb");
    }
    IsvSvnLevel l;
    SIGIL_ASSIGN_OR_RETURN(std::int64_t svn, Int(level["tcb"], "isvsvn", doc, 65535));
    l.isv_svn = static_cast<std::uint16_t>(svn);
    SIGIL_ASSIGN_OR_RETURN(l.status, Str(level, "tcbStatus", doc));
    l.advisory_ids = Advisories(level);
    out.push_back(std::move(l));
  }
  return out;
}

// 16 SVNs from "<name>" (an array of {"svn": n}, V3) or sgxtcbcompNNsvn members (V2).
Result<std::array<std::uint8_t, 16>> Components(const Json& tcb, const char* name,
                                                std::string_view doc) {
  std::array<std::uint8_t, 16> out{};
  auto it = tcb.find(name);
  if (it != tcb.end()) {
    if (!it->is_array() || it->size() != 16) return Bad(doc, std::string(name) + " must have 16");
    for (std::size_t i = 0; i < 16; ++i) {
      SIGIL_ASSIGN_OR_RETURN(std::int64_t v, Int((*it)[i], "svn", doc, 255));
      out[i] = static_cast<std::uint8_t>(v);
    }
    return out;
  }
  if (std::string_view(name) != "sgxtcbcomponents") return Bad(doc, std::string(name) + " missing");
  for (std::size_t i = 0; i < 16; ++i) {
    char key[32];
    std::snprintf(key, sizeof(key), "sgxtcbcomp%02zusvn", i + 1);
    SIGIL_ASSIGN_OR_RETURN(std::int64_t v, Int(tcb, key, doc, 255));
    out[i] = static_cast<std::uint8_t>(v);
  }
  return out;
}

Result<TdxModuleIdentity> ModuleIdentity(const Json& j, std::string_view doc, bool levels) {
  TdxModuleIdentity m;
  if (levels) {
    SIGIL_ASSIGN_OR_RETURN(m.id, Str(j, "id", doc));
    SIGIL_ASSIGN_OR_RETURN(m.levels, IsvLevels(j, doc));
  }
  SIGIL_ASSIGN_OR_RETURN(m.mr_signer, Hex(j, "mrsigner", doc, 48));
  SIGIL_ASSIGN_OR_RETURN(m.attributes, Hex(j, "attributes", doc, 8));
  SIGIL_ASSIGN_OR_RETURN(m.attributes_mask, Hex(j, "attributesMask", doc, 8));
  return m;
}

Result<void> TdxModules(const Json& j, TcbInfo& info) {
  constexpr std::string_view doc = "TCB info";
  if (auto it = j.find("tdxModule"); it != j.end() && it->is_object()) {
    SIGIL_ASSIGN_OR_RETURN(info.tdx_module, ModuleIdentity(*it, doc, false));
  }
  if (auto it = j.find("tdxModuleIdentities"); it != j.end() && it->is_array()) {
    for (const auto& m : *it) {
      SIGIL_ASSIGN_OR_RETURN(TdxModuleIdentity id, ModuleIdentity(m, doc, true));
      info.tdx_module_identities.push_back(std::move(id));
    }
  }
  return Ok();
}

Result<TcbComponentLevel> PlatformLevel(const Json& level, bool tdx) {
  constexpr std::string_view doc = "TCB info";
  if (!level.is_object() || !level.contains("tcb") || !level["tcb"].is_object()) {
    return Bad(doc, "tcbLevels entry without tcb");
  }
  const Json& tcb = level["tcb"];
  TcbComponentLevel l;
  SIGIL_ASSIGN_OR_RETURN(l.sgx_svn, Components(tcb, "sgxtcbcomponents", doc));
  SIGIL_ASSIGN_OR_RETURN(std::int64_t pce, Int(tcb, "pcesvn", doc, 65535));
  l.pce_svn = static_cast<std::uint16_t>(pce);
  if (tdx) {
    SIGIL_ASSIGN_OR_RETURN(l.tdx_svn, Components(tcb, "tdxtcbcomponents", doc));
  }
  SIGIL_ASSIGN_OR_RETURN(l.status, Str(level, "tcbStatus", doc));
  l.advisory_ids = Advisories(level);
  return l;
}

}  // namespace

Result<TcbInfo> ParseTcbInfo(std::string_view body) {
  constexpr std::string_view doc = "TCB info";
  SIGIL_ASSIGN_OR_RETURN(Json j, ParseDoc(body, doc));
  if (!j.is_object()) return Bad(doc, "not an object");
  TcbInfo info;
  info.id = j.contains("id") && j["id"].is_string() ? j["id"].get<std::string>() : "SGX";
  if (info.id != "SGX" && info.id != "TDX") return Bad(doc, "unknown id \"" + info.id + "\"");
  SIGIL_ASSIGN_OR_RETURN(std::int64_t version, Int(j, "version", doc, 3));
  info.version = static_cast<int>(version);
  SIGIL_ASSIGN_OR_RETURN(std::string issue, Str(j, "issueDate", doc));
  SIGIL_ASSIGN_OR_RETURN(info.issue_date, ParseTime(issue, doc));
  SIGIL_ASSIGN_OR_RETURN(std::string next, Str(j, "nextUpdate", doc));
  SIGIL_ASSIGN_OR_RETURN(info.next_update, ParseTime(next, doc));
  SIGIL_RETURN_IF_ERROR(HexInto(j, "fmspc", doc, info.fmspc));
  SIGIL_RETURN_IF_ERROR(HexInto(j, "pceId", doc, info.pce_id));
  const bool tdx = info.id == "TDX";
  if (tdx) SIGIL_RETURN_IF_ERROR(TdxModules(j, info));
  auto it = j.find("tcbLevels");
  if (it == j.end() || !it->is_array()) return Bad(doc, "tcbLevels missing");
  for (const auto& level : *it) {
    SIGIL_ASSIGN_OR_RETURN(TcbComponentLevel l, PlatformLevel(level, tdx));
    info.levels.push_back(std::move(l));
  }
  return info;
}

Result<QeIdentity> ParseQeIdentity(std::string_view body) {
  constexpr std::string_view doc = "QE identity";
  SIGIL_ASSIGN_OR_RETURN(Json j, ParseDoc(body, doc));
  if (!j.is_object()) return Bad(doc, "not an object");
  QeIdentity qe;
  SIGIL_ASSIGN_OR_RETURN(qe.id, Str(j, "id", doc));
  SIGIL_ASSIGN_OR_RETURN(std::string issue, Str(j, "issueDate", doc));
  SIGIL_ASSIGN_OR_RETURN(qe.issue_date, ParseTime(issue, doc));
  SIGIL_ASSIGN_OR_RETURN(std::string next, Str(j, "nextUpdate", doc));
  SIGIL_ASSIGN_OR_RETURN(qe.next_update, ParseTime(next, doc));
  std::array<std::uint8_t, 4> misc{};
  std::array<std::uint8_t, 4> misc_mask{};
  SIGIL_RETURN_IF_ERROR(HexInto(j, "miscselect", doc, misc));
  SIGIL_RETURN_IF_ERROR(HexInto(j, "miscselectMask", doc, misc_mask));
  // The JSON hex is the 32-bit MISCSELECT written as a number (most significant byte first).
  for (std::size_t i = 0; i < 4; ++i) {
    qe.misc_select = (qe.misc_select << 8) | misc[i];
    qe.misc_select_mask = (qe.misc_select_mask << 8) | misc_mask[i];
  }
  SIGIL_RETURN_IF_ERROR(HexInto(j, "attributes", doc, qe.attributes));
  SIGIL_RETURN_IF_ERROR(HexInto(j, "attributesMask", doc, qe.attributes_mask));
  SIGIL_RETURN_IF_ERROR(HexInto(j, "mrsigner", doc, qe.mr_signer));
  SIGIL_ASSIGN_OR_RETURN(std::int64_t prod, Int(j, "isvprodid", doc, 65535));
  qe.isv_prod_id = static_cast<std::uint16_t>(prod);
  SIGIL_ASSIGN_OR_RETURN(qe.levels, IsvLevels(j, doc));
  return qe;
}

}  // namespace sigil::attestation::dcap
