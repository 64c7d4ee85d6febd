// One-shot AEAD seal/open (OpenSSL EVP). Ciphertext = encrypted bytes || 16-byte tag.
// Open fails with kVerificationFailed on any tag mismatch and releases no plaintext.
#pragma once

#include "core/bytes.h"
#include "core/result.h"
#include "core/secret_bytes.h"

namespace sigil {

enum class AeadAlg { kAes128Gcm, kAes256Gcm, kChaCha20Poly1305 };

constexpr std::size_t kAeadTagSize = 16;
constexpr std::size_t kAeadNonceSize = 12;
std::size_t AeadKeySize(AeadAlg alg);

Result<Bytes> AeadSeal(AeadAlg alg, ByteSpan key, ByteSpan nonce, ByteSpan aad, ByteSpan plaintext);
Result<Bytes> AeadOpen(AeadAlg alg, ByteSpan key, ByteSpan nonce, ByteSpan aad, ByteSpan ciphertext);
// Open into locked memory, for ciphertexts whose plaintext is a key.
Result<SecretBytes> AeadOpenSecret(AeadAlg alg, ByteSpan key, ByteSpan nonce, ByteSpan aad,
                                   ByteSpan ciphertext);

}  // namespace sigil
