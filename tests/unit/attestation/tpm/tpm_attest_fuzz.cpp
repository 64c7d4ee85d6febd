// Fuzz target for the TPM structure parsers (attestation/tpm/attest.h) and the evidence JSON
// parser (evidence.h). Never crashes; a parsed quote's PCR selection is within TPM2_MAX_PCRS.
// Corpus: tests/fuzz/corpus/tpm_attest/ (the real TPMS_ATTEST blobs, truncations, signatures).
#include <cstddef>
#include <cstdint>

#include "attestation/tpm/attest.h"
#include "attestation/tpm/evidence.h"
#include "core/result.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sigil;
  using namespace sigil::attestation::tpm;
  const ByteSpan input(data, size);
  if (auto quote = ParseQuote(input)) {
    for (const PcrBankSelection& sel : quote->pcr_select) {
      for (std::uint32_t pcr : sel.pcrs) {
        SIGIL_CHECK(pcr < 32);
      }
    }
  }
  (void)ParseSignature(input);
  (void)ParseEvidence(input);
  return 0;
}
