#include "attestation/tpm/pcr_file.h"

#include <string>

#include "core/encoding.h"

namespace sigil::attestation::tpm {
namespace {

// tpm2-tools "serialized" layout (lib/pcr.c pcr_fwrite_serialized writes the structs of
// tss2_tpm2_types.h with fwrite): TPM2_NUM_PCR_BANKS = 16, TPM2_PCR_SELECT_MAX = 4,
// TPM2_NUM_PCR_BANKS slots of TPMS_PCR_SELECTION padded to 8 bytes; TPML_DIGEST holds 8
// TPM2B_DIGEST of 2 + sizeof(TPMU_HA) = 66 bytes.
constexpr std::size_t kSelectionBytes = 4 + 16 * 8;          // sizeof(TPML_PCR_SELECTION)
constexpr std::size_t kSelectionSlots = 16;
constexpr std::size_t kSelectionSlotBytes = 8;
constexpr std::size_t kPcrSelectMax = 4;
constexpr std::size_t kHeaderBytes = kSelectionBytes + 4;    // + u32 number of digest lists
constexpr std::size_t kDigestSlots = 8;
constexpr std::size_t kDigestSlotBytes = 2 + 64;
constexpr std::size_t kDigestListBytes = 4 + kDigestSlots * kDigestSlotBytes;  // 532

std::uint32_t Le32(ByteSpan b, std::size_t off) {
  return static_cast<std::uint32_t>(b[off]) | static_cast<std::uint32_t>(b[off + 1]) << 8 |
         static_cast<std::uint32_t>(b[off + 2]) << 16 | static_cast<std::uint32_t>(b[off + 3]) << 24;
}

std::uint16_t Le16(ByteSpan b, std::size_t off) {
  return static_cast<std::uint16_t>(b[off] | b[off + 1] << 8);
}

Result<void> Bad(const std::string& what) {
  return Fail(Code::kMalformedEvidence, "PCR file (tpm2-tools serialized form): " + what);
}

bool IsHexText(ByteSpan b) {
  bool any = false;
  for (std::uint8_t c : b) {
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    const bool space = c == '\n' || c == '\r' || c == ' ' || c == '\t';
    if (!hex && !space) {
      return false;
    }
    any = any || hex;
  }
  return any;
}

// A serialized file is recognised by its shape: 136 + 532 n bytes with n (n >= 1) at offset 132.
bool LooksSerialized(ByteSpan file) {
  if (file.size() < kHeaderBytes + kDigestListBytes) {
    return false;
  }
  const std::size_t n = (file.size() - kHeaderBytes) / kDigestListBytes;
  return (file.size() - kHeaderBytes) % kDigestListBytes == 0 && Le32(file, kSelectionBytes) == n;
}

Result<std::vector<PcrBankSelection>> ReadSelection(ByteSpan file) {
  const std::uint32_t count = Le32(file, 0);
  if (count == 0 || count > kSelectionSlots) {
    return Fail(Code::kMalformedEvidence, "PCR file (tpm2-tools serialized form): selection count " +
                                              std::to_string(count) + " is not in 1..16");
  }
  std::vector<PcrBankSelection> out;
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t off = 4 + i * kSelectionSlotBytes;
    PcrBankSelection sel;
    sel.hash_alg = Le16(file, off);
    const std::size_t size_of_select = file[off + 2];
    if (HashSize(sel.hash_alg) == 0 || size_of_select > kPcrSelectMax) {
      return Fail(Code::kMalformedEvidence,
                  "PCR file (tpm2-tools serialized form): selection entry " + std::to_string(i) +
                      " has an unsupported bank or a sizeofSelect above 4");
    }
    for (std::uint32_t pcr = 0; pcr < 8 * size_of_select; ++pcr) {
      if ((file[off + 3 + pcr / 8] >> (pcr % 8)) & 1) sel.pcrs.push_back(pcr);
    }
    out.push_back(std::move(sel));
  }
  return out;
}

Result<PcrValues> ReadSerialized(const Quote& quote, ByteSpan file) {
  SIGIL_ASSIGN_OR_RETURN(std::vector<PcrBankSelection> selection, ReadSelection(file));
  if (selection != quote.pcr_select) {
    SIGIL_RETURN_IF_ERROR(Bad("its selection " + SelectionToString(selection) +
                              " is not the quote's selection " + SelectionToString(quote.pcr_select)));
  }
  // The digests of all lists, in order, are the selected PCRs in selection order.
  std::vector<std::pair<std::uint16_t, std::uint32_t>> wanted;
  for (const PcrBankSelection& sel : selection) {
    for (std::uint32_t pcr : sel.pcrs) wanted.emplace_back(sel.hash_alg, pcr);
  }
  PcrValues out;
  std::size_t next = 0;
  const std::size_t lists = Le32(file, kSelectionBytes);
  for (std::size_t l = 0; l < lists; ++l) {
    const std::size_t base = kHeaderBytes + l * kDigestListBytes;
    const std::uint32_t count = Le32(file, base);
    if (count == 0 || count > kDigestSlots) {
      SIGIL_RETURN_IF_ERROR(Bad("digest list " + std::to_string(l) + " holds " +
                                std::to_string(count) + " digests (1..8 allowed)"));
    }
    for (std::size_t d = 0; d < count; ++d, ++next) {
      if (next == wanted.size()) {
        SIGIL_RETURN_IF_ERROR(Bad("more digests than the selection has PCRs"));
      }
      const std::size_t slot = base + 4 + d * kDigestSlotBytes;
      const auto [alg, pcr] = wanted[next];
      if (Le16(file, slot) != HashSize(alg)) {
        SIGIL_RETURN_IF_ERROR(Bad("the digest for " + std::string(HashName(alg)) + " PCR " +
                                  std::to_string(pcr) + " is not of the bank's size"));
      }
      const auto value = file.subspan(slot + 2, HashSize(alg));
      out[alg][pcr] = Bytes(value.begin(), value.end());
    }
  }
  if (next != wanted.size()) {
    SIGIL_RETURN_IF_ERROR(Bad("fewer digests (" + std::to_string(next) + ") than selected PCRs (" +
                              std::to_string(wanted.size()) + ")"));
  }
  return out;
}

// The "values" form and hex text: the digests concatenated in selection order.
Result<PcrValues> ReadConcatenated(const Quote& quote, ByteSpan raw, std::size_t expected,
                                   const std::string& form) {
  if (raw.size() != expected) {
    return Fail(Code::kMalformedEvidence,
                "PCR file" + form + " holds " + std::to_string(raw.size()) +
                    " bytes of digests; the quote's selection " + SelectionToString(quote.pcr_select) +
                    " needs exactly " + std::to_string(expected));
  }
  PcrValues out;
  std::size_t off = 0;
  for (const PcrBankSelection& sel : quote.pcr_select) {
    const std::size_t size = HashSize(sel.hash_alg);
    for (std::uint32_t pcr : sel.pcrs) {
      out[sel.hash_alg][pcr] = Bytes(raw.begin() + static_cast<std::ptrdiff_t>(off),
                                     raw.begin() + static_cast<std::ptrdiff_t>(off + size));
      off += size;
    }
  }
  return out;
}

}  // namespace

