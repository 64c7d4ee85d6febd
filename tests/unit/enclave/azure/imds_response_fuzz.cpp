// Fuzz target for the Azure IMDS TD quote answer parser (enclave/azure/imds_td_quote.h), the one
// parser on the workload side that reads bytes from the network. Never crashes; what it accepts
// is exactly one "quote" member whose decoded bytes re-encode to the same base64url (padding
// aside).
// Corpus: tests/fuzz/corpus/azure_imds_response/ (a real-size answer carrying the dcap-qvl TD
// quote, padded and unpadded answers, and each refused shape of the unit tests).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/encoding.h"
#include "core/json.h"
#include "core/result.h"
#include "enclave/azure/imds_td_quote.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sigil;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (auto quote = enclave::azure::ParseTdQuoteResponse(input)) {
    SIGIL_CHECK(!quote->empty());
    // The member as JSON decodes it (escapes resolved), without its '=' padding.
    auto json = ParseJson(input, "fuzz");
    SIGIL_CHECK(json.has_value() && json->is_object() && json->size() == 1);
    std::string text = (*json)["quote"].get<std::string>();
    while (!text.empty() && text.back() == '=') text.pop_back();
    SIGIL_CHECK(Base64UrlEncode(*quote) == text);
  }
  return 0;
}
