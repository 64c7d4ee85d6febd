// Text encodings of bytes. Decoders return errors that say what was wrong and at which offset.
#pragma once

#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/result.h"

namespace sigil {

std::string HexEncode(ByteSpan bytes);
// Accepts upper or lower case; rejects odd length and non-hex characters.
Result<Bytes> HexDecode(std::string_view hex);

// RFC 4648 section 5 without padding, as in JOSE (RFC 7515 section 2, RFC 8037).
std::string Base64UrlEncode(ByteSpan bytes);
// The one decoder for every base64url value of the protocol (docs/protocol.md, "Encodings"):
// accepts exactly what Base64UrlEncode produces. Refuses '=' padding, '+', '/', whitespace and
// any other character outside A-Z a-z 0-9 - _, a length of 1 mod 4, and non-zero trailing bits
// (a value has one spelling). kInvalidArgument saying what was wrong and at which offset.
Result<Bytes> Base64UrlDecode(std::string_view text);

// RFC 4648 section 4 with padding.
std::string Base64Encode(ByteSpan bytes);
// Accepts exactly what Base64Encode produces: length a multiple of 4, '=' only as the one or
// two final characters the length needs, no whitespace, zero trailing bits. kInvalidArgument.
Result<Bytes> Base64Decode(std::string_view text);

}  // namespace sigil
