// One-shot message digests (OpenSSL EVP).
#pragma once

#include <array>
#include <cstdint>

#include "core/bytes.h"
#include "core/result.h"

namespace sigil {

using Sha256Digest = std::array<std::uint8_t, 32>;
using Sha384Digest = std::array<std::uint8_t, 48>;
using Sha512Digest = std::array<std::uint8_t, 64>;

Sha256Digest Sha256(ByteSpan data);
Sha384Digest Sha384(ByteSpan data);
Sha512Digest Sha512(ByteSpan data);

// HMAC-SHA256 (RFC 2104) of `message` under `key`; kInternal if OpenSSL fails.
Result<Bytes> HmacSha256(ByteSpan key, ByteSpan message);

// Constant-time comparison of two equal-length byte strings (false if lengths differ).
bool ConstantTimeEqual(ByteSpan a, ByteSpan b);

}  // namespace sigil
