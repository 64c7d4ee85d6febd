// Fuzz target: attestation tokens as the release endpoint receives them (untrusted bearer
// strings). Must never crash; anything not signed by the fixed key must be refused.
#include <cstdint>
#include <string>

#include "broker/keys/token.h"
#include "core/ed25519.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const sigil::Bytes kPublicKey(32, 0x42);
  std::string token(reinterpret_cast<const char*>(data), size);
  auto r = sigil::broker::VerifyToken(token, kPublicKey, 0);
  // No input can carry a valid signature for this key (it has no known private half).
  if (r.has_value()) __builtin_trap();
  return 0;
}
