// Fuzz target for the dev evidence parsers and verifier. Never crashes; on success checks the
// round-trip invariants (serialize -> reparse -> equal). The corpus in
// tests/fuzz/corpus/dev_evidence/ holds evidence signed by the fixed key below (seed 00..1f),
// bound to 64 bytes of 0xab, issued at 1700000000, so the fuzzer starts past the signature.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "attestation/dev/evidence.h"
#include "attestation/dev/verifier.h"
#include "core/ed25519.h"

namespace {
using namespace sigil;
using namespace sigil::attestation;

const Verifier& FuzzVerifier() {
  static const std::unique_ptr<Verifier> v = [] {
    Bytes seed(32);
    for (std::size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<std::uint8_t>(i);
    return dev::DevVerifier::Create(Ed25519FromSeed(seed).value().public_key).value();
  }();
  return *v;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteSpan input(data, size);
  const Bytes binding(64, 0xab);
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));

  if (auto env = dev::ParseEnvelope(input)) {
    auto again = dev::ParseEnvelope(dev::SerializeEnvelope(*env));
    SIGIL_CHECK(again && again->payload == env->payload && again->signature == env->signature);
  }
  if (auto claims = FuzzVerifier().Verify({input, {}, binding, now})) {
    SIGIL_CHECK(claims->GetString("tee") == "dev" && claims->GetBool("dev.insecure") == true);
  }
  // The verifier reaches the payload parser only with a valid signature; fuzz it directly too.
  if (auto payload = dev::ParsePayload(input)) {
    auto text = dev::SerializePayload(*payload);
    SIGIL_CHECK(text && ToString(input) == *text);
  }
  return 0;
}
