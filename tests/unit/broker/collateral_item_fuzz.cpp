// Fuzz target for the collateral classifier/parser (broker/collateral/collateral_item.h): `sigil collateral
// import` feeds it operator-supplied files (PEM/DER certificates and CRLs, Intel PCS JSON, DCAP
// collateral bundles) before any signature is checked. Never crashes; an accepted file yields at
// least one item. Corpus: tests/fuzz/corpus/collateral_item/.
#include <cstddef>
#include <cstdint>

#include "broker/collateral/collateral_item.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sigil;
  auto items = broker::ClassifyCollateral(ByteSpan(data, size));
  if (!items) return 0;
  SIGIL_CHECK(!items->empty());
  return 0;
}
