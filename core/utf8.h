// Strict UTF-8 validation (RFC 3629): no overlong forms, no surrogates (U+D800-U+DFFF), nothing
// above U+10FFFF. Every text field that crosses a trust boundary is checked with this before it
// is parsed, stored or echoed.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace sigil {

// Offset of the first byte that is not part of a well-formed UTF-8 sequence, or nullopt.
std::optional<std::size_t> FindInvalidUtf8(std::string_view text);
inline bool IsValidUtf8(std::string_view text) { return !FindInvalidUtf8(text).has_value(); }

}  // namespace sigil
