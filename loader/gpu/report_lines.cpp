#include "loader/gpu/report_lines.h"

#include <string>

#include "attestation/nvidia/report.h"
#include "core/encoding.h"
#include "core/json.h"

namespace sigil::loader::gpu {
namespace {

using attestation::composite::GpuEntry;
using attestation::composite::kMaxGpus;

bool IsBlankLine(std::string_view line) { return line.find_first_not_of(" \t\r") == std::string_view::npos; }

Result<GpuEntry> ParseLine(std::string_view line, const std::string& where) {
  auto j = ParseJson(line, where);
  if (!j) return Fail(Code::kMalformedEvidence, j.error().message());
  if (!j->is_object() || j->size() != 2 || !j->contains("report") || !j->contains("cert_chain")) {
    return Fail(Code::kMalformedEvidence,
                where + ": expected a JSON object with exactly the fields report, cert_chain");
  }
  if (!(*j)["report"].is_string() || !(*j)["cert_chain"].is_string()) {
    return Fail(Code::kMalformedEvidence, where + ": report and cert_chain must be strings");
  }
  auto report = HexDecode((*j)["report"].get<std::string>());
  if (!report) return Fail(Code::kMalformedEvidence, where + ": report is not hex: " + report.error().message());
  if (auto parsed = attestation::nvidia::ParseReport(*report); !parsed) {
    return Fail(Code::kMalformedEvidence, where + ": report: " + parsed.error().message());
  }
  std::string chain = (*j)["cert_chain"].get<std::string>();
  if (chain.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    return Fail(Code::kMalformedEvidence, where + ": cert_chain holds no PEM certificate");
  }
  return GpuEntry{std::move(*report), ToBytes(chain)};
}

}  // namespace

Result<std::vector<GpuEntry>> ParseGpuReportLines(std::string_view text, std::string_view source) {
  std::vector<GpuEntry> out;
  std::size_t line_no = 0;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (IsBlankLine(line)) continue;
    if (out.size() == kMaxGpus) {
      return Fail(Code::kMalformedEvidence,
                  std::string(source) + ": more than " + std::to_string(kMaxGpus) + " GPU reports");
    }
    SIGIL_ASSIGN_OR_RETURN(GpuEntry e, ParseLine(line, std::string(source) + " line " + std::to_string(line_no)));
    out.push_back(std::move(e));
  }
  if (out.empty()) return Fail(Code::kMalformedEvidence, std::string(source) + ": no GPU report line");
  return out;
}

}  // namespace sigil::loader::gpu
