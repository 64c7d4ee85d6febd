// The public-key work one full flow cannot avoid, timed on one core with the project's own
// primitives (libsodium Ed25519 and X25519 under core/): the floor under the broker's CPU per
// flow that bench/run fleet reports next to its measurement. Per flow the broker must
//   verify 2 Ed25519 signatures (the dev evidence, the token at release),
//   make 1 Ed25519 signature (the token; the audit checkpoints are signed once per commit batch,
//   so under load their share of a flow tends to zero and is not counted here),
//   do 5 X25519 operations (open the DEK: 1 DH; seal it to the workload: key generation and 1 DH;
//   check the workload's key at attest and at release: 1 each).
// Last line: floor: ed25519_sign_us=A ed25519_verify_us=B x25519_us=C crypto_us_per_flow=D
#include <chrono>
#include <cstdio>

#include "core/ed25519.h"
#include "core/hpke.h"

namespace {
using Clock = std::chrono::steady_clock;

template <typename Fn>
double MicrosPerOp(Fn&& fn) {
  constexpr int kOps = 2000;
  fn();  // warm up
  const auto t0 = Clock::now();
  for (int i = 0; i < kOps; ++i) fn();
  return std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / kOps;
}
}  // namespace

int main() {
  using namespace sigil;
  auto kp = Ed25519Generate();
  auto peer = hpke::GenerateKeyPair(hpke::Kem::kX25519HkdfSha256);
  if (!kp || !peer) return 1;
  const Bytes message(200, 0x5a);
  auto sig = Ed25519Sign(kp->seed, message);
  if (!sig) return 1;
  bool ok = true;
  const double sign = MicrosPerOp([&] { ok &= Ed25519Sign(kp->seed, message).has_value(); });
  const double verify = MicrosPerOp([&] { ok &= Ed25519Verify(kp->public_key, message, *sig).has_value(); });
  // A full validation of the peer key (canonical, not small order) is one X25519 operation.
  const double x25519 = MicrosPerOp([&] { ok &= hpke::ValidatePublicKey(hpke::Kem::kX25519HkdfSha256, peer->public_key).has_value(); });
  if (!ok) return 1;
  std::printf("floor: ed25519_sign_us=%.1f ed25519_verify_us=%.1f x25519_us=%.1f crypto_us_per_flow=%.0f\n", sign, verify,
              x25519, 2 * verify + sign + 5 * x25519);
  return 0;
}
