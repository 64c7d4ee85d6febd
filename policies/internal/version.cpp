#include "policies/internal/version.h"

#include <algorithm>

namespace sigil::policy::internal {

std::optional<std::vector<std::uint32_t>> ParseDottedVersion(std::string_view text) {
  std::vector<std::uint32_t> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = text.find('.', start);
    const std::string_view part = text.substr(start, dot == std::string_view::npos ? text.npos : dot - start);
    if (part.empty() || part.size() > kMaxVersionComponentDigits) return std::nullopt;
    std::uint32_t n = 0;
    for (char ch : part) {
      if (ch < '0' || ch > '9') return std::nullopt;
      n = n * 10 + static_cast<std::uint32_t>(ch - '0');
    }
    out.push_back(n);
    if (out.size() > kMaxVersionComponents) return std::nullopt;
    if (dot == std::string_view::npos) return out;
    start = dot + 1;
  }
}

std::optional<std::vector<std::uint32_t>> ParseDottedHexVersion(std::string_view text) {
  std::vector<std::uint32_t> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = text.find('.', start);
    const std::string_view part = text.substr(start, dot == std::string_view::npos ? text.npos : dot - start);
    if (part.empty() || part.size() > kMaxHexVersionGroupDigits) return std::nullopt;
    std::uint32_t n = 0;
    for (char ch : part) {
      std::uint32_t digit = 0;
      if (ch >= '0' && ch <= '9') {
        digit = static_cast<std::uint32_t>(ch - '0');
      } else if (ch >= 'a' && ch <= 'f') {
        digit = static_cast<std::uint32_t>(ch - 'a' + 10);
      } else if (ch >= 'A' && ch <= 'F') {
        digit = static_cast<std::uint32_t>(ch - 'A' + 10);
      } else {
        return std::nullopt;
      }
      n = n * 16 + digit;
    }
    out.push_back(n);
    if (out.size() > kMaxHexVersionGroups) return std::nullopt;
    if (dot == std::string_view::npos) return out;
    start = dot + 1;
  }
}

bool VersionAtLeast(const std::vector<std::uint32_t>& a, const std::vector<std::uint32_t>& b) {
  const std::size_t n = std::max(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t x = i < a.size() ? a[i] : 0;
    const std::uint32_t y = i < b.size() ? b[i] : 0;
    if (x != y) return x > y;
  }
  return true;
}

}  // namespace sigil::policy::internal
