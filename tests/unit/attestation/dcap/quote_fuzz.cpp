// Fuzz target for the DCAP quote parser (TDX quote v4/v5, SGX quote v3) and the PCK parsing and
// signature checks behind it, built twice (tdx_quote, sgx_quote) so each quote kind keeps its
// own corpus. Never crashes; on success checks that the parse is confined to the
// input (spans inside it) and that dropping the trailing bytes reparses to the same quote.
// Corpora: tests/fuzz/corpus/{tdx_quote,sgx_quote}/ (the real vector quotes plus truncated variants).
#include <cstddef>
#include <cstdint>

#include "attestation/dcap/pck.h"
#include "attestation/dcap/quote.h"
#include "attestation/dcap/quote_checks.h"

namespace {
using namespace sigil;
using namespace sigil::attestation::dcap;

bool Inside(ByteSpan outer, ByteSpan inner) {
  return inner.empty() ||
         (inner.data() >= outer.data() && inner.data() + inner.size() <= outer.data() + outer.size());
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteSpan input(data, size);
  auto quote = ParseQuote(input);
  if (!quote) return 0;
  SIGIL_CHECK(quote->td.has_value() != quote->sgx.has_value());
  SIGIL_CHECK(Inside(input, quote->signed_region) && Inside(input, quote->pck_chain_pem) &&
              Inside(input, quote->qe_auth_data) && quote->signature.size() == 64 &&
              quote->attestation_key.size() == 64 && quote->qe_report.size() == 384);
  auto again = ParseQuote(input.first(size - quote->trailing_bytes));
  SIGIL_CHECK(again && again->trailing_bytes == 0 &&
              again->signed_region.size() == quote->signed_region.size() &&
              again->pck_chain_pem.size() == quote->pck_chain_pem.size());
  if (auto chain = ParsePckChain(quote->pck_chain_pem)) {
    (void)ParsePckExtensions(chain->leaf());
    (void)VerifyQuoteSignatures(*quote, *chain);
  }
  return 0;
}
