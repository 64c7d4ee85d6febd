// Fuzz target key_pins: the JSON a release request's artifact and the admin owners request carry
// (broker/keys/key_pins.h). ParseArtifactProvenance and ParseKeyPins must never crash; pins they
// accept, written back in request form, reparse to the same pins (sorted, deduplicated); an
// accepted signature is checked by CheckProvenance without crashing. Replayed over
// tests/fuzz/corpus/key_pins/ in ordinary builds.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "broker/keys/key_pins.h"
#include "core/encoding.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sigil;
  using namespace sigil::broker;
  auto j = ParseJson(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz");
  if (!j) return 0;
  auto prov = ParseArtifactProvenance(*j, "fuzz");
  auto pins = ParseKeyPins(*j);
  if (pins) {
    Json owners = Json::array();
    for (const Bytes& o : pins->owners) owners.push_back(Base64UrlEncode(o));
    auto again = ParseKeyPins(Json{{"owners", owners}, {"artifact_ids", pins->artifact_ids}});
    if (!again || !(*again == *pins)) std::abort();
  }
  if (prov && *prov) (void)CheckProvenance(pins ? *pins : KeyPins{}, std::string(64, 'a'), *prov);
  return 0;
}
