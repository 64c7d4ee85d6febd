// The broker's key hierarchy behind one seam: the only code that touches the root key, tenant
// KEKs and key versions' private halves (docs/architecture.md "Keys"). The HTTP handlers ask it
// for what they need (a new tenant KEK, a new or imported key version, a checked public half,
// DEKs resealed to a TEE) and never see a KEK or a private key.
// Thread-safety: safe to share; each call works on its own copies of the secrets.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "broker/keys/erasure_chain.h"
#include "broker/store/store.h"
#include "core/secret_bytes.h"

namespace sigil::broker {

// One artifact of a release: its DEK sealed to tenant/key version (from the .sgl header).
struct SealedArtifact {
  std::string key;
  std::uint32_t version = 0;
  Bytes enc, sealed_dek;
};

// The same DEK sealed to another version of its key, as an .sgl header carries it
// (protocol::DekSealInfo): what a rewrap writes into the new container (loader/FORMAT.md).
struct HeaderSeal {
  std::uint32_t version = 0;
  Bytes enc, sealed_dek;
};

// The DEK of one artifact, sealed to the workload's TEE key (protocol::ReleaseInfo), and for a
// rewrap also to the key version it asked for.
struct ResealedDek {
  std::string artifact_id;
  Bytes enc, sealed_dek;
  std::optional<HeaderSeal> rewrap;
};

// A fresh tenant KEK as Store::CreateTenant takes it: wrapped for the current erasure epoch,
// whose record the store must still hold when it creates the tenant.
struct WrappedTenantKek {
  Bytes blob;
  Bytes erasure_epoch;
};

class KeyService {
 public:
  // `chain` is this broker's erasure chain, kept at `chain_path` (DATA/shred.key; empty: not
  // persisted, for tests); call SyncErasureChain before anything else.
  KeyService(Store& store, const SecretBytes& root_key, ErasureChain chain, std::string chain_path);

  // Brings this broker's erasure chain to the store's epoch, checked against the store's epoch
  // record (a record this chain does not produce is refused, ALARM). A store without a record
  // (made before the chain) gets one, and its tenant KEKs, wrapped by the root key alone until
  // then, are re-wrapped for epoch 0 in one transaction. kVerificationFailed if the store is at
  // an older epoch than this broker: it was restored from before a destruction.
  Result<void> SyncErasureChain() const;
  std::uint64_t ErasureEpoch() const;
  // The chain's join copy for the store (ErasureChain::EncodeShare), at the current epoch.
  Result<Bytes> EncodeErasureChainShare(const SecretBytes& passphrase) const;

  Result<WrappedTenantKek> NewWrappedTenantKek(const std::string& tenant) const;
  // Creates and stores a new X25519 key version (generated, or `imported` if given), its private
  // half wrapped by the tenant's KEK; retried if a destruction re-keys the tenant meanwhile.
  Result<KeyVersionRow> AddKeyVersion(const std::string& tenant, const std::string& name, const std::string& key_class,
                                      std::uint32_t version, std::int64_t now, const SecretBytes* imported = nullptr) const;
  // Destroys `version` (or every version) of tenant/name as a crypto-shred (erasure_chain.h):
  // one store transaction erases it, gives the tenant a fresh KEK with its other versions
  // re-wrapped under it, re-wraps every tenant KEK for the next epoch and deletes the fleet's
  // join copy of the chain; then this broker's chain moves on and the old secret is wiped.
  // Returns the number of versions destroyed.
  Result<int> DestroyKeyVersions(const std::string& tenant, const std::string& name,
                                 std::optional<std::uint32_t> version, std::int64_t now) const;
  // The public half of `row`, derived from its private half; kVerificationFailed (ALARM) if the
  // stored public key differs: a writer of the store cannot hand owners a key of their own.
  Result<Bytes> CheckedPublicKey(const KeyVersionRow& row) const;

  // One release's unwrapping: the tenant KEK is opened once, then each artifact's DEK is opened
  // with its key version and sealed to `tee_public_key`.
  class Release {
   public:
    // `row` is the artifact's key version as the caller read it (for the purpose check). With
    // `rewrap_to` (another enabled version of the same key, newer than `row`), the opened DEK is
    // also sealed to that version's public half, derived from its private half as
    // CheckedPublicKey does (kVerificationFailed, ALARM, if the stored one differs).
    Result<ResealedDek> Reseal(const KeyVersionRow& row, const SealedArtifact& a, ByteSpan tee_public_key,
                               const KeyVersionRow* rewrap_to = nullptr) const;
    // The version's private half itself, for a KBS resource (broker/kbs/kbs_api.h): whoever gets
    // it opens every artifact sealed to this version. Only for an enabled version of this tenant.
    Result<SecretBytes> PrivateKey(const KeyVersionRow& row) const;

   private:
    friend class KeyService;
    Release(Store& store, std::string tenant, SecretBytes kek, Bytes kek_blob)
        : store_(store), tenant_(std::move(tenant)), kek_(std::move(kek)), kek_blob_(std::move(kek_blob)) {}
    Store& store_;
    std::string tenant_;
    SecretBytes kek_;
    Bytes kek_blob_;  // as stored: tells a concurrent re-wrap (retry) from an altered blob
  };
  Result<Release> BeginRelease(const std::string& tenant) const;

  // HMAC-SHA256 of `message` under a key derived from the root key for `label` (HKDF-SHA256,
  // salt "sigil store rows", info = label): the tag of an authority value the broker keeps
  // outside the authenticated store's row types (broker/keys/key_pins.h). kInternal.
  Result<Bytes> AuthorityTag(std::string_view label, ByteSpan message) const;

 private:
  Result<SecretBytes> OpenTenantKek(const std::string& tenant, ByteSpan blob) const;
  Result<int> TryDestroy(const std::string& tenant, const std::string& name, std::optional<std::uint32_t> version,
                         std::int64_t now) const;
  // Under chain_mu_: moves to the store's epoch (never back).
  Result<void> SyncLocked() const;
  Result<void> InstallLocked(ErasureChain next) const;

  Store& store_;
  const SecretBytes& root_;
  const std::string chain_path_;
  mutable std::mutex destroy_mu_;  // one destruction at a time from this broker
  mutable std::mutex chain_mu_;
  mutable ErasureChain chain_;     // guarded by chain_mu_
  mutable SecretBytes wrapping_;   // W for chain_'s epoch
  mutable Bytes record_;           // the store's record for chain_'s epoch
};

}  // namespace sigil::broker
