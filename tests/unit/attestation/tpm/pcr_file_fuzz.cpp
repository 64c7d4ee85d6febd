// Fuzz target for the tpm2_quote PCR file reader (attestation/tpm/pcr_file.h): never crashes,
// and whatever it accepts holds exactly one digest of its bank's size per selected PCR.
// Input: byte 0 = number of banks (1 + b % 3); per bank 1 byte choosing SHA-1/256/384 and 3
// bytes of PCR bitmap (PCRs 0-23); the rest is the file. Corpus: tests/fuzz/corpus/pcr_file/
// (serialized, values and text files for sha256:0,1,2,3 and a two-bank selection, truncations).
#include <cstddef>
#include <cstdint>

#include "attestation/tpm/pcr_file.h"
#include "core/result.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sigil;
  using namespace sigil::attestation::tpm;
  if (size < 1) return 0;
  const std::size_t banks = 1 + data[0] % 3;
  if (size < 1 + 4 * banks) return 0;
  Quote quote;
  constexpr std::uint16_t kAlgs[] = {kAlgSha1, kAlgSha256, kAlgSha384};
  constexpr std::size_t kSizes[] = {20, 32, 48};
  std::size_t selected = 0;
  for (std::size_t b = 0; b < banks; ++b) {
    const std::uint8_t* p = data + 1 + 4 * b;
    PcrBankSelection sel{kAlgs[p[0] % 3], {}};
    for (std::uint32_t pcr = 0; pcr < 24; ++pcr) {
      if (p[1 + pcr / 8] & (1u << (pcr % 8))) sel.pcrs.push_back(pcr);
    }
    selected += sel.pcrs.size();
    quote.pcr_select.push_back(sel);
  }
  const ByteSpan file(data + 1 + 4 * banks, size - 1 - 4 * banks);
  if (auto values = ReadTpm2ToolsPcrFile(quote, file)) {
    std::size_t got = 0;
    for (const PcrBankSelection& sel : quote.pcr_select) {
      const std::size_t want = kSizes[sel.hash_alg == kAlgSha1 ? 0 : sel.hash_alg == kAlgSha256 ? 1 : 2];
      for (std::uint32_t pcr : sel.pcrs) {
        auto bank = values->find(sel.hash_alg);
        SIGIL_CHECK(bank != values->end());
        auto v = bank->second.find(pcr);
        SIGIL_CHECK(v != bank->second.end() && v->second.size() == want);
      }
      got += sel.pcrs.size();
    }
    SIGIL_CHECK(got == selected);
  }
  return 0;
}
