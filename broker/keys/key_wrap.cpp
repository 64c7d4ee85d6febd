#include "broker/keys/key_wrap.h"

#include <openssl/rand.h>

#include "core/aead.h"
#include "core/ossl.h"

namespace sigil::broker {

Result<Bytes> WrapKey(const SecretBytes& kek, const SecretBytes& key, std::string_view identity) {
  Bytes nonce(kAeadNonceSize);
  if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1) return OpenSslError(Code::kInternal, "RAND_bytes");
  SIGIL_ASSIGN_OR_RETURN(Bytes ct, AeadSeal(AeadAlg::kAes256Gcm, kek.Reveal(SecretAccess::Get()), nonce,
                                            AsBytes(identity), key.Reveal(SecretAccess::Get())));
  return Concat({nonce, ct});
}

Result<SecretBytes> UnwrapKey(const SecretBytes& kek, ByteSpan blob, std::string_view identity) {
  if (blob.size() < kAeadNonceSize + kAeadTagSize) {
    return Fail(Code::kVerificationFailed, "wrapped key for " + std::string(identity) + " is truncated");
  }
  auto r = AeadOpenSecret(AeadAlg::kAes256Gcm, kek.Reveal(SecretAccess::Get()), blob.first(kAeadNonceSize),
                          AsBytes(identity), blob.subspan(kAeadNonceSize));
  if (!r) return Fail(Code::kVerificationFailed, "cannot unwrap " + std::string(identity) + ": wrong key or altered blob");
  return r;
}

std::string TenantKekIdentity(std::string_view tenant) { return "sigil/v1/kek/" + std::string(tenant); }
std::string KeyVersionIdentity(std::string_view tenant, std::string_view key, std::uint32_t version) {
  return "sigil/v1/key/" + std::string(tenant) + "/" + std::string(key) + "/" + std::to_string(version);
}
std::string BrokerKeyIdentity(std::string_view name) { return "sigil/v1/broker/" + std::string(name); }

}  // namespace sigil::broker
