#include "attestation/tpm/evidence.h"

#include <string>
#include <string_view>

#include "attestation/tpm/pcr_file.h"
#include "attestation/tpm/signature.h"
#include "core/encoding.h"
#include "core/json.h"

namespace sigil::attestation::tpm {
namespace {

constexpr std::uint32_t kMaxPcrs = 32;  // TPM2_MAX_PCRS: 4-octet sizeofSelect maximum

std::uint16_t BankFromName(std::string_view name) {
  if (name == "sha1") {
    return kAlgSha1;
  }
  if (name == "sha256") {
    return kAlgSha256;
  }
  if (name == "sha384") {
    return kAlgSha384;
  }
  return 0;
}

Result<std::uint32_t> ParseIndex(const std::string& s) {
  if (s.empty() || s.size() > 2 || (s.size() == 2 && s[0] == '0')) {
    return Fail(Code::kMalformedEvidence, "PCR index '" + s + "' is not canonical decimal");
  }
  std::uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') {
      return Fail(Code::kMalformedEvidence, "PCR index '" + s + "' is not decimal");
    }
    v = v * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (v >= kMaxPcrs) {
    return Fail(Code::kMalformedEvidence, "PCR index " + s + " is out of range");
  }
  return v;
}

Result<Bytes> B64Field(const Json& j, std::string_view key) {
  SIGIL_ASSIGN_OR_RETURN(std::string text, GetString(j, key, "$"));
  auto bytes = Base64UrlDecode(text);
  if (!bytes) {
    return Error(Code::kMalformedEvidence, std::move(bytes).error().message())
        .Wrap("$." + std::string(key));
  }
  return std::move(bytes).value();
}

Result<PcrValues> ParsePcrs(const Json& pcrs) {
  if (!pcrs.is_object()) {
    return Fail(Code::kMalformedEvidence, "$.pcrs is not an object");
  }
  PcrValues out;
  for (const auto& [bank_name, bank] : pcrs.items()) {
    const std::uint16_t alg = BankFromName(bank_name);
    if (alg == 0 || !bank.is_object()) {
      return Fail(Code::kMalformedEvidence, "$.pcrs." + bank_name + " is not a supported bank");
    }
    for (const auto& [index, value] : bank.items()) {
      SIGIL_ASSIGN_OR_RETURN(std::uint32_t n, ParseIndex(index));
      if (!value.is_string()) {
        return Fail(Code::kMalformedEvidence,
                    "$.pcrs." + bank_name + "." + index + " not a string");
      }
      auto v = HexDecode(value.get<std::string>());
      if (!v || v->size() != HashSize(alg)) {
        return Fail(Code::kMalformedEvidence,
                    "$.pcrs." + bank_name + "." + index + " is not a hex digest of the bank size");
      }
      out[alg][n] = std::move(v).value();
    }
  }
  return out;
}

}  // namespace

Json PurposeLogToJson(const PurposeLog& log) {
  Json events = Json::array();
  for (const std::string& e : log.events) events.push_back(e);
  return Json{{"events", std::move(events)}, {"pcr", log.pcr}, {"start", HexEncode(log.start)}};
}

Result<PurposeLog> PurposeLogFromJson(const Json& j) {
  auto bad = [](const std::string& what) { return Fail(Code::kMalformedEvidence, "$.purpose_log" + what); };
  if (!j.is_object()) return bad(" is not an object");
  for (const auto& [key, unused] : j.items()) {
    if (key != "pcr" && key != "start" && key != "events") return bad("." + key + ": unknown key");
  }
  if (!j.contains("pcr") || !j["pcr"].is_number_unsigned() || j["pcr"].get<std::uint64_t>() >= kMaxPcrs) {
    return bad(".pcr: expected an integer 0..31");
  }
  PurposeLog log;
  log.pcr = static_cast<std::uint32_t>(j["pcr"].get<std::uint64_t>());
  if (!j.contains("start") || !j["start"].is_string()) return bad(".start: expected 64 hex digits");
  auto start = HexDecode(j["start"].get<std::string>());
  if (!start || start->size() != 32) return bad(".start: expected 64 hex digits");
  log.start = std::move(*start);
  if (!j.contains("events") || !j["events"].is_array()) return bad(".events: expected an array");
  if (j["events"].size() > kMaxPurposeEvents) {
    return bad(".events: more than " + std::to_string(kMaxPurposeEvents) + " events");
  }
  for (const Json& e : j["events"]) {
    if (!e.is_string()) return bad(".events: every event must be a string");
    log.events.push_back(e.get<std::string>());
  }
  return log;
}

