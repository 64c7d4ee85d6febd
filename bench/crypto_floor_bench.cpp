// The public-key work one full flow cannot avoid, timed on one core with the project's own
// primitives (libsodium Ed25519 and X25519 under core/): the floor under the broker's CPU per
// flow that bench/run fleet reports next to its measurement. Per flow the broker must
//   verify 2 Ed25519 signatures (the dev evidence, the token at release),
//   make 1 Ed25519 signature with the token key expanded once (the audit checkpoints are signed
//   once per commit batch, so under load their share of a flow tends to zero and is not counted),
//   do 4 X25519 operations (open the DEK: 1 DH; seal it to the workload: key generation and 1 DH;
//   check the workload's key at attest: 1; the release only compares it with the token's).
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
  auto signer = Ed25519Signer::FromSeed(kp->seed.Reveal(SecretAccess::Get()));
  if (!signer) return 1;
  const double sign = MicrosPerOp([&] { ok &= signer->Sign(message).size() == kEd25519SignatureSize; });
  const double verify = MicrosPerOp([&] { ok &= Ed25519Verify(kp->public_key, message, *sig).has_value(); });
  // A full validation of the peer key (canonical, not small order) is one X25519 operation.
  const double x25519 = MicrosPerOp([&] { ok &= hpke::ValidatePublicKey(hpke::Kem::kX25519HkdfSha256, peer->public_key).has_value(); });
  if (!ok) return 1;
  std::printf("floor: ed25519_sign_us=%.1f ed25519_verify_us=%.1f x25519_us=%.1f crypto_us_per_flow=%.0f\n", sign, verify,
              x25519, 2 * verify + sign + 4 * x25519);
  return 0;
}
