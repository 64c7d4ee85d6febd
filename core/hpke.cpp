// HPKE key schedule (RFC 9180 5.1), encryption context (5.2, 5.3) and single-shot API (6.1).
// The KEM is in core/hpke_kem.cpp, the DH groups in core/hpke_dh.cpp. Contracts in core/hpke.h.
#include "core/hpke.h"

#include <limits>
#include <string>

#include "core/hpke_internal.h"

namespace sigil::hpke {

struct ContextAccess {
  static void MakeSender(Context& context) { context.role_ = Context::Role::kSender; }
  static void MakeRecipient(Context& context) { context.role_ = Context::Role::kRecipient; }
};

namespace {

// RFC 9180 5.1.2 and 5.1.4: "The PSK MUST have at least 32 bytes of entropy". Length is what we
// can check.
constexpr std::size_t kMinPskSize = 32;

Result<HkdfHash> KdfOf(Kdf kdf) {
  switch (kdf) {
    case Kdf::kHkdfSha256:
      return HkdfHash::kSha256;
    case Kdf::kHkdfSha384:
      return HkdfHash::kSha384;
    case Kdf::kHkdfSha512:
      return HkdfHash::kSha512;
  }
  return Fail(Code::kInvalidArgument,
              "HPKE: unsupported kdf_id " + std::to_string(static_cast<unsigned>(kdf)));
}

// The AEAD of `aead`; export-only (0xFFFF, RFC 9180 7.3) has none.
Result<AeadAlg> AeadOf(Aead aead) {
  switch (aead) {
    case Aead::kAes128Gcm:
      return AeadAlg::kAes128Gcm;
    case Aead::kAes256Gcm:
      return AeadAlg::kAes256Gcm;
    case Aead::kChaCha20Poly1305:
      return AeadAlg::kChaCha20Poly1305;
    case Aead::kExportOnly:
      return Fail(Code::kInvalidArgument,
                  "HPKE: export-only suite (aead_id 0xFFFF) cannot Seal or Open");
  }
  return Fail(Code::kInvalidArgument,
              "HPKE: unsupported aead_id " + std::to_string(static_cast<unsigned>(aead)));
}

Result<void> CheckSuite(Suite suite) {
  SIGIL_RETURN_IF_ERROR(internal::GetKemParams(suite.kem));
  SIGIL_RETURN_IF_ERROR(KdfOf(suite.kdf));
  if (suite.aead != Aead::kExportOnly) SIGIL_RETURN_IF_ERROR(AeadOf(suite.aead));
  return Ok();
}

bool IsPskMode(Mode mode) { return mode == Mode::kPsk || mode == Mode::kAuthPsk; }
bool IsAuthMode(Mode mode) { return mode == Mode::kAuth || mode == Mode::kAuthPsk; }

// RFC 9180 5.1 VerifyPSKInputs, plus the mode range and the PSK length of 5.1.2.
Result<void> VerifyPskInputs(Mode mode, const SetupOptions& options) {
  if (static_cast<unsigned>(mode) > static_cast<unsigned>(Mode::kAuthPsk)) {
    return Fail(Code::kInvalidArgument,
                "HPKE: unknown mode " + std::to_string(static_cast<unsigned>(mode)));
  }
  bool got_psk = options.psk != nullptr && !options.psk->empty();
  bool got_psk_id = !options.psk_id.empty();
  if (got_psk != got_psk_id) {
    return Fail(Code::kInvalidArgument,
                "HPKE: inconsistent PSK inputs (psk and psk_id go together)");
  }
  if (got_psk && !IsPskMode(mode)) {
    return Fail(Code::kInvalidArgument, "HPKE: PSK input provided when not needed");
  }
  if (!got_psk && IsPskMode(mode)) {
    return Fail(Code::kInvalidArgument, "HPKE: missing required PSK input");
  }
  if (got_psk && options.psk->size() < kMinPskSize) {
    return Fail(Code::kInvalidArgument, "HPKE: PSK shorter than 32 bytes (RFC 9180 5.1.2)");
  }
  return Ok();
}

// The sender's key is an input exactly in the auth modes (RFC 9180 5.1.3, 5.1.4).
Result<void> VerifyAuthInputs(Mode mode, bool got_sender_key, std::string_view field) {
  if (got_sender_key && !IsAuthMode(mode)) {
    return Fail(Code::kInvalidArgument,
                "HPKE: " + std::string(field) + " provided when not needed");
  }
  if (!got_sender_key && IsAuthMode(mode)) {
    return Fail(Code::kInvalidArgument, "HPKE: auth mode requires " + std::string(field));
  }
  return Ok();
}

// RFC 9180 5.1 KeySchedule<ROLE>(mode, shared_secret, info, psk, psk_id).
Result<Context> KeySchedule(Suite suite, Mode mode, const SecretBytes& shared_secret, ByteSpan info,
                            const SetupOptions& options) {
  SIGIL_RETURN_IF_ERROR(CheckSuite(suite));
  SIGIL_RETURN_IF_ERROR(VerifyPskInputs(mode, options));
  SIGIL_ASSIGN_OR_RETURN(HkdfHash kdf, KdfOf(suite.kdf));
  ByteSpan psk = options.psk != nullptr ? options.psk->Reveal(SecretAccess::Get()) : ByteSpan{};
  SIGIL_ASSIGN_OR_RETURN(Bytes context,
                         internal::KeyScheduleContext(suite, mode, options.psk_id, info));
  SIGIL_ASSIGN_OR_RETURN(SecretBytes secret,
                         internal::KeyScheduleSecret(suite, shared_secret, psk));
  ByteSpan prk = secret.Reveal(SecretAccess::Get());
  Bytes suite_id = internal::HpkeSuiteId(suite);
  SecretBytes key;
  Bytes base_nonce;
  if (suite.aead != Aead::kExportOnly) {  // 5.3: export-only needs neither key nor base_nonce
    SIGIL_ASSIGN_OR_RETURN(AeadAlg alg, AeadOf(suite.aead));
    SIGIL_ASSIGN_OR_RETURN(
        key, internal::LabeledExpand(kdf, suite_id, prk, "key", context, AeadKeySize(alg)));
    SIGIL_ASSIGN_OR_RETURN(
        SecretBytes nonce,
        internal::LabeledExpand(kdf, suite_id, prk, "base_nonce", context, kAeadNonceSize));
    ByteSpan nonce_bytes = nonce.Reveal(SecretAccess::Get());
    base_nonce.assign(nonce_bytes.begin(), nonce_bytes.end());  // a nonce, not a secret
  }
  SIGIL_ASSIGN_OR_RETURN(
      SecretBytes exporter_secret,
      internal::LabeledExpand(kdf, suite_id, prk, "exp", context, HkdfHashSize(kdf)));
  return Context(suite, std::move(key), std::move(base_nonce), std::move(exporter_secret));
}

}  // namespace

namespace internal {

Bytes HpkeSuiteId(Suite suite) {
  Bytes out = ToBytes("HPKE");
  AppendU16(out, static_cast<std::uint16_t>(suite.kem));
  AppendU16(out, static_cast<std::uint16_t>(suite.kdf));
  AppendU16(out, static_cast<std::uint16_t>(suite.aead));
  return out;
}

Result<Bytes> KeyScheduleContext(Suite suite, Mode mode, ByteSpan psk_id, ByteSpan info) {
  SIGIL_ASSIGN_OR_RETURN(HkdfHash kdf, KdfOf(suite.kdf));
  Bytes suite_id = HpkeSuiteId(suite);
  SIGIL_ASSIGN_OR_RETURN(SecretBytes psk_id_hash,
                         LabeledExtract(kdf, suite_id, {}, "psk_id_hash", psk_id));
  SIGIL_ASSIGN_OR_RETURN(SecretBytes info_hash,
                         LabeledExtract(kdf, suite_id, {}, "info_hash", info));
  Bytes out{static_cast<std::uint8_t>(mode)};
  for (const SecretBytes* part : {&psk_id_hash, &info_hash}) {
    ByteSpan bytes = part->Reveal(SecretAccess::Get());  // hashes of public inputs
    out.insert(out.end(), bytes.begin(), bytes.end());
  }
  return out;
}

Result<SecretBytes> KeyScheduleSecret(Suite suite, const SecretBytes& shared_secret, ByteSpan psk) {
  SIGIL_ASSIGN_OR_RETURN(HkdfHash kdf, KdfOf(suite.kdf));
  return LabeledExtract(kdf, HpkeSuiteId(suite), shared_secret.Reveal(SecretAccess::Get()),
                        "secret", psk);
}

}  // namespace internal

Context::Context(Suite suite, SecretBytes key, Bytes base_nonce, SecretBytes exporter_secret)
    : suite_(suite),
      key_(std::move(key)),
      base_nonce_(std::move(base_nonce)),
      exporter_secret_(std::move(exporter_secret)) {}

Result<AeadAlg> Context::CheckUse(Role role) const {
  if (role_ != Role::kAny && role_ != role) {
    return Fail(Code::kInvalidArgument, role == Role::kSender
                                            ? "HPKE: a recipient context cannot Seal (RFC 9180 5.2)"
                                            : "HPKE: a sender context cannot Open (RFC 9180 5.2)");
  }
  return AeadOf(suite_.aead);
}

Result<Bytes> Context::NextNonce() {
  // 5.2 IncrementSeq: the sequence number must never wrap. Ours is 64 bits, shorter than Nn, so
  // its last value is never used (the message after it could not increment).
  if (seq_ == std::numeric_limits<std::uint64_t>::max()) {
    return Fail(Code::kInvalidArgument, "HPKE: message limit reached (RFC 9180 5.2)");
  }
  if (base_nonce_.size() != kAeadNonceSize) {
    return Fail(Code::kInternal, "HPKE: context has no base nonce");
  }
  Bytes nonce = base_nonce_;  // ComputeNonce: base_nonce XOR I2OSP(seq, Nn)
  for (std::size_t i = 0; i < sizeof(seq_); ++i) {
    nonce[nonce.size() - 1 - i] ^= static_cast<std::uint8_t>(seq_ >> (8 * i));
  }
  return nonce;
}

Result<Bytes> Context::Seal(ByteSpan aad, ByteSpan plaintext) {
  SIGIL_ASSIGN_OR_RETURN(AeadAlg alg, CheckUse(Role::kSender));
  SIGIL_ASSIGN_OR_RETURN(Bytes nonce, NextNonce());
  SIGIL_ASSIGN_OR_RETURN(Bytes ct,
                         AeadSeal(alg, key_.Reveal(SecretAccess::Get()), nonce, aad, plaintext));
  ++seq_;
  return ct;
}

Result<Bytes> Context::Open(ByteSpan aad, ByteSpan ciphertext) {
  SIGIL_ASSIGN_OR_RETURN(AeadAlg alg, CheckUse(Role::kRecipient));
  SIGIL_ASSIGN_OR_RETURN(Bytes nonce, NextNonce());
  SIGIL_ASSIGN_OR_RETURN(Bytes pt,
                         AeadOpen(alg, key_.Reveal(SecretAccess::Get()), nonce, aad, ciphertext));
  ++seq_;  // only after a successful Open (5.2 ContextR.Open)
  return pt;
}

Result<SecretBytes> Context::OpenSecret(ByteSpan aad, ByteSpan ciphertext) {
  SIGIL_ASSIGN_OR_RETURN(AeadAlg alg, CheckUse(Role::kRecipient));
  SIGIL_ASSIGN_OR_RETURN(Bytes nonce, NextNonce());
  SIGIL_ASSIGN_OR_RETURN(SecretBytes pt, AeadOpenSecret(alg, key_.Reveal(SecretAccess::Get()),
                                                        nonce, aad, ciphertext));
  ++seq_;
  return pt;
}

Result<SecretBytes> Context::Export(ByteSpan exporter_context, std::size_t length) const {
  SIGIL_ASSIGN_OR_RETURN(HkdfHash kdf, KdfOf(suite_.kdf));
  return internal::LabeledExpand(kdf, internal::HpkeSuiteId(suite_),
                                 exporter_secret_.Reveal(SecretAccess::Get()), "sec",
                                 exporter_context, length);
}

std::span<const std::uint8_t> Context::KeyForTest() const {
  return key_.Reveal(SecretAccess::Get());
}
std::span<const std::uint8_t> Context::BaseNonceForTest() const { return base_nonce_; }
std::span<const std::uint8_t> Context::ExporterSecretForTest() const {
  return exporter_secret_.Reveal(SecretAccess::Get());
}

Result<SenderSetup> SetupSender(Suite suite, Mode mode, ByteSpan recipient_public_key,
                                ByteSpan info, const SetupOptions& options) {
  // Check every input before any KEM work.
  SIGIL_RETURN_IF_ERROR(CheckSuite(suite));
  SIGIL_RETURN_IF_ERROR(VerifyPskInputs(mode, options));
  SIGIL_RETURN_IF_ERROR(
      VerifyAuthInputs(mode, options.sender_private_key != nullptr, "sender_private_key"));
  const KeyPair* ephemeral = options.fixed_ephemeral_ForTest;
  Result<internal::Encapsulation> encap =
      IsAuthMode(mode) ? internal::AuthEncap(suite.kem, recipient_public_key,
                                             *options.sender_private_key, ephemeral)
                       : internal::Encap(suite.kem, recipient_public_key, ephemeral);
  if (!encap) return std::move(encap).error();
  SIGIL_ASSIGN_OR_RETURN(Context context,
                         KeySchedule(suite, mode, encap->shared_secret, info, options));
  ContextAccess::MakeSender(context);
  return SenderSetup{std::move(encap->enc), std::move(context)};
}

Result<Context> SetupRecipient(Suite suite, Mode mode, ByteSpan enc,
                               const SecretBytes& recipient_private_key, ByteSpan info,
                               const SetupOptions& options) {
  SIGIL_RETURN_IF_ERROR(CheckSuite(suite));
  SIGIL_RETURN_IF_ERROR(VerifyPskInputs(mode, options));
  SIGIL_RETURN_IF_ERROR(
      VerifyAuthInputs(mode, !options.sender_public_key.empty(), "sender_public_key"));
  Result<SecretBytes> shared_secret =
      IsAuthMode(mode)
          ? internal::AuthDecap(suite.kem, enc, recipient_private_key, options.sender_public_key)
          : internal::Decap(suite.kem, enc, recipient_private_key);
  if (!shared_secret) return std::move(shared_secret).error();
  SIGIL_ASSIGN_OR_RETURN(Context context, KeySchedule(suite, mode, *shared_secret, info, options));
  ContextAccess::MakeRecipient(context);
  return context;
}

Result<Sealed> Seal(Suite suite, ByteSpan recipient_public_key, ByteSpan info, ByteSpan aad,
                    ByteSpan plaintext) {
  SIGIL_ASSIGN_OR_RETURN(SenderSetup setup,
                         SetupSender(suite, Mode::kBase, recipient_public_key, info));
  SIGIL_ASSIGN_OR_RETURN(Bytes ciphertext, setup.context.Seal(aad, plaintext));
  return Sealed{std::move(setup.enc), std::move(ciphertext)};
}

Result<Bytes> Open(Suite suite, ByteSpan enc, const SecretBytes& recipient_private_key,
                   ByteSpan info, ByteSpan aad, ByteSpan ciphertext) {
  SIGIL_ASSIGN_OR_RETURN(Context context,
                         SetupRecipient(suite, Mode::kBase, enc, recipient_private_key, info));
  return context.Open(aad, ciphertext);
}

Result<SecretBytes> OpenSecret(Suite suite, ByteSpan enc, const SecretBytes& recipient_private_key,
                               ByteSpan info, ByteSpan aad, ByteSpan ciphertext) {
  SIGIL_ASSIGN_OR_RETURN(Context context,
                         SetupRecipient(suite, Mode::kBase, enc, recipient_private_key, info));
  return context.OpenSecret(aad, ciphertext);
}

}  // namespace sigil::hpke
