// HPKE (RFC 9180) composed from OpenSSL 3.0 primitives (X25519 / P-256 ECDH, HKDF, AEAD).
// Base, PSK, Auth and AuthPSK modes; checked against RFC 9180 Appendix A test vectors.
// Sigil's own suite is DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / AES-256-GCM (kSigilSuite).
// Thread-safety: free functions are thread-safe; a context object is not.
#pragma once

#include <cstdint>
#include <optional>

#include "core/aead.h"
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

// A fresh key pair: DeriveKeyPair(random(Nsk)), as RFC 9180 section 4 allows. Fails with
// kInvalidArgument for an unsupported KEM, kUnavailable if locked memory runs out.
Result<KeyPair> GenerateKeyPair(Kem kem);
// RFC 9180 7.1.3 DeriveKeyPair (X25519: LabeledExpand "sk"; P-256: rejection sampling over
// "candidate" with counter 0..255). `ikm` must be at least Nsk (32) bytes, else kInvalidArgument.
// X25519 private keys are returned unclamped, as in RFC 9180 Appendix A.
Result<KeyPair> DeriveKeyPair(Kem kem, ByteSpan ikm);
// pk(sk) in SerializePublicKey form. kInvalidArgument if the key has the wrong size or (P-256)
// is not in [1, order-1].
Result<Bytes> PublicKeyFromPrivate(Kem kem, const SecretBytes& private_key);
// Validates a peer public key before it is stored or bound (RFC 9180 7.1.4): the length Npk;
// P-256: an uncompressed point on the curve; X25519: canonical (u < 2^255 - 19) and not of small
// order (RFC 7748 section 6.1, DH with it would be all-zero). kInvalidArgument naming the defect.
// Setup does the checks it needs itself; this is for keys that arrive in requests or JWKs.
Result<void> ValidatePublicKey(Kem kem, ByteSpan public_key);

// Optional inputs for the non-base modes, and a fixed ephemeral (test vectors only).
struct SetupOptions {
  const SecretBytes* psk = nullptr;                 // PSK modes
  ByteSpan psk_id;                                  // PSK modes
  const SecretBytes* sender_private_key = nullptr;  // Auth modes (sender side)
  ByteSpan sender_public_key;                       // Auth modes (recipient side)
  // Encap with this ephemeral instead of a fresh one (RFC 9180 Appendix A vectors only).
  const KeyPair* fixed_ephemeral_ForTest = nullptr;
};

struct ContextAccess;  // lets SetupSender/SetupRecipient fix a context's role (core/hpke.cpp)

// An HPKE encryption context (RFC 9180 5.2, 5.3). Contexts made by SetupSender only Seal and those
// made by SetupRecipient only Open (5.2: "The sender's context MUST NOT be used for decryption");
// a context built with the public constructor does both. Not thread-safe; movable, not copyable.
class Context {
 public:
  // Seal/Open at the context's current sequence number, then increment it (RFC 9180 5.2).
  // Failures: kInvalidArgument for an export-only suite (aead_id 0xFFFF), the wrong role, or a
  // sequence number that would overflow (MessageLimitReachedError); Open also
  // kVerificationFailed when the tag does not verify, in which case the sequence number is kept.
  Result<Bytes> Seal(ByteSpan aad, ByteSpan plaintext);
  Result<Bytes> Open(ByteSpan aad, ByteSpan ciphertext);
  Result<SecretBytes> OpenSecret(ByteSpan aad, ByteSpan ciphertext);
  // RFC 9180 5.3: LabeledExpand(exporter_secret, "sec", exporter_context, L). Works for every
  // suite, export-only included. kInvalidArgument if length > 255 * Nh.
  Result<SecretBytes> Export(ByteSpan exporter_context, std::size_t length) const;
  Suite suite() const { return suite_; }
  // Key-schedule values, exposed for test-vector checks.
  std::span<const std::uint8_t> KeyForTest() const;
  std::span<const std::uint8_t> BaseNonceForTest() const;
  std::span<const std::uint8_t> ExporterSecretForTest() const;
  void SetSequenceForTest(std::uint64_t seq) { seq_ = seq; }

  Context(Suite suite, SecretBytes key, Bytes base_nonce, SecretBytes exporter_secret);

 private:
  friend struct ContextAccess;
  enum class Role : std::uint8_t { kAny, kSender, kRecipient };
  // The AEAD for an operation that `role` may do; fails as Seal/Open document.
  Result<AeadAlg> CheckUse(Role role) const;
  Result<Bytes> NextNonce();  // base_nonce XOR I2OSP(seq, Nn); does not advance seq
  Suite suite_;
  Role role_ = Role::kAny;
  SecretBytes key_;
  Bytes base_nonce_;
  SecretBytes exporter_secret_;
  std::uint64_t seq_ = 0;
};

struct SenderSetup {
  Bytes enc;
  Context context;
};

// SetupBaseS/SetupPSKS/SetupAuthS/SetupAuthPSKS (RFC 9180 5.1). `options` must match `mode`:
// psk and psk_id together exactly in the PSK modes (VerifyPSKInputs; the PSK must be at least 32
// bytes, 5.1.2), sender_private_key exactly in the auth modes. Failures: kInvalidArgument for an
// unsupported suite, mismatched options, or a bad recipient or sender key (including an X25519
// key of small order).
Result<SenderSetup> SetupSender(Suite suite, Mode mode, ByteSpan recipient_public_key,
                                ByteSpan info, const SetupOptions& options = {});
// SetupBaseR/.../SetupAuthPSKR (RFC 9180 5.1); options as for SetupSender, with
// sender_public_key in the auth modes. An `enc` of the wrong length fails with kInvalidArgument;
// one that is not a valid public key (or is of small order) with kVerificationFailed. A wrong
// info, PSK or sender key is only detected by the first Open (kVerificationFailed).
Result<Context> SetupRecipient(Suite suite, Mode mode, ByteSpan enc,
                               const SecretBytes& recipient_private_key, ByteSpan info,
                               const SetupOptions& options = {});

// Single-shot base mode (RFC 9180 6.1): setup, then one Seal/Open at sequence number 0. Open
// fails with kVerificationFailed if enc, ciphertext, aad or info were altered.
struct Sealed {
  Bytes enc;
  Bytes ciphertext;
};
Result<Sealed> Seal(Suite suite, ByteSpan recipient_public_key, ByteSpan info, ByteSpan aad,
                    ByteSpan plaintext);
Result<Bytes> Open(Suite suite, ByteSpan enc, const SecretBytes& recipient_private_key,
                   ByteSpan info, ByteSpan aad, ByteSpan ciphertext);
// As Open, but the plaintext (a key) lands in locked memory.
Result<SecretBytes> OpenSecret(Suite suite, ByteSpan enc, const SecretBytes& recipient_private_key,
                               ByteSpan info, ByteSpan aad, ByteSpan ciphertext);

}  // namespace sigil::hpke
