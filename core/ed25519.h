// Ed25519 signatures (libsodium). Used for the dev TEE platform key, audit checkpoints and the
// broker's token-signing key.
#pragma once

#include <array>
#include <utility>

#include "core/bytes.h"
#include "core/result.h"
#include "core/secret_bytes.h"

namespace sigil {

constexpr std::size_t kEd25519PublicKeySize = 32;
constexpr std::size_t kEd25519SeedSize = 32;
constexpr std::size_t kEd25519SignatureSize = 64;

struct Ed25519KeyPair {
  SecretBytes seed;  // 32-byte seed; the private key is derived from it
  Bytes public_key;  // 32 bytes
};

Result<Ed25519KeyPair> Ed25519Generate();
Result<Ed25519KeyPair> Ed25519FromSeed(ByteSpan seed);
Result<Bytes> Ed25519Sign(const SecretBytes& seed, ByteSpan message);

// A private key expanded once (libsodium's 64-byte secret key: seed || public key), so that each
// signature costs one signing operation instead of a key derivation plus one: for keys that sign
// on a hot path (the audit log signs a checkpoint with every commit). The expanded key lives in
// locked, wiped memory like the seed.
class Ed25519Signer {
 public:
  // kInvalidArgument unless the seed is 32 bytes.
  static Result<Ed25519Signer> FromSeed(ByteSpan seed);
  // The same signature Ed25519Sign(seed, message) gives (Ed25519 is deterministic).
  Bytes Sign(ByteSpan message) const;
  const Bytes& public_key() const { return public_key_; }

 private:
  Ed25519Signer(SecretBytes secret_key, Bytes public_key)
      : secret_key_(std::move(secret_key)), public_key_(std::move(public_key)) {}
  SecretBytes secret_key_;
  Bytes public_key_;
};
// kVerificationFailed on a bad signature, kInvalidArgument on wrong sizes.
Result<void> Ed25519Verify(ByteSpan public_key, ByteSpan message, ByteSpan signature);

}  // namespace sigil
