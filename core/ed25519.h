// Ed25519 signatures (libsodium). Used for the dev TEE platform key, audit checkpoints and the
// broker's token-signing key.
#pragma once

#include <array>

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
// kVerificationFailed on a bad signature, kInvalidArgument on wrong sizes.
Result<void> Ed25519Verify(ByteSpan public_key, ByteSpan message, ByteSpan signature);

}  // namespace sigil