Result<Evidence> ParseEvidence(ByteSpan json) {
  auto parsed = ParseJson(ToString(json), "tpm evidence");
  if (!parsed) {
    return Error(Code::kMalformedEvidence, std::move(parsed).error().message());
  }
  const Json& j = *parsed;
  if (!j.is_object()) {
    return Fail(Code::kMalformedEvidence, "tpm evidence is not a JSON object");
  }
  for (const auto& [key, unused] : j.items()) {
    if (key != "format" && key != "attest" && key != "signature" && key != "pcrs" && key != "ak" &&
        key != "purpose_log") {
      return Fail(Code::kMalformedEvidence, "unknown key $." + key);
    }
  }
  auto format = GetString(j, "format", "$");
  if (!format || *format != kEvidenceFormat) {
    return Fail(Code::kMalformedEvidence, "$.format is not sigil-tpm-quote/v1");
  }
  Evidence e;
  SIGIL_ASSIGN_OR_RETURN(e.attest, B64Field(j, "attest"));
  SIGIL_ASSIGN_OR_RETURN(e.signature, B64Field(j, "signature"));
  if (!j.contains("pcrs")) {
    return Fail(Code::kMalformedEvidence, "$.pcrs is missing");
  }
  SIGIL_ASSIGN_OR_RETURN(e.pcrs, ParsePcrs(j["pcrs"]));
  if (j.contains("ak")) {
    SIGIL_ASSIGN_OR_RETURN(e.ak, B64Field(j, "ak"));
  }
  if (j.contains("purpose_log")) {
    SIGIL_ASSIGN_OR_RETURN(e.purpose_log, PurposeLogFromJson(j["purpose_log"]));
  }
  return e;
}

Bytes SerializeEvidence(const Evidence& e) {
  Json j = Json::object();
  j["format"] = kEvidenceFormat;
  j["attest"] = Base64UrlEncode(e.attest);
  j["signature"] = Base64UrlEncode(e.signature);
  Json pcrs = Json::object();
  for (const auto& [alg, bank] : e.pcrs) {
    Json b = Json::object();
    for (const auto& [n, v] : bank) {
      b[std::to_string(n)] = HexEncode(v);
    }
    pcrs[HashName(alg)] = std::move(b);
  }
  j["pcrs"] = std::move(pcrs);
  if (e.ak) {
    j["ak"] = Base64UrlEncode(*e.ak);
  }
  if (e.purpose_log) {
    j["purpose_log"] = PurposeLogToJson(*e.purpose_log);
  }
  return ToBytes(CanonicalJson(j));
}

Result<Bytes> EvidenceFromTpm2Tools(ByteSpan message, ByteSpan signature, ByteSpan pcrs_file,
                                    ByteSpan ak_spki) {
  SIGIL_ASSIGN_OR_RETURN(Quote quote, ParseQuote(message));
  Evidence e;
  e.attest.assign(message.begin(), message.end());
  e.signature.assign(signature.begin(), signature.end());
  SIGIL_ASSIGN_OR_RETURN(e.pcrs, ReadTpm2ToolsPcrFile(quote, pcrs_file));
  if (!ak_spki.empty()) {
    SIGIL_ASSIGN_OR_RETURN(EvpPkeyPtr key, LoadAk(ak_spki, Code::kInvalidArgument));
    SIGIL_ASSIGN_OR_RETURN(e.ak, AkDer(*key));
  }
  return SerializeEvidence(e);
}

}  // namespace sigil::attestation::tpm
