#include "broker/keys/key_service.h"

#include <algorithm>
#include <cstdio>

#include "broker/keys/key_wrap.h"
#include "broker/store/store.h"
#include "core/digest.h"
#include "core/hkdf.h"
#include "core/hpke.h"
#include "core/log.h"
#include "core/protocol.h"

namespace sigil::broker {

Result<Bytes> KeyService::AuthorityTag(std::string_view label, ByteSpan message) const {
  // The same derivation as the store's row tags (store_auth.cpp), with its own label, so a tag
  // made for one kind of value never verifies as another.
  SIGIL_ASSIGN_OR_RETURN(SecretBytes prk, HkdfExtract(HkdfHash::kSha256, AsBytes(std::string_view("sigil store rows")),
                                                      root_.Reveal(SecretAccess::Get())));
  SIGIL_ASSIGN_OR_RETURN(SecretBytes key, HkdfExpand(HkdfHash::kSha256, prk.Reveal(SecretAccess::Get()), AsBytes(label), 32));
  return HmacSha256(key.Reveal(SecretAccess::Get()), message);
}

namespace {

constexpr int kRekeyAttempts = 5;

}  // namespace

KeyService::KeyService(Store& store, const SecretBytes& root_key, ErasureChain chain, std::string chain_path)
    : store_(store), root_(root_key), chain_path_(std::move(chain_path)), chain_(std::move(chain)) {}

std::uint64_t KeyService::ErasureEpoch() const {
  std::lock_guard lock(chain_mu_);
  return chain_.epoch();
}

Result<Bytes> KeyService::EncodeErasureChainShare(const SecretBytes& passphrase) const {
  std::lock_guard lock(chain_mu_);
  return chain_.EncodeShare(passphrase);
}

Result<void> KeyService::InstallLocked(ErasureChain next) const {
  SIGIL_ASSIGN_OR_RETURN(SecretBytes w, next.WrappingKey(root_));
  SIGIL_ASSIGN_OR_RETURN(Bytes record, next.Record(root_));
  // On disk before in use: a broker that answered with the new epoch must not restart with the
  // old secret (nor keep it: the file is replaced, and the old chain is wiped as it goes).
  if (!chain_path_.empty()) SIGIL_RETURN_IF_ERROR(next.Save(chain_path_, root_));
  chain_ = std::move(next);
  wrapping_ = std::move(w);
  record_ = std::move(record);
  return Ok();
}

Result<void> KeyService::SyncLocked() const {
  auto stored = store_.GetMeta(kErasureEpochMeta);
  if (!stored && stored.error().code() != Code::kNotFound) return std::move(stored).error();
  if (!stored) {
    // A store from before the chain: its KEKs are wrapped by the root key alone. Re-wrap them for
    // epoch 0 and write the record, in one transaction.
    SIGIL_ASSIGN_OR_RETURN(ErasureChain current, chain_.Clone());
    SIGIL_RETURN_IF_ERROR(InstallLocked(std::move(current)));
    RekeyPlan plan;
    plan.epoch_to = record_;
    SIGIL_ASSIGN_OR_RETURN(std::vector<std::string> tenants, store_.ListTenants());
    for (const std::string& t : tenants) {
      SIGIL_ASSIGN_OR_RETURN(Bytes blob, store_.GetTenantKek(t));
      if (blob.size() != kLegacyWrappedKekSize) {
        return Fail(Code::kVerificationFailed, "tenant '" + t + "' has a KEK in the erasure chain's format but the store "
                                                   "has no erasure epoch record (the record was deleted?)");
      }
      SIGIL_ASSIGN_OR_RETURN(SecretBytes kek, UnwrapKey(root_, blob, TenantKekIdentity(t)));
      SIGIL_ASSIGN_OR_RETURN(Bytes to, WrapTenantKek(wrapping_, chain_.epoch(), kek, t));
      plan.keks.push_back({t, std::move(blob), std::move(to)});
    }
    SIGIL_RETURN_IF_ERROR(store_.Rekey(plan));
    log::Info("the store's tenant KEKs are now wrapped under the erasure chain",
              {{"tenants", static_cast<std::int64_t>(tenants.size())}, {"epoch", static_cast<std::int64_t>(chain_.epoch())}});
    return Ok();
  }
  SIGIL_ASSIGN_OR_RETURN(std::uint64_t epoch, ErasureChain::RecordEpoch(*stored));
  if (epoch < chain_.epoch()) {
    return Fail(Code::kVerificationFailed,
                "the store is at erasure epoch " + std::to_string(epoch) + " but this broker is at " +
                    std::to_string(chain_.epoch()) + ": the store was restored from a copy older than a key "
                    "destruction, and the keys that copy holds were shredded (docs/architecture.md \"Destroying "
                    "a key version\")");
  }
  SIGIL_ASSIGN_OR_RETURN(ErasureChain next, chain_.AdvancedTo(epoch));
  SIGIL_ASSIGN_OR_RETURN(Bytes expected, next.Record(root_));
  if (expected != *stored) {
    log::Write(log::Level::kAlarm, "the store's erasure epoch record is not this broker's chain",
               {{"epoch", static_cast<std::int64_t>(epoch)}});
    return Fail(Code::kVerificationFailed, "ALARM: the store's erasure epoch record (epoch " + std::to_string(epoch) +
                                               ") does not match this broker's erasure chain (DATA/shred.key): another "
                                               "fleet's store, or an edited record");
  }
  if (epoch == chain_.epoch() && !record_.empty()) return Ok();
  return InstallLocked(std::move(next));
}

Result<void> KeyService::SyncErasureChain() const {
  std::lock_guard lock(chain_mu_);
  return SyncLocked();
}

Result<SecretBytes> KeyService::OpenTenantKek(const std::string& tenant, ByteSpan blob) const {
  auto epoch = WrappedKekEpoch(blob);
  if (!epoch) return epoch.error().Wrap("tenant '" + tenant + "'");
  std::lock_guard lock(chain_mu_);
  // Another broker destroyed a key: move forward with the fleet (checked against the record).
  if (*epoch > chain_.epoch()) SIGIL_RETURN_IF_ERROR(SyncLocked());
  if (*epoch < chain_.epoch()) {
    // Read before a destruction that this broker has seen since (through another request)?
    auto now = store_.GetTenantKek(tenant);
    auto now_epoch = now ? WrappedKekEpoch(*now) : Result<std::uint64_t>(now.error());
    if (now_epoch && *now_epoch == chain_.epoch()) {
      return Fail(Code::kUnavailable, "the keys of tenant '" + tenant + "' were re-wrapped by a key destruction during "
                                      "this request; retry it");
    }
  }
  if (*epoch != chain_.epoch()) {
    return Fail(Code::kVerificationFailed, "the KEK of tenant '" + tenant + "' was wrapped at erasure epoch " +
                                               std::to_string(*epoch) + ", but this broker is at " +
                                               std::to_string(chain_.epoch()) + ": it comes from a copy of the store "
                                               "older than a key destruction, and was shredded by it");
  }
  return UnwrapTenantKek(wrapping_, blob, tenant);
}

Result<WrappedTenantKek> KeyService::NewWrappedTenantKek(const std::string& tenant) const {
  SIGIL_ASSIGN_OR_RETURN(SecretBytes kek, SecretBytes::Random(32));
  std::lock_guard lock(chain_mu_);
  SIGIL_ASSIGN_OR_RETURN(Bytes blob, WrapTenantKek(wrapping_, chain_.epoch(), kek, tenant));
  return WrappedTenantKek{std::move(blob), record_};
}

Result<KeyVersionRow> KeyService::AddKeyVersion(const std::string& tenant, const std::string& name,
                                                const std::string& key_class, std::uint32_t version, std::int64_t now,
                                                const SecretBytes* imported) const {
  Bytes public_key;
  SecretBytes generated;
  if (imported != nullptr) {
    SIGIL_ASSIGN_OR_RETURN(public_key, hpke::PublicKeyFromPrivate(hpke::Kem::kX25519HkdfSha256, *imported));
  } else {
    SIGIL_ASSIGN_OR_RETURN(hpke::KeyPair kp, hpke::GenerateKeyPair(hpke::Kem::kX25519HkdfSha256));
    public_key = std::move(kp.public_key);
    generated = std::move(kp.private_key);
  }
  const SecretBytes& sk = imported != nullptr ? *imported : generated;
  for (int attempt = 1;; ++attempt) {
    SIGIL_ASSIGN_OR_RETURN(Bytes wrapped_kek, store_.GetTenantKek(tenant));
    SIGIL_ASSIGN_OR_RETURN(SecretBytes kek, OpenTenantKek(tenant, wrapped_kek));
    SIGIL_ASSIGN_OR_RETURN(Bytes wrapped, WrapKey(kek, sk, KeyVersionIdentity(tenant, name, version)));
    KeyVersionRow row{tenant, name, key_class, version, "enabled", public_key, std::move(wrapped), now, 0};
    auto put = store_.PutKeyVersion(row, wrapped_kek);
    if (put) return row;
    if (!IsRekeyConflict(put.error()) || attempt == kRekeyAttempts) return std::move(put).error();
  }
}

Result<int> KeyService::DestroyKeyVersions(const std::string& tenant, const std::string& name,
                                           std::optional<std::uint32_t> version, std::int64_t now) const {
  std::lock_guard serial(destroy_mu_);
  for (int attempt = 1;; ++attempt) {
    auto r = TryDestroy(tenant, name, version, now);
    if (r || !IsRekeyConflict(r.error()) || attempt == kRekeyAttempts) return r;
  }
}

Result<int> KeyService::TryDestroy(const std::string& tenant, const std::string& name,
                                   std::optional<std::uint32_t> version, std::int64_t now) const {
  // This broker's chain at the store's epoch, and the next link, which nobody holds yet.
  SIGIL_RETURN_IF_ERROR(SyncErasureChain());
  RekeyPlan plan;
  std::optional<ErasureChain> next;
  SecretBytes next_wrapping;
  {
    std::lock_guard lock(chain_mu_);
    plan.epoch_from = record_;
    SIGIL_ASSIGN_OR_RETURN(ErasureChain n, chain_.AdvancedTo(chain_.epoch() + 1));
    next = std::move(n);
  }
  SIGIL_ASSIGN_OR_RETURN(next_wrapping, next->WrappingKey(root_));
  SIGIL_ASSIGN_OR_RETURN(plan.epoch_to, next->Record(root_));
  plan.destroy = RekeyPlan::Destroy{tenant, name, version, now};

  SIGIL_ASSIGN_OR_RETURN(std::vector<std::string> tenants, store_.ListTenants());
  SecretBytes old_kek, new_kek;
  for (const std::string& t : tenants) {
    SIGIL_ASSIGN_OR_RETURN(Bytes blob, store_.GetTenantKek(t));
    SIGIL_ASSIGN_OR_RETURN(SecretBytes kek, OpenTenantKek(t, blob));
    if (t == tenant) {
      // The destroyed version's tenant gets a fresh KEK: its old one, which opens the version in
      // any older copy of the store, must not survive in this one.
      old_kek = std::move(kek);
      SIGIL_ASSIGN_OR_RETURN(kek, SecretBytes::Random(32));
      SIGIL_ASSIGN_OR_RETURN(new_kek, kek.Clone());
    }
    SIGIL_ASSIGN_OR_RETURN(Bytes to, WrapTenantKek(next_wrapping, next->epoch(), kek, t));
    plan.keks.push_back({t, std::move(blob), std::move(to)});
  }
  if (new_kek.empty()) return Fail(Code::kNotFound, "unknown tenant '" + tenant + "'");
  SIGIL_ASSIGN_OR_RETURN(std::vector<KeyVersionRow> rows, store_.ListKeyVersions(tenant));
  for (KeyVersionRow& row : rows) {
    const bool destroyed_now = row.name == name && (!version || row.version == *version);
    if (row.state == "destroyed" || destroyed_now) continue;
    const std::string id = KeyVersionIdentity(tenant, row.name, row.version);
    SIGIL_ASSIGN_OR_RETURN(SecretBytes sk, UnwrapKey(old_kek, row.wrapped_private_key, id));
    RekeyPlan::Version v{row.wrapped_private_key, row};
    SIGIL_ASSIGN_OR_RETURN(v.to.wrapped_private_key, WrapKey(new_kek, sk, id));
    plan.versions.push_back(std::move(v));
  }
  SIGIL_ASSIGN_OR_RETURN(int destroyed, store_.Rekey(plan));
  std::lock_guard lock(chain_mu_);
  // A release that saw the new KEKs may already have moved this broker on.
  const std::uint64_t epoch = next->epoch();
  if (chain_.epoch() < epoch) {
    if (auto installed = InstallLocked(std::move(*next)); !installed) {
      log::Write(log::Level::kAlarm, "key material destroyed, but this broker's shred.key was not replaced",
                 {{"epoch", static_cast<std::int64_t>(epoch)}, {"error", installed.error().message()}});
      return installed.error().Wrap("key material destroyed and the store moved to erasure epoch " +
                                    std::to_string(epoch) + ", but this broker's shred.key was not replaced");
    }
  }
  return destroyed;
}

namespace {

// The private half of `k` under the tenant KEK `kek` (stored as `kek_blob`). A key destruction
// that committed between reading the row and reading the KEK re-wrapped one of them: that is a
// retryable kUnavailable, not the altered blob it would otherwise look like.
Result<SecretBytes> OpenVersion(Store& store, const SecretBytes& kek, ByteSpan kek_blob, const KeyVersionRow& k) {
  auto sk = UnwrapKey(kek, k.wrapped_private_key, KeyVersionIdentity(k.tenant, k.name, k.version));
  if (sk) return sk;
  auto kek_now = store.GetTenantKek(k.tenant);
  auto row_now = store.GetKeyVersion(k.tenant, k.name, k.version);
  const bool kek_moved = kek_now && !std::equal(kek_now->begin(), kek_now->end(), kek_blob.begin(), kek_blob.end());
  const bool row_moved = row_now && row_now->wrapped_private_key != k.wrapped_private_key;
  if (kek_moved || row_moved) {
    return Fail(Code::kUnavailable, "the keys of tenant '" + k.tenant + "' were re-wrapped by a key destruction during "
                                    "this request; retry it");
  }
  return sk;
}

// The public half of `k` derived from its private half (opened with the tenant's `kek`); an
// ALARM and kVerificationFailed if the stored public key differs: a writer of the store cannot
// hand owners (or a rewrap) a key of their own.
Result<Bytes> DerivedPublicKey(Store& store, const SecretBytes& kek, ByteSpan kek_blob, const KeyVersionRow& k) {
  SIGIL_ASSIGN_OR_RETURN(SecretBytes sk, OpenVersion(store, kek, kek_blob, k));
  SIGIL_ASSIGN_OR_RETURN(Bytes derived, hpke::PublicKeyFromPrivate(hpke::Kem::kX25519HkdfSha256, sk));
  if (derived != k.public_key) {
    log::Write(log::Level::kAlarm,
               "the stored public key of a key version is not the public half of its private key: someone with "
               "write access to the store replaced it",
               {{"tenant", k.tenant}, {"key", k.name}, {"version", k.version}});
    return Fail(Code::kVerificationFailed, "ALARM: the stored public key of '" + k.tenant + "/" + k.name + "' version " +
                                               std::to_string(k.version) + " does not match its private key (the store "
                                               "was edited); refusing to hand it out");
  }
  return derived;
}

}  // namespace

Result<Bytes> KeyService::CheckedPublicKey(const KeyVersionRow& k) const {
  SIGIL_ASSIGN_OR_RETURN(Bytes blob, store_.GetTenantKek(k.tenant));
  SIGIL_ASSIGN_OR_RETURN(SecretBytes kek, OpenTenantKek(k.tenant, blob));
  return DerivedPublicKey(store_, kek, blob, k);
}

Result<KeyService::Release> KeyService::BeginRelease(const std::string& tenant) const {
  SIGIL_ASSIGN_OR_RETURN(Bytes blob, store_.GetTenantKek(tenant));
  SIGIL_ASSIGN_OR_RETURN(SecretBytes kek, OpenTenantKek(tenant, blob));
  return Release(store_, tenant, std::move(kek), std::move(blob));
}

Result<ResealedDek> KeyService::Release::Reseal(const KeyVersionRow& row, const SealedArtifact& a, ByteSpan tee_pk,
                                                 const KeyVersionRow* rewrap_to) const {
  if (row.tenant != tenant_ || row.name != a.key || row.version != a.version) {
    return Fail(Code::kInternal, "reseal: the key version row is not the artifact's");
  }
  if (rewrap_to != nullptr &&
      (rewrap_to->tenant != tenant_ || rewrap_to->name != a.key || rewrap_to->version <= a.version)) {
    return Fail(Code::kInternal, "reseal: the rewrap target is not a newer version of the artifact's key");
  }
  if (rewrap_to != nullptr && rewrap_to->state != "enabled") return KeyUnusable(*rewrap_to);
  if (row.state != "enabled") return KeyUnusable(row);  // disabled or destroyed: stable tag, audited as deny
  SIGIL_ASSIGN_OR_RETURN(SecretBytes sk, OpenVersion(store_, kek_, kek_blob_, row));
  auto dek = hpke::OpenSecret(hpke::kSigilSuite, a.enc, sk, protocol::DekSealInfo(tenant_, a.key, a.version), {}, a.sealed_dek);
  if (!dek) {
    return Fail(Code::kVerificationFailed, "the artifact's sealed DEK does not open with key '" + a.key + "' version " +
                                               std::to_string(a.version) + " (wrong key, or altered header)");
  }
  ResealedDek out;
  out.artifact_id = protocol::ArtifactId(a.enc, a.sealed_dek);
  SIGIL_ASSIGN_OR_RETURN(hpke::Sealed sealed, hpke::Seal(hpke::kSigilSuite, tee_pk,
                                                         protocol::ReleaseInfo(tenant_, a.key, a.version, out.artifact_id),
                                                         {}, dek->Reveal(SecretAccess::Get())));
  out.enc = std::move(sealed.enc);
  out.sealed_dek = std::move(sealed.ciphertext);
  if (rewrap_to != nullptr) {
    // The new header's seal, exactly as `sigil model encrypt` makes one (loader/FORMAT.md "DEK"),
    // to a public half the broker derives itself: the loader is handed no key to trust.
    SIGIL_ASSIGN_OR_RETURN(Bytes new_pk, DerivedPublicKey(store_, kek_, kek_blob_, *rewrap_to));
    SIGIL_ASSIGN_OR_RETURN(hpke::Sealed header_seal,
                           hpke::Seal(hpke::kSigilSuite, new_pk, protocol::DekSealInfo(tenant_, a.key, rewrap_to->version),
                                      {}, dek->Reveal(SecretAccess::Get())));
    out.rewrap = HeaderSeal{rewrap_to->version, std::move(header_seal.enc), std::move(header_seal.ciphertext)};
  }
  return out;
}

Result<SecretBytes> KeyService::Release::PrivateKey(const KeyVersionRow& row) const {
  if (row.tenant != tenant_) return Fail(Code::kInternal, "private key: the key version row is not this tenant's");
  if (row.state != "enabled") return KeyUnusable(row);
  return OpenVersion(store_, kek_, kek_blob_, row);
}

}  // namespace sigil::broker
