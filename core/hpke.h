// HPKE (RFC 9180) composed from OpenSSL 3.0 primitives (X25519 / P-256 ECDH, HKDF, AEAD).
// Base, PSK, Auth and AuthPSK modes; checked against RFC 9180 Appendix A test vectors.
// Sigil's own suite is DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / AES-256-GCM (kSigilSuite).
// Thread-safety: free functions are thread-safe; a context object is not.
#pragma once

#include <cstdint>
#include <optional>

#include "core/bytes.h"
#include "core/result.h"
#include "core/secret_bytes.h"

namespace sigil::hpke {

enum class Kem : std::uint16_t { kP256HkdfSha256 = 0x0010, kX25519HkdfSha256 = 0x0020 };
enum class Kdf : std::uint16_t { kHkdfSha256 = 0x0001, kHkdfSha384 = 0x0002, kHkdfSha512 = 0x0003 };
enum class Aead : std::uint16_t {
  kAes128Gcm = 0x0001, kAes256Gcm = 0x0002, kChaCha20Poly1305 = 0x0003, kExportOnly = 0xFFFF };
enum class Mode : std::uint8_t { kBase = 0, kPsk = 1, kAuth = 2, kAuthPsk = 3 };

struct Suite {
  Kem kem;
  Kdf kdf;
  Aead aead;
};
inline constexpr Suite kSigilSuite{Kem::kX25519HkdfSha256, Kdf::kHkdfSha256, Aead::kAes256Gcm};

struct KeyPair {
  SecretBytes private_key;  // X25519: 32 bytes; P-256: 32-byte scalar
  Bytes public_key;         // SerializePublicKey form (X25519: 32 bytes; P-256: 65 uncompressed)
};

Result<KeyPair> GenerateKeyPair(Kem kem);
// RFC 9180 7.1.3 DeriveKeyPair.
Result<KeyPair> DeriveKeyPair(Kem kem, ByteSpan ikm);
Result<Bytes> PublicKeyFromPrivate(Kem kem, const SecretBytes& private_key);

// Optional inputs for the non-base modes, and a fixed ephemeral (test vectors only).
struct SetupOptions {
  const SecretBytes* psk = nullptr;     // PSK modes
  ByteSpan psk_id;                      // PSK modes
  const SecretBytes* sender_private_key = nullptr;  // Auth modes (sender side)
  ByteSpan sender_public_key;           // Auth modes (recipient side)
  const KeyPair* fixed_ephemeral_ForTest = nullptr;  // Encap with this ephemeral instead of a fresh one
};

class Context {
 public:
  // Seal/Open at the context's current sequence number, then increment it (RFC 9180 5.2).
  Result<Bytes> Seal(ByteSpan aad, ByteSpan plaintext);
  Result<Bytes> Open(ByteSpan aad, ByteSpan ciphertext);
  Result<SecretBytes> OpenSecret(ByteSpan aad, ByteSpan ciphertext);
  Result<SecretBytes> Export(ByteSpan exporter_context, std::size_t length) const;
  // Key-schedule values, exposed for test-vector checks.
  std::span<const std::uint8_t> KeyForTest() const;
  std::span<const std::uint8_t> BaseNonceForTest() const;
  std::span<const std::uint8_t> ExporterSecretForTest() const;
  void SetSequenceForTest(std::uint64_t seq) { seq_ = seq; }

  Context(Suite suite, SecretBytes key, Bytes base_nonce, SecretBytes exporter_secret);

 private:
  Result<Bytes> NextNonce();
  Suite suite_;
  SecretBytes key_;
  Bytes base_nonce_;
  SecretBytes exporter_secret_;
  std::uint64_t seq_ = 0;
};

struct SenderSetup {
  Bytes enc;
  Context context;
};

Result<SenderSetup> SetupSender(Suite suite, Mode mode, ByteSpan recipient_public_key, ByteSpan info,
                                const SetupOptions& options = {});
Result<Context> SetupRecipient(Suite suite, Mode mode, ByteSpan enc, const SecretBytes& recipient_private_key,
                               ByteSpan info, const SetupOptions& options = {});

// Single-shot base mode (RFC 9180 6.1).
struct Sealed {
  Bytes enc;
  Bytes ciphertext;
};
Result<Sealed> Seal(Suite suite, ByteSpan recipient_public_key, ByteSpan info, ByteSpan aad, ByteSpan plaintext);
Result<Bytes> Open(Suite suite, ByteSpan enc, const SecretBytes& recipient_private_key, ByteSpan info,
                   ByteSpan aad, ByteSpan ciphertext);
// As Open, but the plaintext (a key) lands in locked memory.
Result<SecretBytes> OpenSecret(Suite suite, ByteSpan enc, const SecretBytes& recipient_private_key,
                               ByteSpan info, ByteSpan aad, ByteSpan ciphertext);

}  // namespace sigil::hpke
