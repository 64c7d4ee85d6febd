// Dotted decimal versions for `version_gte` ("550.90.07") and dotted hex versions for
// `hex_version_gte` (a VBIOS "96.00.9f.00.01"). Internal to policies/.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace sigil::policy::internal {

inline constexpr std::size_t kMaxVersionComponents = 8;
inline constexpr std::size_t kMaxVersionComponentDigits = 9;  // fits in uint32

// 1..kMaxVersionComponents components of 1..kMaxVersionComponentDigits decimal digits (leading
// zeros allowed, "07" is 7) separated by single dots, nothing else; nullopt otherwise.
std::optional<std::vector<std::uint32_t>> ParseDottedVersion(std::string_view text);

// Numeric comparison component by component, a missing component counting as 0 ("550.90" ==
// "550.90.0"): true if a >= b.
bool VersionAtLeast(const std::vector<std::uint32_t>& a, const std::vector<std::uint32_t>& b);

inline constexpr std::size_t kMaxHexVersionGroups = 16;
inline constexpr std::size_t kMaxHexVersionGroupDigits = 4;  // fits in uint16

// 1..kMaxHexVersionGroups groups of 1..kMaxHexVersionGroupDigits hex digits (either case, "9f" ==
// "9F" == "009f") separated by single dots, nothing else; nullopt otherwise.
std::optional<std::vector<std::uint32_t>> ParseDottedHexVersion(std::string_view text);

}  // namespace sigil::policy::internal
