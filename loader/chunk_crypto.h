// Chunk-level cryptography of the .sgl format (FORMAT.md, "Chunks"): the chunk key derivation,
// the STREAM nonce (Hoang, Reyhanitabar, Rogaway, Vizar, "Online Authenticated-Encryption and
// its Nonce-Reuse Misuse-Resistance", CRYPTO 2015, section 7) and a reusable AES-256-GCM context
// that works in place without allocating per chunk.
#pragma once

#include <array>
#include <cstdint>

#include "core/bytes.h"
#include "core/ossl.h"
#include "core/result.h"
#include "core/secret_bytes.h"
#include "loader/container_format.h"

namespace sigil::loader {

using ChunkNonceBytes = std::array<std::uint8_t, 12>;
using ChunkTag = std::array<std::uint8_t, kTagSize>;

// HKDF-SHA256: PRK = Extract(salt, dek); key = Expand(PRK, "sigil/v1/chunk", 32).
// Fails with kInvalidArgument unless dek is 32 bytes.
Result<SecretBytes> DeriveChunkKey(const SecretBytes& dek, ByteSpan salt);

// 11-byte big-endian chunk index || 1-byte last-chunk flag. `index` < 2^32 (checked).
ChunkNonceBytes ChunkNonce(std::uint64_t index, bool last);

// One AES-256-GCM context bound to a chunk key and the header (AAD); Begin() rekeys only the
// nonce, so a worker reuses one context for all its chunks. Not thread-safe: one per thread.
class ChunkCipher {
 public:
  enum class Direction { kEncrypt, kDecrypt };
  // The key is copied into OpenSSL's key schedule; `aad` must outlive the cipher.
  static Result<ChunkCipher> Create(const SecretBytes& chunk_key, ByteSpan aad, Direction dir);

  // Starts chunk `index` (sets the nonce, absorbs the AAD).
  Result<void> Begin(std::uint64_t index, bool last);
  // Encrypts or decrypts `n` bytes in place (n <= INT_MAX).
  Result<void> Update(std::uint8_t* data, std::size_t n);
  // Encrypt direction: writes the tag.
  Result<void> FinishEncrypt(ChunkTag& tag);
  // Decrypt direction: kVerificationFailed if the tag does not match (the bytes produced by
  // Update must then be discarded by the caller).
  Result<void> FinishDecrypt(const ChunkTag& tag);

 private:
  ChunkCipher(EvpCipherCtxPtr ctx, ByteSpan aad) : ctx_(std::move(ctx)), aad_(aad) {}
  EvpCipherCtxPtr ctx_;
  ByteSpan aad_;
};

}  // namespace sigil::loader
