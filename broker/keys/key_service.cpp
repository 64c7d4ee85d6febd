#include "broker/keys/key_service.h"

#include <cstdio>

#include "broker/keys/key_wrap.h"
#include "core/hkdf.h"
#include "core/ossl.h"
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
  Bytes out(32);
  std::size_t n = 0;
  auto k = key.Reveal(SecretAccess::Get());
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, k.data(), k.size(), message.data(), message.size(),
                out.data(), out.size(), &n) == nullptr || n != out.size()) {
    return OpenSslError(Code::kInternal, "HMAC-SHA256");
  }
  return out;
}

Result<SecretBytes> KeyService::TenantKek(const std::string& tenant) const {
  SIGIL_ASSIGN_OR_RETURN(Bytes wrapped_kek, store_.GetTenantKek(tenant));
  return UnwrapKey(root_, wrapped_kek, TenantKekIdentity(tenant));
}

Result<Bytes> KeyService::NewWrappedTenantKek(const std::string& tenant) const {
  SIGIL_ASSIGN_OR_RETURN(SecretBytes kek, SecretBytes::Random(32));
  return WrapKey(root_, kek, TenantKekIdentity(tenant));
}

Result<KeyVersionRow> KeyService::NewKeyVersion(const std::string& tenant, const std::string& name,
                                                const std::string& key_class, std::uint32_t version, std::int64_t now,
                                                const SecretBytes* imported) const {
  SIGIL_ASSIGN_OR_RETURN(SecretBytes kek, TenantKek(tenant));
  Bytes public_key;
  Bytes wrapped;
  if (imported != nullptr) {
    SIGIL_ASSIGN_OR_RETURN(public_key, hpke::PublicKeyFromPrivate(hpke::Kem::kX25519HkdfSha256, *imported));
    SIGIL_ASSIGN_OR_RETURN(wrapped, WrapKey(kek, *imported, KeyVersionIdentity(tenant, name, version)));
  } else {
    SIGIL_ASSIGN_OR_RETURN(hpke::KeyPair kp, hpke::GenerateKeyPair(hpke::Kem::kX25519HkdfSha256));
    public_key = kp.public_key;
    SIGIL_ASSIGN_OR_RETURN(wrapped, WrapKey(kek, kp.private_key, KeyVersionIdentity(tenant, name, version)));
  }
  return KeyVersionRow{tenant, name, key_class, version, "enabled", std::move(public_key), std::move(wrapped), now, 0};
}

namespace {

// The public half of `k` derived from its private half (opened with the tenant's `kek`); an
// ALARM and kVerificationFailed if the stored public key differs: a writer of the store cannot
// hand owners (or a rewrap) a key of their own.
Result<Bytes> DerivedPublicKey(const SecretBytes& kek, const KeyVersionRow& k) {
  SIGIL_ASSIGN_OR_RETURN(SecretBytes sk, UnwrapKey(kek, k.wrapped_private_key, KeyVersionIdentity(k.tenant, k.name, k.version)));
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
  SIGIL_ASSIGN_OR_RETURN(SecretBytes kek, TenantKek(k.tenant));
  return DerivedPublicKey(kek, k);
}

Result<KeyService::Release> KeyService::BeginRelease(const std::string& tenant) const {
  SIGIL_ASSIGN_OR_RETURN(SecretBytes kek, TenantKek(tenant));
  return Release(tenant, std::move(kek));
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
  SIGIL_ASSIGN_OR_RETURN(SecretBytes sk, UnwrapKey(kek_, row.wrapped_private_key, KeyVersionIdentity(tenant_, a.key, a.version)));
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
    SIGIL_ASSIGN_OR_RETURN(Bytes new_pk, DerivedPublicKey(kek_, *rewrap_to));
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
  return UnwrapKey(kek_, row.wrapped_private_key, KeyVersionIdentity(tenant_, row.name, row.version));
}

}  // namespace sigil::broker
