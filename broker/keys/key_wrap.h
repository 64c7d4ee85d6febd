// Envelope encryption of key material at rest: AES-256-GCM with a random 96-bit nonce and the
// wrapped key's identity as AAD, so a wrapped blob cannot be moved to another tenant, key or
// version. Blob = nonce (12) || ciphertext || tag (16).
#pragma once

#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/result.h"
#include "core/secret_bytes.h"

namespace sigil::broker {

Result<Bytes> WrapKey(const SecretBytes& kek, const SecretBytes& key, std::string_view identity);
// kVerificationFailed if the blob was altered, moved, or wrapped under another KEK.
Result<SecretBytes> UnwrapKey(const SecretBytes& kek, ByteSpan blob, std::string_view identity);

// Identities used as AAD (docs/architecture.md "Keys at rest").
std::string TenantKekIdentity(std::string_view tenant);
std::string KeyVersionIdentity(std::string_view tenant, std::string_view key, std::uint32_t version);
std::string BrokerKeyIdentity(std::string_view name);

}  // namespace sigil::broker
