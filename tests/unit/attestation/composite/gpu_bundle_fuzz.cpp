// Fuzz target for the composite evidence bundle (attestation/composite/bundle.h), the one parser
// of untrusted bytes composite attestation adds. Never crashes; a bundle that parses serializes
// back to exactly the input (canonical form is required, so there is one encoding per bundle)
// and re-parses equal; the GPU evidence digest of its reports is computable for any of them.
// Corpus: tests/fuzz/corpus/gpu_bundle/ (the real H100 report in a bundle, and refusals).
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "attestation/composite/binding.h"
#include "attestation/composite/bundle.h"
#include "core/result.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sigil;
  using namespace sigil::attestation::composite;
  const ByteSpan input(data, size);
  (void)LooksLikeGpuBundle(input);
  if (auto bundle = ParseGpuBundle(input)) {
    SIGIL_CHECK(!bundle->cpu.empty() && !bundle->gpus.empty() && bundle->gpus.size() <= kMaxGpus);
    const Bytes again = SerializeGpuBundle(*bundle);
    SIGIL_CHECK(again.size() == size && std::equal(again.begin(), again.end(), data));
    SIGIL_CHECK(LooksLikeGpuBundle(again));
    auto reparsed = ParseGpuBundle(again);
    SIGIL_CHECK(reparsed && *reparsed == *bundle);
    std::vector<Bytes> reports;
    for (const auto& g : bundle->gpus) reports.push_back(g.report);
    (void)GpuEvidenceDigest(reports);
  }
  return 0;
}
