// Fuzz target for the SEV-SNP report parser (attestation/snp/report.h) and the collateral
// parser. Never crashes; on a successful parse, SerializeReport must reproduce the input exactly
// and re-parse to an equal Report (every byte is either a field or checked-zero reserved).
// Corpus: tests/fuzz/corpus/snp_report/ (the real reports plus truncated/mutated ones).
#include <cstddef>
#include <algorithm>
#include <cstdint>

#include "attestation/snp/collateral.h"
#include "attestation/snp/report.h"
#include "core/result.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sigil;
  using namespace sigil::attestation::snp;
  const ByteSpan input(data, size);
  if (auto report = ParseReport(input)) {
    const Bytes again = SerializeReport(*report);
    SIGIL_CHECK(again.size() == size && std::equal(again.begin(), again.end(), data));
    auto reparsed = ParseReport(again);
    SIGIL_CHECK(reparsed && *reparsed == *report);
  }
  (void)ParseCollateral(input);
  return 0;
}
