#include "enclave/tpm/pcr_selection.h"

#include <charconv>

namespace sigil::enclave::tpm {
namespace {

namespace att = attestation::tpm;

constexpr std::uint32_t kMaxPcr = 23;
constexpr std::uint8_t kSelectBytes = 3;  // 24 PCRs (PC Client profile)

Result<TPMI_ALG_HASH> BankFromName(std::string_view name) {
  if (name == "sha1") return TPMI_ALG_HASH{TPM2_ALG_SHA1};
  if (name == "sha256") return TPMI_ALG_HASH{TPM2_ALG_SHA256};
  if (name == "sha384") return TPMI_ALG_HASH{TPM2_ALG_SHA384};
  return Fail(Code::kInvalidArgument,
              "PCR selection: unknown bank '" + std::string(name) + "' (sha1, sha256, sha384)");
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    std::size_t pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string_view::npos ? pos : pos - start));
    if (pos == std::string_view::npos) return out;
    start = pos + 1;
  }
}

bool IsSelected(const TPMS_PCR_SELECTION& s, std::uint32_t pcr) {
  return pcr / 8 < s.sizeofSelect && (s.pcrSelect[pcr / 8] & (1u << (pcr % 8))) != 0;
}

}  // namespace

Result<TPML_PCR_SELECTION> ParsePcrSelection(std::string_view text) {
  TPML_PCR_SELECTION sel{};
  bool have_sha256 = false;
  for (std::string_view part : Split(text, '+')) {
    std::size_t colon = part.find(':');
    if (colon == std::string_view::npos) {
      return Fail(Code::kInvalidArgument,
                  "PCR selection: '" + std::string(part) + "' is not BANK:N[,N...]");
    }
    SIGIL_ASSIGN_OR_RETURN(TPMI_ALG_HASH bank, BankFromName(part.substr(0, colon)));
    for (UINT32 i = 0; i < sel.count; ++i) {
      if (sel.pcrSelections[i].hash == bank) {
        return Fail(Code::kInvalidArgument,
                    "PCR selection: bank '" + std::string(part.substr(0, colon)) + "' given twice");
      }
    }
    if (sel.count == TPM2_NUM_PCR_BANKS) {
      return Fail(Code::kInvalidArgument, "PCR selection: too many banks");
    }
    TPMS_PCR_SELECTION& s = sel.pcrSelections[sel.count++];
    s.hash = bank;
    s.sizeofSelect = kSelectBytes;
    for (std::string_view n : Split(part.substr(colon + 1), ',')) {
      std::uint32_t pcr = 0;
      auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), pcr);
      if (n.empty() || ec != std::errc() || end != n.data() + n.size() || pcr > kMaxPcr) {
        return Fail(Code::kInvalidArgument,
                    "PCR selection: '" + std::string(n) + "' is not a PCR index 0..23");
      }
      s.pcrSelect[pcr / 8] |= static_cast<BYTE>(1u << (pcr % 8));
    }
    have_sha256 = have_sha256 || bank == TPM2_ALG_SHA256;
  }
  if (!have_sha256) {
    return Fail(Code::kInvalidArgument, "PCR selection '" + std::string(text) +
                                            "' has no sha256 bank (the verifier requires it)");
  }
  return sel;
}

std::string FormatPcrSelection(const TPML_PCR_SELECTION& sel) {
  std::string out;
  for (UINT32 i = 0; i < sel.count; ++i) {
    const TPMS_PCR_SELECTION& s = sel.pcrSelections[i];
    std::string pcrs;
    for (std::uint32_t pcr = 0; pcr < 8u * s.sizeofSelect; ++pcr) {
      if (IsSelected(s, pcr)) pcrs += (pcrs.empty() ? "" : ",") + std::to_string(pcr);
    }
    if (pcrs.empty()) continue;
    if (!out.empty()) out += '+';
    out += att::HashName(s.hash);
    out += ':' + pcrs;
  }
  return out;
}

Result<PcrRead> ReadPcrs(const EsysContext& ctx, const TPML_PCR_SELECTION& sel) {
  PcrRead out;
  TPML_PCR_SELECTION remaining = sel;
  auto empty = [](const TPML_PCR_SELECTION& s) {
    for (UINT32 i = 0; i < s.count; ++i) {
      for (int b = 0; b < s.pcrSelections[i].sizeofSelect; ++b) {
        if (s.pcrSelections[i].pcrSelect[b] != 0) return false;
      }
    }
    return true;
  };
  while (!empty(remaining)) {
    TPML_PCR_SELECTION* got_raw = nullptr;
    TPML_DIGEST* values_raw = nullptr;
    UINT32 counter = 0;
    TSS2_RC rc = Retry([&] {
      return Esys_PCR_Read(ctx.get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &remaining,
                           &counter, &got_raw, &values_raw);
    });
    EsysPtr<TPML_PCR_SELECTION> got(got_raw);
    EsysPtr<TPML_DIGEST> values(values_raw);
    SIGIL_RETURN_IF_ERROR(Status(rc, "Esys_PCR_Read"));
    out.update_counter = counter;
    // The digests come in the order of pcrSelectionOut: banks as listed, PCRs ascending.
    UINT32 next = 0;
    bool progress = false;
    for (UINT32 i = 0; i < got->count; ++i) {
      const TPMS_PCR_SELECTION& g = got->pcrSelections[i];
      for (std::uint32_t pcr = 0; pcr < 8u * g.sizeofSelect; ++pcr) {
        if (!IsSelected(g, pcr)) continue;
        if (next >= values->count) {
          return Fail(Code::kInternal, "TPM2_PCR_Read returned fewer digests than its selection");
        }
        const TPM2B_DIGEST& d = values->digests[next++];
        out.values[g.hash][pcr] = Bytes(d.buffer, d.buffer + d.size);
        progress = true;
        for (UINT32 j = 0; j < remaining.count; ++j) {
          TPMS_PCR_SELECTION& r = remaining.pcrSelections[j];
          if (r.hash == g.hash && pcr / 8 < r.sizeofSelect) {
            r.pcrSelect[pcr / 8] &= static_cast<BYTE>(~(1u << (pcr % 8)));
          }
        }
      }
    }
    if (!progress) {
      return Fail(Code::kUnavailable, "the TPM returned no value for PCRs '" +
                                          FormatPcrSelection(remaining) +
                                          "' (bank not allocated on this TPM?)");
    }
  }
  return out;
}

}  // namespace sigil::enclave::tpm
