// The HPKE half of the container: sealing a fresh DEK to a recipient key when encrypting, and
// opening it with the key's private half (broker side). The HPKE info is
// protocol::DekSealInfo(tenant, key, version) and the AAD is empty (FORMAT.md, "DEK").
#pragma once

#include <string>

#include "core/result.h"
#include "core/secret_bytes.h"
#include "loader/container_format.h"
#include "loader/container_writer.h"
#include "loader/recipient_key.h"

namespace sigil::loader {

// Encrypts regular file `in` to container `out` for `recipient`: a fresh random 32-byte DEK
// sealed with HPKE (kSigilSuite) to the recipient's public key, a fresh random salt, then
// EncryptFileWithDek (same guarantees: streaming, atomic rename, no partial output). Returns
// the header written. Codes: kInvalidArgument, kNotFound, kUnavailable, kInternal.
Result<ContainerHeader> EncryptFile(const std::string& in, const std::string& out,
                                    const RecipientKey& recipient, const EncryptOptions& options = {});

// Opens the header's sealed DEK with the private key of (tenant, key_name, key_version).
// Returns the 32-byte DEK in locked memory. kVerificationFailed if the private key or any of
// tenant/key/version do not match what it was sealed to; kInvalidArgument for a malformed header.
Result<SecretBytes> OpenDek(const ContainerHeader& header, const SecretBytes& recipient_private_key);

}  // namespace sigil::loader
