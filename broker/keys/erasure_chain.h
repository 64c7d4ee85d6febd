// The erasure chain: what makes destroying a key version a crypto-shred even against copies of
// the store taken before it (docs/architecture.md "Destroying a key version").
//
// Tenant KEKs are wrapped under W_n = HKDF-SHA256(salt "sigil erasure chain", IKM root || S_n,
// info "sigil/v1/kek-wrap/<n>"), where S_n is a 32-byte secret every broker keeps outside the
// store (DATA/shred.key, wrapped by the root key). A destruction moves the fleet to epoch n+1:
// S_{n+1} = HKDF-Expand(S_n, "sigil/v1/erasure-chain/next"), every KEK is re-wrapped under
// W_{n+1} (the destroyed key's tenant gets a fresh KEK) and S_n is forgotten. Whoever holds S_n
// can step forward, nobody can step back, so an older copy of the store, whose KEKs are under
// W_n, no longer opens with anything the brokers keep.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/result.h"
#include "core/secret_bytes.h"

namespace sigil::broker {

class ErasureChain {
 public:
  // A new chain at epoch 0 with a random S_0.
  static Result<ErasureChain> Fresh();
  // DATA/shred.key: epoch (8 bytes, big-endian) || S_n wrapped by the root key (key_wrap.h)
  // with the epoch in its identity. kVerificationFailed for another root key or an edited file.
  static Result<ErasureChain> Load(const std::string& path, const SecretBytes& root);
  // Replaces the file atomically (0600, fsynced with its directory).
  Result<void> Save(const std::string& path, const SecretBytes& root) const;

  std::uint64_t epoch() const { return epoch_; }
  Result<ErasureChain> Clone() const;
  // The chain moved forward to `epoch`; kVerificationFailed if `epoch` is behind this one (a
  // step back is what the chain exists to make impossible).
  Result<ErasureChain> AdvancedTo(std::uint64_t epoch) const;

  // W_n, the key tenant KEKs are wrapped under at this epoch.
  Result<SecretBytes> WrappingKey(const SecretBytes& root) const;
  // The store's record of the fleet's epoch (meta "erasure.epoch"): epoch (8 bytes, big-endian)
  // || HMAC-SHA256(W_n, "sigil/v1/erasure-chain/check"). A broker checks its chain against it
  // before using or advancing it, so a writer of the store, who cannot compute the record for a
  // later epoch, cannot push brokers forward and make every key unreadable.
  Result<Bytes> Record(const SecretBytes& root) const;
  static Result<std::uint64_t> RecordEpoch(ByteSpan record);

  // The copy `sigild join` reads from the store (meta "erasure_chain.shared"): epoch (8 bytes)
  // || S_n in the root key's passphrase format (Argon2id, root_key.h).
  Result<Bytes> EncodeShare(const SecretBytes& passphrase) const;
  static Result<ErasureChain> DecodeShare(ByteSpan share, const SecretBytes& passphrase);

 private:
  ErasureChain(std::uint64_t epoch, SecretBytes secret) : epoch_(epoch), secret_(std::move(secret)) {}
  std::uint64_t epoch_ = 0;
  SecretBytes secret_;
};

// Tenant KEKs at rest: epoch (8 bytes, big-endian) || WrapKey(W_epoch, KEK, identity "<tenant KEK
// identity>@<epoch>"). Stores written before the chain hold 60-byte blobs under the root key
// alone (LegacyTenantKek); the broker re-wraps them once, at start.
inline constexpr std::size_t kLegacyWrappedKekSize = 60;
Result<Bytes> WrapTenantKek(const SecretBytes& wrapping_key, std::uint64_t epoch, const SecretBytes& kek,
                            std::string_view tenant);
// The epoch a wrapped KEK was made at; kInvalidArgument for a legacy or malformed blob.
Result<std::uint64_t> WrappedKekEpoch(ByteSpan blob);
Result<SecretBytes> UnwrapTenantKek(const SecretBytes& wrapping_key, ByteSpan blob, std::string_view tenant);

}  // namespace sigil::broker