std::string SelectionToString(const std::vector<PcrBankSelection>& selection) {
  std::string out;
  for (const PcrBankSelection& sel : selection) {
    if (!out.empty()) out += "+";
    const char* name = HashName(sel.hash_alg);
    out += *name != '\0' ? std::string(name) : "alg" + std::to_string(sel.hash_alg);
    out += ":";
    for (std::size_t i = 0; i < sel.pcrs.size(); ++i) {
      out += (i == 0 ? "" : ",") + std::to_string(sel.pcrs[i]);
    }
  }
  return out.empty() ? "(empty)" : out;
}

Result<PcrValues> ReadTpm2ToolsPcrFile(const Quote& quote, ByteSpan file) {
  std::size_t values_size = 0;
  std::size_t pcr_count = 0;
  for (const PcrBankSelection& sel : quote.pcr_select) {
    if (HashSize(sel.hash_alg) == 0) {
      return Fail(Code::kMalformedEvidence, "the quote selects an unsupported PCR bank");
    }
    values_size += HashSize(sel.hash_alg) * sel.pcrs.size();
    pcr_count += sel.pcrs.size();
  }
  if (IsHexText(file)) {
    std::string hex;
    for (std::uint8_t c : file) {
      if (c != '\n' && c != '\r' && c != ' ' && c != '\t') hex.push_back(static_cast<char>(c));
    }
    auto decoded = HexDecode(hex);
    if (!decoded) {
      return Error(Code::kMalformedEvidence, decoded.error().message()).Wrap("PCR text file");
    }
    return ReadConcatenated(quote, *decoded, values_size, " (hex text)");
  }
  if (LooksSerialized(file)) {
    return ReadSerialized(quote, file);
  }
  if (file.size() == values_size) {
    return ReadConcatenated(quote, file, values_size, " (values form)");
  }
  const std::size_t lists = pcr_count == 0 ? 1 : (pcr_count + kDigestSlots - 1) / kDigestSlots;
  return Fail(Code::kMalformedEvidence,
              "PCR file is " + std::to_string(file.size()) + " bytes: for the quote's selection " +
                  SelectionToString(quote.pcr_select) + " tpm2_quote writes " +
                  std::to_string(kHeaderBytes + lists * kDigestListBytes) +
                  " bytes in its default serialized form (136 + 532 per list of up to 8 digests) or " + std::to_string(values_size) +
                  " bytes (-F values); the file is truncated, has extra bytes or is another form");
}

}  // namespace sigil::attestation::tpm
