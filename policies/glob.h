// Key-name globs for a rule's `keys`: `*` matches any run of characters (including none and
// including '/'), `?` matches exactly one byte, every other byte matches itself. There is no
// escape and no character class; the whole key name must match.
// Thread-safety: pure function.
#pragma once

#include <string_view>

namespace sigil::policy {

// True if `key_name` matches `pattern`. Runs in O(|pattern| * |key_name|) worst case with no
// recursion and no allocation.
bool KeyPatternMatches(std::string_view pattern, std::string_view key_name);

}  // namespace sigil::policy
