// The broker's root key, which wraps every tenant KEK and the broker's own signing keys.
// Protected at rest by a passphrase (Argon2id, libsodium crypto_pwhash) or, in development mode
// only, stored in plain text with a loud warning. (TPM sealing is a later mode.)
#pragma once

#include <string>

#include "core/result.h"
#include "core/secret_bytes.h"

namespace sigil::broker {

enum class RootKeyMode { kPassphrase, kDevPlaintext };

struct Argon2Params {
  unsigned long long opslimit;
  std::size_t memlimit;
};
// libsodium's MODERATE limits (3 passes, 256 MiB): about a second on a server core.
Argon2Params DefaultArgon2Params();

// Creates a fresh 32-byte root key and writes its protected form to `path` (0600, atomic).
Result<SecretBytes> CreateRootKey(const std::string& path, RootKeyMode mode, const SecretBytes* passphrase,
                                  Argon2Params params = DefaultArgon2Params());
// Loads the root key; passphrase mode needs `passphrase` (kUnauthenticated if wrong).
Result<SecretBytes> LoadRootKey(const std::string& path, const SecretBytes* passphrase, bool* is_dev_mode);

// Reads a passphrase from the environment variable SIGIL_ROOT_PASSPHRASE or from a file
// (first line); kInvalidArgument if neither is set.
Result<SecretBytes> ReadPassphrase(const std::string& passphrase_file);

}  // namespace sigil::broker
