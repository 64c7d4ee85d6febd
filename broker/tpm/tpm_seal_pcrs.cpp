#include "broker/tpm/tpm_seal_pcrs.h"

#include <algorithm>
#include <charconv>

namespace sigil::broker {
namespace {

constexpr std::uint32_t kMaxPcr = 23;
constexpr std::size_t kSelectBytes = 3;

Result<std::uint16_t> BankAlg(std::string_view name) {
  using namespace attestation::tpm;
  for (std::uint16_t alg : {kAlgSha1, kAlgSha256, kAlgSha384}) {
    if (name == HashName(alg)) return alg;
  }
  return Fail(Code::kInvalidArgument, "PCR selection: unknown bank '" + std::string(name) +
                                          "' (expected sha1, sha256 or sha384)");
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (std::size_t pos = 0;;) {
    std::size_t next = s.find(sep, pos);
    out.push_back(s.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos));
    if (next == std::string_view::npos) return out;
    pos = next + 1;
  }
}

}  // namespace

Result<PcrSelection> ParsePcrSelection(std::string_view text) {
  PcrSelection out;
  if (text.empty()) return Fail(Code::kInvalidArgument, "PCR selection is empty (expected e.g. sha256:0,7)");
  for (std::string_view bank : Split(text, '+')) {
    auto colon = bank.find(':');
    if (colon == std::string_view::npos) {
      return Fail(Code::kInvalidArgument, "PCR selection '" + std::string(bank) + "': expected BANK:N[,N...]");
    }
    SIGIL_ASSIGN_OR_RETURN(std::uint16_t alg, BankAlg(bank.substr(0, colon)));
    for (const auto& b : out) {
      if (b.hash_alg == alg) return Fail(Code::kInvalidArgument, "PCR selection names a bank twice");
    }
    attestation::tpm::PcrBankSelection sel{alg, {}};
    for (std::string_view n : Split(bank.substr(colon + 1), ',')) {
      std::uint32_t v = 0;
      auto [p, ec] = std::from_chars(n.data(), n.data() + n.size(), v);
      if (n.empty() || ec != std::errc() || p != n.data() + n.size() || v > kMaxPcr) {
        return Fail(Code::kInvalidArgument, "PCR selection: '" + std::string(n) + "' is not a PCR index 0..23");
      }
      if (std::find(sel.pcrs.begin(), sel.pcrs.end(), v) != sel.pcrs.end()) {
        return Fail(Code::kInvalidArgument, "PCR selection: PCR " + std::to_string(v) + " listed twice");
      }
      sel.pcrs.push_back(v);
    }
    std::sort(sel.pcrs.begin(), sel.pcrs.end());
    out.push_back(std::move(sel));
  }
  return out;
}

std::string FormatPcrSelection(const PcrSelection& sel) {
  std::string out;
  for (const auto& b : sel) {
    if (!out.empty()) out += '+';
    out += attestation::tpm::HashName(b.hash_alg);
    out += ':';
    for (std::size_t i = 0; i < b.pcrs.size(); ++i) {
      if (i > 0) out += ',';
      out += std::to_string(b.pcrs[i]);
    }
  }
  return out;
}

TPML_PCR_SELECTION ToTpml(const PcrSelection& sel) {
  TPML_PCR_SELECTION t{};
  t.count = static_cast<UINT32>(sel.size());
  for (std::size_t i = 0; i < sel.size() && i < TPM2_NUM_PCR_BANKS; ++i) {
    t.pcrSelections[i].hash = sel[i].hash_alg;
    t.pcrSelections[i].sizeofSelect = kSelectBytes;
    for (std::uint32_t pcr : sel[i].pcrs) {
      t.pcrSelections[i].pcrSelect[pcr / 8] |= static_cast<BYTE>(1u << (pcr % 8));
    }
  }
  return t;
}

}  // namespace sigil::broker
