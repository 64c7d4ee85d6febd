// The dev platform key: an Ed25519 key that stands in for a TEE vendor's signing key in the
// INSECURE development TEE. The broker creates it at init; whoever can read the private file can
// forge dev evidence for any measurement, which is why dev evidence is only ever accepted when a
// tenant policy names the "dev" TEE explicitly (attestation/dev/README.md).
//
// File formats (UTF-8 JSON, exact field sets; unknown fields are refused):
//   private: {"type":"sigil-dev-platform-key","warning":"INSECURE ...","seed":"<base64url 32 bytes>"}
//   public:  {"type":"sigil-dev-platform-public-key","public_key":"<base64url 32 bytes>"}
// Thread-safety: all functions are thread-safe (no shared state).
#pragma once

#include <string>

#include "core/bytes.h"
#include "core/ed25519.h"
#include "core/result.h"

namespace sigil::attestation::dev {

inline constexpr std::string_view kPrivateKeyType = "sigil-dev-platform-key";
inline constexpr std::string_view kPublicKeyType = "sigil-dev-platform-public-key";
inline constexpr std::string_view kPrivateKeyWarning =
    "INSECURE development TEE key: anyone who can read this file can forge dev attestation "
    "evidence. Never use the dev TEE for real keys or data.";

// Creates a fresh dev platform key from the OS CSPRNG. Fails with kUnavailable if locked memory
// cannot be allocated.
Result<Ed25519KeyPair> GenerateDevPlatformKey();

// Writes the private key file atomically with mode 0600 (temporary file, fsync, rename). The
// file bytes are assembled in locked memory. Fails with kUnavailable on I/O errors and
// kInvalidArgument if `key.seed` is not 32 bytes.
Result<void> SaveDevPlatformKey(const std::string& path, const Ed25519KeyPair& key);

// Reads a private key file; the seed lands in SecretBytes and the public key is re-derived from
// it. Fails with kNotFound / kUnavailable (I/O), kPermissionDenied if the file is readable or
// writable by group or others (the key would be shared), kInvalidArgument naming the field if
// the content is not exactly the private key format.
Result<Ed25519KeyPair> LoadDevPlatformKey(const std::string& path);

// Writes / reads the public key file (mode 0644: it is public). Errors as above; the public key
// must be 32 bytes.
Result<void> SaveDevPlatformPublicKey(const std::string& path, ByteSpan public_key);
Result<Bytes> LoadDevPlatformPublicKey(const std::string& path);

// "sigil-dev:" + the first 16 hex digits of SHA-256(public_key): the `platform.id` claim of
// evidence signed by this key, and what a policy pins to accept one dev platform only.
std::string DevPlatformId(ByteSpan public_key);

}  // namespace sigil::attestation::dev
