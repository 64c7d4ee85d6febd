#include "loader/chunk_crypto.h"

#include <climits>

#include "core/hkdf.h"

namespace sigil::loader {

Result<SecretBytes> DeriveChunkKey(const SecretBytes& dek, ByteSpan salt) {
  if (dek.size() != kDekSize) {
    return Fail(Code::kInvalidArgument, "DEK must be 32 bytes, got " + std::to_string(dek.size()));
  }
  SIGIL_ASSIGN_OR_RETURN(SecretBytes prk, HkdfExtract(HkdfHash::kSha256, salt, dek.Reveal(SecretAccess::Get())));
  return HkdfExpand(HkdfHash::kSha256, prk.Reveal(SecretAccess::Get()), AsBytes("sigil/v1/chunk"), 32);
}

ChunkNonceBytes ChunkNonce(std::uint64_t index, bool last) {
  SIGIL_CHECK(index < kMaxChunkCount);
  ChunkNonceBytes n{};
  for (int b = 0; b < 8; ++b) n[10 - b] = static_cast<std::uint8_t>(index >> (8 * b));
  n[11] = last ? 1 : 0;
  return n;
}

Result<ChunkCipher> ChunkCipher::Create(const SecretBytes& chunk_key, ByteSpan aad, Direction dir) {
  if (chunk_key.size() != 32) return Fail(Code::kInvalidArgument, "chunk key must be 32 bytes");
  if (aad.size() > INT_MAX) return Fail(Code::kInvalidArgument, "AAD too large");
  EvpCipherPtr cipher(EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr));
  if (!cipher) return OpenSslError(Code::kInternal, "EVP_CIPHER_fetch(AES-256-GCM)");
  EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return OpenSslError(Code::kInternal, "EVP_CIPHER_CTX_new");
  int enc = dir == Direction::kEncrypt ? 1 : 0;
  if (EVP_CipherInit_ex(ctx.get(), cipher.get(), nullptr, chunk_key.Reveal(SecretAccess::Get()).data(),
                        nullptr, enc) != 1) {
    return OpenSslError(Code::kInternal, "AES-256-GCM key setup");
  }
  return ChunkCipher(std::move(ctx), aad);
}

Result<void> ChunkCipher::Begin(std::uint64_t index, bool last) {
  ChunkNonceBytes nonce = ChunkNonce(index, last);
  // Cipher and key stay; only the IV (the default 12 bytes for GCM) is set.
  if (EVP_CipherInit_ex(ctx_.get(), nullptr, nullptr, nullptr, nonce.data(), -1) != 1) {
    return OpenSslError(Code::kInternal, "AES-256-GCM nonce setup");
  }
  int len = 0;
  if (!aad_.empty() &&
      EVP_CipherUpdate(ctx_.get(), nullptr, &len, aad_.data(), static_cast<int>(aad_.size())) != 1) {
    return OpenSslError(Code::kInternal, "AES-256-GCM aad");
  }
  return Ok();
}

Result<void> ChunkCipher::Update(std::uint8_t* data, std::size_t n) {
  if (n == 0) return Ok();
  if (n > INT_MAX) return Fail(Code::kInternal, "AES-256-GCM update too large");
  int len = 0;
  if (EVP_CipherUpdate(ctx_.get(), data, &len, data, static_cast<int>(n)) != 1 ||
      static_cast<std::size_t>(len) != n) {
    return OpenSslError(Code::kInternal, "AES-256-GCM update");
  }
  return Ok();
}

Result<void> ChunkCipher::FinishEncrypt(ChunkTag& tag) {
  int len = 0;
  std::uint8_t none[16];
  if (EVP_CipherFinal_ex(ctx_.get(), none, &len) != 1) return OpenSslError(Code::kInternal, "AES-256-GCM final");
  if (EVP_CIPHER_CTX_ctrl(ctx_.get(), EVP_CTRL_AEAD_GET_TAG, kTagSize, tag.data()) != 1) {
    return OpenSslError(Code::kInternal, "AES-256-GCM get tag");
  }
  return Ok();
}

Result<void> ChunkCipher::FinishDecrypt(const ChunkTag& tag) {
  if (EVP_CIPHER_CTX_ctrl(ctx_.get(), EVP_CTRL_AEAD_SET_TAG, kTagSize, const_cast<std::uint8_t*>(tag.data())) != 1) {
    return OpenSslError(Code::kInternal, "AES-256-GCM set tag");
  }
  int len = 0;
  std::uint8_t none[16];
  if (EVP_CipherFinal_ex(ctx_.get(), none, &len) != 1) {
    (void)OpenSslError(Code::kVerificationFailed, "");  // leave the queue empty
    return Fail(Code::kVerificationFailed, "authentication tag mismatch");
  }
  return Ok();
}

}  // namespace sigil::loader
