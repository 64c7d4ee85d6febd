// HKDF (RFC 5869) split into Extract and Expand, as RFC 9180 needs them separately.
// Outputs are secrets and so come back as SecretBytes.
#pragma once

#include "core/bytes.h"
#include "core/result.h"
#include "core/secret_bytes.h"

namespace sigil {

enum class HkdfHash { kSha256, kSha384, kSha512 };

std::size_t HkdfHashSize(HkdfHash h);
Result<SecretBytes> HkdfExtract(HkdfHash h, ByteSpan salt, ByteSpan ikm);
// Fails with kInvalidArgument if length > 255 * hash size.
Result<SecretBytes> HkdfExpand(HkdfHash h, ByteSpan prk, ByteSpan info, std::size_t length);

}  // namespace sigil
