// The broker's root key, which wraps every tenant KEK and the broker's own signing keys.
// Protected at rest by a passphrase (Argon2id, libsodium crypto_pwhash), sealed to a TPM 2.0
// under a PCR policy (tpm_seal.h, tpm_seal_root_key.h), or, in development mode only, stored in
// plain text with a loud warning.
#pragma once

#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/result.h"
#include "core/secret_bytes.h"

namespace sigil::broker {

enum class RootKeyMode { kPassphrase, kDevPlaintext, kTpm };

// TPM mode: where and how to seal.
struct TpmSealSpec {
  std::string tcti;                       // TCTI string; recorded in the file as serve's default
  std::string pcrs = "sha256:0,7";        // tpm_seal_pcrs.h syntax
  const SecretBytes* password = nullptr;  // optional seal password (PolicyAuthValue)
};

// What `sigild serve` has to unlock the root key with.
struct RootKeyUnlock {
  const SecretBytes* passphrase = nullptr;     // passphrase mode
  std::string tpm_tcti;                        // TPM mode: overrides the recorded TCTI if set
  const SecretBytes* seal_password = nullptr;  // TPM mode sealed with a password
};

struct Argon2Params {
  unsigned long long opslimit;
  std::size_t memlimit;
};
// libsodium's MODERATE limits (3 passes, 256 MiB): about a second on a server core.
Argon2Params DefaultArgon2Params();
// libsodium's INTERACTIVE limits (2 passes, 64 MiB): the weakest parameters CreateRootKey /
// WritePassphraseRootKey accept and LoadRootKey reads from a file (kInvalidArgument below).
Argon2Params MinimumArgon2Params();

// Creates a fresh 32-byte root key and writes its protected form to `path` (0600, atomic).
Result<SecretBytes> CreateRootKey(const std::string& path, RootKeyMode mode, const SecretBytes* passphrase,
                                  Argon2Params params = DefaultArgon2Params());
// Loads the root key; passphrase mode needs `passphrase` (kUnauthenticated if wrong).
Result<SecretBytes> LoadRootKey(const std::string& path, const SecretBytes* passphrase, bool* is_dev_mode);
// Any mode; `mode` (optional) receives the file's mode. TPM errors: see UnsealRootKey
// (tpm_seal_root_key.h).
Result<SecretBytes> LoadRootKey(const std::string& path, const RootKeyUnlock& unlock, RootKeyMode* mode);

// The same, from the file's text (`path` names its origin in errors): the shared copy a joining
// broker reads from the store (sigild join).
Result<SecretBytes> DecodeRootKey(std::string_view text, const std::string& path, const RootKeyUnlock& unlock,
                                  RootKeyMode* mode);
// The passphrase mode's file content for `root`, without writing it anywhere: the copy kept in a
// shared store for brokers that join the fleet.
Result<Bytes> EncodePassphraseRootKey(const SecretBytes& root, const SecretBytes& passphrase,
                                      Argon2Params params = DefaultArgon2Params());
// Writes an existing root key (a joining broker's own copy) in passphrase or dev mode.
Result<void> WriteRootKey(const std::string& path, const SecretBytes& root, RootKeyMode mode,
                          const SecretBytes* passphrase);

// Writes `root` wrapped by `passphrase` in the passphrase mode's format (0600, atomic). Also the
// format of the TPM mode's opt-in recovery copy.
Result<void> WritePassphraseRootKey(const std::string& path, const SecretBytes& root,
                                    const SecretBytes& passphrase, Argon2Params params = DefaultArgon2Params());
// Seals `root` to the TPM (TPM mode) and writes the file (0600, atomic).
Result<void> WriteTpmRootKey(const std::string& path, const SecretBytes& root, const TpmSealSpec& spec);

// Reads a passphrase from a file (first line) or else from the environment variable
// SIGIL_ROOT_PASSPHRASE; kInvalidArgument if neither is set. Either way the variable is then
// overwritten in place and unset (so /proc/PID/environ and child processes no longer show it).
// Not thread-safe (getenv/unsetenv): call before starting threads. Secrets are read straight
// into SecretBytes, never through a std::string.
Result<SecretBytes> ReadPassphrase(const std::string& passphrase_file);
// The first line of `file` (no environment fallback): seal passwords, recovery passphrases.
// At most 4096 bytes; kInvalidArgument if the first line is empty.
Result<SecretBytes> ReadSecretLine(const std::string& file);

}  // namespace sigil::broker
