#include "core/ed25519.h"

#include <sodium.h>

namespace sigil {

Result<Ed25519KeyPair> Ed25519FromSeed(ByteSpan seed) {
  EnsureSodium();
  if (seed.size() != kEd25519SeedSize) return Fail(Code::kInvalidArgument, "Ed25519 seed must be 32 bytes");
  SIGIL_ASSIGN_OR_RETURN(SecretBytes sk, SecretBytes::Allocate(crypto_sign_SECRETKEYBYTES));
  Bytes pk(crypto_sign_PUBLICKEYBYTES);
  crypto_sign_seed_keypair(pk.data(), sk.RevealMutable(SecretAccess::Get()).data(), seed.data());
  SIGIL_ASSIGN_OR_RETURN(SecretBytes s, SecretBytes::CopyFrom(seed));
  return Ed25519KeyPair{std::move(s), std::move(pk)};
}

Result<Ed25519KeyPair> Ed25519Generate() {
  SIGIL_ASSIGN_OR_RETURN(SecretBytes seed, SecretBytes::Random(kEd25519SeedSize));
  return Ed25519FromSeed(seed.Reveal(SecretAccess::Get()));
}

Result<Bytes> Ed25519Sign(const SecretBytes& seed, ByteSpan message) {
  EnsureSodium();
  if (seed.size() != kEd25519SeedSize) return Fail(Code::kInvalidArgument, "Ed25519 seed must be 32 bytes");
  SIGIL_ASSIGN_OR_RETURN(SecretBytes sk, SecretBytes::Allocate(crypto_sign_SECRETKEYBYTES));
  Bytes pk(crypto_sign_PUBLICKEYBYTES);
  crypto_sign_seed_keypair(pk.data(), sk.RevealMutable(SecretAccess::Get()).data(),
                           seed.Reveal(SecretAccess::Get()).data());
  Bytes sig(crypto_sign_BYTES);
  crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), sk.Reveal(SecretAccess::Get()).data());
  return sig;
}

Result<Ed25519Signer> Ed25519Signer::FromSeed(ByteSpan seed) {
  EnsureSodium();
  if (seed.size() != kEd25519SeedSize) return Fail(Code::kInvalidArgument, "Ed25519 seed must be 32 bytes");
  SIGIL_ASSIGN_OR_RETURN(SecretBytes sk, SecretBytes::Allocate(crypto_sign_SECRETKEYBYTES));
  Bytes pk(crypto_sign_PUBLICKEYBYTES);
  crypto_sign_seed_keypair(pk.data(), sk.RevealMutable(SecretAccess::Get()).data(), seed.data());
  return Ed25519Signer(std::move(sk), std::move(pk));
}

Bytes Ed25519Signer::Sign(ByteSpan message) const {
  Bytes sig(crypto_sign_BYTES);
  crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(),
                       secret_key_.Reveal(SecretAccess::Get()).data());
  return sig;
}

Result<void> Ed25519Verify(ByteSpan public_key, ByteSpan message, ByteSpan signature) {
  EnsureSodium();
  if (public_key.size() != kEd25519PublicKeySize) return Fail(Code::kInvalidArgument, "Ed25519 public key must be 32 bytes");
  if (signature.size() != kEd25519SignatureSize) return Fail(Code::kVerificationFailed, "Ed25519 signature must be 64 bytes");
  if (crypto_sign_verify_detached(signature.data(), message.data(), message.size(), public_key.data()) != 0) {
    return Fail(Code::kVerificationFailed, "Ed25519 signature does not verify");
  }
  return Ok();
}

}  // namespace sigil
