// The recipient public key file: what `sigil key public TENANT/KEY` emits and
// `sigil model encrypt --recipient FILE` reads. One JSON object, exactly these members:
//   {"type":"sigil-public-key","tenant":"acme","key":"llama3","version":1,
//    "suite":"X25519-HKDF-SHA256-AES-256-GCM","public_key":"<base64url, 32 bytes>"}
// Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/result.h"

namespace sigil::loader {

inline constexpr std::string_view kRecipientKeyType = "sigil-public-key";
inline constexpr std::string_view kRecipientSuite = "X25519-HKDF-SHA256-AES-256-GCM";

struct RecipientKey {
  std::string tenant;
  std::string key_name;
  std::uint32_t version = 0;
  Bytes public_key;  // X25519, 32 bytes

  friend bool operator==(const RecipientKey&, const RecipientKey&) = default;
};

// Checks names (ValidateName), version >= 1 and a 32-byte, non-zero public key.
// kInvalidArgument naming the field.
Result<void> ValidateRecipientKey(const RecipientKey& key);

// Strict parse: a JSON object with exactly the six members above, of the right types and
// values. Errors (kInvalidArgument) name `source` and the member ($.public_key, ...).
Result<RecipientKey> ParseRecipientKey(std::string_view json_text, std::string_view source);

// Reads and parses a key file (at most 64 KiB). kNotFound / kUnavailable / kInvalidArgument.
Result<RecipientKey> ReadRecipientKeyFile(const std::string& path);

// Canonical one-line JSON followed by "\n". kInvalidArgument if ValidateRecipientKey fails.
Result<std::string> SerializeRecipientKey(const RecipientKey& key);

}  // namespace sigil::loader
