#include "core/aead.h"

#include <openssl/evp.h>

#include "core/ossl.h"

namespace sigil {
namespace {

const EVP_CIPHER* Cipher(AeadAlg alg) {
  switch (alg) {
    case AeadAlg::kAes128Gcm: return EVP_aes_128_gcm();
    case AeadAlg::kAes256Gcm: return EVP_aes_256_gcm();
    case AeadAlg::kChaCha20Poly1305: return EVP_chacha20_poly1305();
  }
  return nullptr;
}

Result<EvpCipherCtxPtr> Init(AeadAlg alg, ByteSpan key, ByteSpan nonce, bool encrypt) {
  if (key.size() != AeadKeySize(alg)) return Fail(Code::kInvalidArgument, "AEAD: wrong key size");
  if (nonce.size() != kAeadNonceSize) return Fail(Code::kInvalidArgument, "AEAD: wrong nonce size");
  EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return OpenSslError(Code::kInternal, "EVP_CIPHER_CTX_new");
  if (EVP_CipherInit_ex(ctx.get(), Cipher(alg), nullptr, key.data(), nonce.data(), encrypt ? 1 : 0) != 1) {
    return OpenSslError(Code::kInternal, "AEAD init");
  }
  return ctx;
}

// Runs the cipher over `in` into `out` (same size) with `aad`.
Result<void> Update(EVP_CIPHER_CTX* ctx, ByteSpan aad, ByteSpan in, std::uint8_t* out) {
  int len = 0;
  if (!aad.empty() && EVP_CipherUpdate(ctx, nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1) {
    return OpenSslError(Code::kInternal, "AEAD aad");
  }
  if (!in.empty() && EVP_CipherUpdate(ctx, out, &len, in.data(), static_cast<int>(in.size())) != 1) {
    return OpenSslError(Code::kInternal, "AEAD update");
  }
  return Ok();
}

Result<void> OpenInto(AeadAlg alg, ByteSpan key, ByteSpan nonce, ByteSpan aad, ByteSpan ct, std::uint8_t* out) {
  if (ct.size() < kAeadTagSize) return Fail(Code::kVerificationFailed, "AEAD: ciphertext shorter than its tag");
  SIGIL_ASSIGN_OR_RETURN(EvpCipherCtxPtr ctx, Init(alg, key, nonce, false));
  ByteSpan body = ct.first(ct.size() - kAeadTagSize);
  SIGIL_RETURN_IF_ERROR(Update(ctx.get(), aad, body, out));
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, kAeadTagSize,
                          const_cast<std::uint8_t*>(ct.data() + body.size())) != 1) {
    return OpenSslError(Code::kInternal, "AEAD set tag");
  }
  int len = 0;
  if (EVP_CipherFinal_ex(ctx.get(), out + body.size(), &len) != 1) {
    OpenSslError(Code::kVerificationFailed, "");  // drain the queue
    return Fail(Code::kVerificationFailed, "AEAD: authentication tag mismatch");
  }
  return Ok();
}

}  // namespace

std::size_t AeadKeySize(AeadAlg alg) { return alg == AeadAlg::kAes128Gcm ? 16 : 32; }

Result<Bytes> AeadSeal(AeadAlg alg, ByteSpan key, ByteSpan nonce, ByteSpan aad, ByteSpan plaintext) {
  SIGIL_ASSIGN_OR_RETURN(EvpCipherCtxPtr ctx, Init(alg, key, nonce, true));
  Bytes out(plaintext.size() + kAeadTagSize);
  SIGIL_RETURN_IF_ERROR(Update(ctx.get(), aad, plaintext, out.data()));
  int len = 0;
  if (EVP_CipherFinal_ex(ctx.get(), out.data() + plaintext.size(), &len) != 1) {
    return OpenSslError(Code::kInternal, "AEAD final");
  }
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, kAeadTagSize, out.data() + plaintext.size()) != 1) {
    return OpenSslError(Code::kInternal, "AEAD get tag");
  }
  return out;
}

Result<Bytes> AeadOpen(AeadAlg alg, ByteSpan key, ByteSpan nonce, ByteSpan aad, ByteSpan ct) {
  Bytes out(ct.size() >= kAeadTagSize ? ct.size() - kAeadTagSize : 0);
  SIGIL_RETURN_IF_ERROR(OpenInto(alg, key, nonce, aad, ct, out.data()));
  return out;
}

Result<SecretBytes> AeadOpenSecret(AeadAlg alg, ByteSpan key, ByteSpan nonce, ByteSpan aad, ByteSpan ct) {
  SIGIL_ASSIGN_OR_RETURN(SecretBytes out,
                         SecretBytes::Allocate(ct.size() >= kAeadTagSize ? ct.size() - kAeadTagSize : 0));
  std::uint8_t scratch = 0;
  auto dst = out.RevealMutable(SecretAccess::Get());
  SIGIL_RETURN_IF_ERROR(OpenInto(alg, key, nonce, aad, ct, dst.empty() ? &scratch : dst.data()));
  return out;
}

}  // namespace sigil
