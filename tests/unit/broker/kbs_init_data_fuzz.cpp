// Fuzz target: a KBS attestation's "init-data" (broker/kbs/kbs_init_data.h). Input: the request
// member's JSON text, parsed as a request body is; then, for what parses, the binding against a
// TDX claim set built from the input's own digest and against one that must not match. Must never
// crash; a parsed body is within the limit, its digest the size its algorithm gives, and the
// binding holds exactly when the claimed MRCONFIGID is the regularized digest.
#include <cstdint>
#include <string>

#include "broker/kbs/kbs_init_data.h"
#include "core/encoding.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto json = sigil::ParseJson(text, "fuzz");
  if (!json) return 0;
  auto parsed = sigil::broker::ParseKbsInitData(*json);
  if (!parsed) {
    if (parsed.error().message().rfind("init-data", 0) != 0) __builtin_trap();
    return 0;
  }
  const std::size_t want = parsed->algorithm == "sha256" ? 32 : parsed->algorithm == "sha384" ? 48 : 64;
  if (parsed->digest.size() != want || parsed->body.size() > sigil::broker::kMaxInitDataBytes) __builtin_trap();
  sigil::Bytes field(48, 0);
  for (std::size_t i = 0; i < field.size() && i < parsed->digest.size(); ++i) field[i] = parsed->digest[i];
  sigil::attestation::Claims good;
  good.Set("tdx.mrconfigid", sigil::HexEncode(field));
  if (!sigil::broker::BindKbsInitData(*parsed, "tdx", good)) __builtin_trap();
  field[0] ^= 1;
  sigil::attestation::Claims bad;
  bad.Set("tdx.mrconfigid", sigil::HexEncode(field));
  if (sigil::broker::BindKbsInitData(*parsed, "tdx", bad)) __builtin_trap();
  return 0;
}
