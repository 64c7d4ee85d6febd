// Model owner keys: Ed25519 key files in PEM, as OpenSSL writes them
// (`openssl genpkey -algorithm ed25519 -out owner.pem`, PKCS#8 "PRIVATE KEY";
// `openssl pkey -in owner.pem -pubout -out owner.pub`, SubjectPublicKeyInfo "PUBLIC KEY").
// Thread-safe (no shared state).
#pragma once

#include <string>

#include "core/bytes.h"
#include "core/ed25519.h"
#include "core/result.h"

namespace sigil::loader {

// Reads an unencrypted PKCS#8 Ed25519 private key. The PEM text and the seed are held only in
// locked memory. kNotFound, kInvalidArgument (not PEM, encrypted, not Ed25519), kUnavailable.
Result<Ed25519Signer> ReadOwnerPrivateKeyFile(const std::string& path);

// Parses a PEM SubjectPublicKeyInfo holding an Ed25519 key; returns the 32 raw bytes.
// kInvalidArgument otherwise.
Result<Bytes> ParseOwnerPublicKeyPem(std::string_view pem);

// Reads and parses (as above) a public key file.
Result<Bytes> ReadOwnerPublicKeyFile(const std::string& path);

}  // namespace sigil::loader
