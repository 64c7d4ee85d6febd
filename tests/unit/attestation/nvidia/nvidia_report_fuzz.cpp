// Fuzz target for the NVIDIA GPU report parser (attestation/nvidia/report.h), the evidence
// decoder and the collateral parser. Never crashes; on a successful parse, SerializeReport must
// reproduce the input exactly (every byte is a field, nothing after the signature) and
// re-parse to an equal Report, and SignedSize must be the input minus the signature.
// Corpus: tests/fuzz/corpus/nvidia_report/ (the decoded vector plus truncated/mutated ones).
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "attestation/nvidia/collateral.h"
#include "attestation/nvidia/report.h"
#include "core/result.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sigil;
  using namespace sigil::attestation::nvidia;
  const ByteSpan input(data, size);
  if (auto report = ParseReport(input)) {
    const Bytes again = SerializeReport(*report);
    SIGIL_CHECK(again.size() == size && std::equal(again.begin(), again.end(), data));
    SIGIL_CHECK(SignedSize(*report) + kSignatureSize == size);
    auto reparsed = ParseReport(again);
    SIGIL_CHECK(reparsed && *reparsed == *report);
  }
  if (auto decoded = DecodeEvidence(input)) {
    (void)ParseReport(*decoded);
  }
  (void)ParseCollateral(input);
  return 0;
}
