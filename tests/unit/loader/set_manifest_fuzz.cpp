// Fuzz target for the model-set manifest parser (loader/model_set.h, sigil-set.json: read from
// the untrusted set directory before any key is requested). Never crashes; an accepted manifest
// serializes and reparses to the same value (the parser is strict, the writer canonical).
// Corpus: tests/fuzz/corpus/set_manifest/.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "loader/model_set.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sigil;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto m = loader::ParseSetManifest(text, "fuzz");
  if (!m) return 0;
  SIGIL_CHECK(!m->members.empty() && m->members.size() <= loader::kMaxSetMembers);
  const std::string again = loader::SerializeSetManifest(*m);
  auto reparsed = loader::ParseSetManifest(again, "reserialized");
  SIGIL_CHECK(reparsed && *reparsed == *m);
  (void)loader::SetDigest(*m);
  return 0;
}
