// Fuzz target for the "tpm" root key file parser (broker/tpm/tpm_seal_root_key.h): the JSON sigild
// reads from its data directory before handing the sealed object to the TPM. Never crashes; an
// accepted file has a PCR selection that formats back to something it parses again.
// Corpus: tests/fuzz/corpus/tpm_root_key_file/.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "broker/tpm/tpm_seal_pcrs.h"
#include "broker/tpm/tpm_seal_root_key.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sigil;
  auto json = ParseJson(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz");
  if (!json) return 0;
  auto f = broker::ParseTpmRootKeyFile(*json, "fuzz");
  if (!f) return 0;
  SIGIL_CHECK(broker::ParsePcrSelection(broker::FormatPcrSelection(f->sealed.pcrs)).has_value());
  return 0;
}
