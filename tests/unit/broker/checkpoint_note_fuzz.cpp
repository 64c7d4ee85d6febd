// Fuzz target: signed checkpoints and verifier keys as `sigil audit proof` receives them from a
// broker it does not trust (broker/audit/checkpoint_note.h). Must never crash; no input can
// carry a valid signature by the fixed key, so opening must always fail; a parsed checkpoint
// must print back to text that parses to the same values.
#include <cstdint>
#include <string>

#include "broker/audit/checkpoint_note.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace tlog = sigil::broker::tlog;
  static const sigil::Bytes kPublicKey(32, 0x42);
  static const auto kKey = tlog::MakeVerifierKey("sigil-audit/acme", kPublicKey);
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (kKey && tlog::OpenNote(text, *kKey).has_value()) __builtin_trap();
  (void)tlog::ParseVerifierKey(text);
  if (auto cp = tlog::ParseCheckpointText(text)) {
    if (auto again = tlog::CheckpointText(*cp)) {
      auto reparsed = tlog::ParseCheckpointText(*again);
      if (!reparsed || reparsed->size != cp->size || reparsed->root != cp->root || reparsed->time_ms != cp->time_ms ||
          reparsed->origin != cp->origin) {
        __builtin_trap();
      }
    }
  }
  return 0;
}
