#include "broker/keys/erasure_chain.h"

#include <cstring>

#include "broker/keys/key_wrap.h"
#include "broker/keys/root_key.h"
#include "core/digest.h"
#include "core/file_io.h"
#include "core/hkdf.h"

namespace sigil::broker {
namespace {

constexpr std::size_t kSecretSize = 32;
constexpr std::size_t kEpochSize = 8;
constexpr std::size_t kCheckSize = 32;

Bytes EncodeEpoch(std::uint64_t epoch) {
  Bytes out;
  AppendU64(out, epoch);
  return out;
}

std::string ShredFileIdentity(std::uint64_t epoch) { return BrokerKeyIdentity("erasure-chain/" + std::to_string(epoch)); }

std::string KekIdentity(std::string_view tenant, std::uint64_t epoch) {
  return TenantKekIdentity(tenant) + "@" + std::to_string(epoch);
}

// One step of the chain: one-way, so holding S_{n+1} says nothing about S_n.
Result<SecretBytes> NextSecret(const SecretBytes& s) {
  return HkdfExpand(HkdfHash::kSha256, s.Reveal(SecretAccess::Get()), AsBytes(std::string_view("sigil/v1/erasure-chain/next")),
                    kSecretSize);
}

}  // namespace

Result<ErasureChain> ErasureChain::Fresh() {
  SIGIL_ASSIGN_OR_RETURN(SecretBytes s, SecretBytes::Random(kSecretSize));
  return ErasureChain(0, std::move(s));
}

Result<ErasureChain> ErasureChain::Load(const std::string& path, const SecretBytes& root) {
  SIGIL_ASSIGN_OR_RETURN(Bytes file, ReadFile(path, 4096));
  if (file.size() <= kEpochSize) return Fail(Code::kInvalidArgument, path + ": truncated erasure chain file");
  const std::uint64_t epoch = ReadU64(file);
  auto s = UnwrapKey(root, ByteSpan(file).subspan(kEpochSize), ShredFileIdentity(epoch));
  if (!s) {
    return Fail(Code::kVerificationFailed, path + ": does not open with this broker's root key (edited, or another "
                                                  "broker's file)");
  }
  if (s->size() != kSecretSize) return Fail(Code::kInvalidArgument, path + ": wrong secret size");
  return ErasureChain(epoch, std::move(*s));
}

Result<void> ErasureChain::Save(const std::string& path, const SecretBytes& root) const {
  SIGIL_ASSIGN_OR_RETURN(Bytes wrapped, WrapKey(root, secret_, ShredFileIdentity(epoch_)));
  return WriteFileAtomic(path, Concat({EncodeEpoch(epoch_), wrapped}), 0600);
}

Result<ErasureChain> ErasureChain::Clone() const {
  SIGIL_ASSIGN_OR_RETURN(SecretBytes s, secret_.Clone());
  return ErasureChain(epoch_, std::move(s));
}

Result<ErasureChain> ErasureChain::AdvancedTo(std::uint64_t epoch) const {
  if (epoch < epoch_) {
    return Fail(Code::kVerificationFailed, "erasure epoch " + std::to_string(epoch) + " is behind this broker's (" +
                                               std::to_string(epoch_) + "): keys destroyed since cannot come back");
  }
  // A store edit cannot make a broker spin here: callers check the target's Record first, and
  // nobody without the chain can make a record for a later epoch. The bound is a backstop.
  if (epoch - epoch_ > 1'000'000) return Fail(Code::kInvalidArgument, "erasure epoch jump too large");
  SIGIL_ASSIGN_OR_RETURN(SecretBytes s, secret_.Clone());
  for (std::uint64_t e = epoch_; e < epoch; ++e) {
    SIGIL_ASSIGN_OR_RETURN(s, NextSecret(s));
  }
  return ErasureChain(epoch, std::move(s));
}

Result<SecretBytes> ErasureChain::WrappingKey(const SecretBytes& root) const {
  SIGIL_ASSIGN_OR_RETURN(SecretBytes ikm, SecretBytes::Allocate(root.size() + secret_.size()));
  auto out = ikm.RevealMutable(SecretAccess::Get());
  std::memcpy(out.data(), root.Reveal(SecretAccess::Get()).data(), root.size());
  std::memcpy(out.data() + root.size(), secret_.Reveal(SecretAccess::Get()).data(), secret_.size());
  SIGIL_ASSIGN_OR_RETURN(SecretBytes prk, HkdfExtract(HkdfHash::kSha256, AsBytes(std::string_view("sigil erasure chain")),
                                                      ikm.Reveal(SecretAccess::Get())));
  const std::string info = "sigil/v1/kek-wrap/" + std::to_string(epoch_);
  return HkdfExpand(HkdfHash::kSha256, prk.Reveal(SecretAccess::Get()), AsBytes(info), kSecretSize);
}

Result<Bytes> ErasureChain::Record(const SecretBytes& root) const {
  SIGIL_ASSIGN_OR_RETURN(SecretBytes w, WrappingKey(root));
  SIGIL_ASSIGN_OR_RETURN(Bytes check, HmacSha256(w.Reveal(SecretAccess::Get()),
                                                 AsBytes(std::string_view("sigil/v1/erasure-chain/check"))));
  return Concat({EncodeEpoch(epoch_), check});
}

Result<std::uint64_t> ErasureChain::RecordEpoch(ByteSpan record) {
  if (record.size() != kEpochSize + kCheckSize) {
    return Fail(Code::kVerificationFailed, "the store's erasure epoch record is malformed (" +
                                               std::to_string(record.size()) + " bytes)");
  }
  return ReadU64(record);
}

Result<Bytes> ErasureChain::EncodeShare(const SecretBytes& passphrase) const {
  SIGIL_ASSIGN_OR_RETURN(Bytes sealed, EncodePassphraseRootKey(secret_, passphrase));
  return Concat({EncodeEpoch(epoch_), sealed});
}

Result<ErasureChain> ErasureChain::DecodeShare(ByteSpan share, const SecretBytes& passphrase) {
  if (share.size() <= kEpochSize) return Fail(Code::kInvalidArgument, "the store's erasure chain copy is truncated");
  RootKeyUnlock unlock;
  unlock.passphrase = &passphrase;
  RootKeyMode mode = RootKeyMode::kDevPlaintext;
  const ByteSpan sealed = share.subspan(kEpochSize);
  const std::string_view text(reinterpret_cast<const char*>(sealed.data()), sealed.size());
  SIGIL_ASSIGN_OR_RETURN(SecretBytes s, DecodeRootKey(text,
                                                      "the store's erasure chain copy", unlock, &mode));
  if (mode != RootKeyMode::kPassphrase) {
    return Fail(Code::kVerificationFailed, "the store's erasure chain copy is not passphrase-sealed");
  }
  return ErasureChain(ReadU64(share), std::move(s));
}

Result<Bytes> WrapTenantKek(const SecretBytes& wrapping_key, std::uint64_t epoch, const SecretBytes& kek,
                            std::string_view tenant) {
  SIGIL_ASSIGN_OR_RETURN(Bytes wrapped, WrapKey(wrapping_key, kek, KekIdentity(tenant, epoch)));
  return Concat({EncodeEpoch(epoch), wrapped});
}

Result<std::uint64_t> WrappedKekEpoch(ByteSpan blob) {
  if (blob.size() == kLegacyWrappedKekSize) {
    return Fail(Code::kInvalidArgument, "the tenant KEK is in the format written before the erasure chain");
  }
  if (blob.size() != kEpochSize + kLegacyWrappedKekSize) {
    return Fail(Code::kVerificationFailed, "the stored tenant KEK is malformed (" + std::to_string(blob.size()) + " bytes)");
  }
  return ReadU64(blob);
}

Result<SecretBytes> UnwrapTenantKek(const SecretBytes& wrapping_key, ByteSpan blob, std::string_view tenant) {
  SIGIL_ASSIGN_OR_RETURN(std::uint64_t epoch, WrappedKekEpoch(blob));
  return UnwrapKey(wrapping_key, blob.subspan(kEpochSize), KekIdentity(tenant, epoch));
}

}  // namespace sigil::broker
