// The broker's key hierarchy behind one seam: the only code that touches the root key, tenant
// KEKs and key versions' private halves (docs/architecture.md "Keys"). The HTTP handlers ask it
// for what they need (a new tenant KEK, a new or imported key version, a checked public half,
// DEKs resealed to a TEE) and never see a KEK or a private key.
// Thread-safety: safe to share; each call works on its own copies of the secrets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

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

class KeyService {
 public:
  KeyService(Store& store, const SecretBytes& root_key) : store_(store), root_(root_key) {}

  // A fresh tenant KEK, wrapped by the root key, for Store::CreateTenant.
  Result<Bytes> NewWrappedTenantKek(const std::string& tenant) const;
  // A new X25519 key version (generated, or `imported` if given), its private half wrapped by
  // the tenant's KEK; the row is not stored.
  Result<KeyVersionRow> NewKeyVersion(const std::string& tenant, const std::string& name, const std::string& key_class,
                                      std::uint32_t version, std::int64_t now, const SecretBytes* imported = nullptr) const;
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
    Release(std::string tenant, SecretBytes kek) : tenant_(std::move(tenant)), kek_(std::move(kek)) {}
    std::string tenant_;
    SecretBytes kek_;
  };
  Result<Release> BeginRelease(const std::string& tenant) const;

  // HMAC-SHA256 of `message` under a key derived from the root key for `label` (HKDF-SHA256,
  // salt "sigil store rows", info = label): the tag of an authority value the broker keeps
  // outside the authenticated store's row types (broker/keys/key_pins.h). kInternal.
  Result<Bytes> AuthorityTag(std::string_view label, ByteSpan message) const;

 private:
  Result<SecretBytes> TenantKek(const std::string& tenant) const;

  Store& store_;
  const SecretBytes& root_;
};

}  // namespace sigil::broker
