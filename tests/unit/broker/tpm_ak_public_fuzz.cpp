// Fuzz target for the TPM2B_PUBLIC (AK public area) parser (broker/tpm/tpm_seal_ak_public.h), which
// `sigil tpm register-ak --ak-public` runs on an operator-supplied file. Never crashes; an
// accepted key has an SPKI and a Name of nameAlg (2 bytes) || SHA-256 or SHA-384 digest.
// Corpus: tests/fuzz/corpus/tpm_ak_public/ (swtpm-made RSA/ECC AKs, an SRK, truncations).
#include <cstddef>
#include <cstdint>

#include "broker/tpm/tpm_seal_ak_public.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sigil;
  auto ak = broker::ParseAkPublic(ByteSpan(data, size));
  if (!ak) return 0;
  SIGIL_CHECK(!ak->spki_der.empty() && (ak->name.size() == 2 + 32 || ak->name.size() == 2 + 48));
  return 0;
}
