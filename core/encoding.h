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

// RFC 4648 section 5, no padding (as in JOSE).
std::string Base64UrlEncode(ByteSpan bytes);
// Accepts base64url without padding (and with '=' padding); rejects '+', '/', whitespace.
Result<Bytes> Base64UrlDecode(std::string_view text);

// RFC 4648 section 4 with padding.
std::string Base64Encode(ByteSpan bytes);
Result<Bytes> Base64Decode(std::string_view text);

}  // namespace sigil
