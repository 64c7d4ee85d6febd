#include "policies/internal/text.h"

#include <variant>

namespace sigil::policy::internal {

std::string Quote(std::string_view s, std::size_t max_bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "'";
  const std::size_t n = s.size() < max_bytes ? s.size() : max_bytes;
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  if (n < s.size()) out += "...";
  out += "'";
  return out;
}

std::string RenderValue(const attestation::ClaimValue& v, std::size_t max_bytes) {
  if (const auto* s = std::get_if<std::string>(&v)) return Quote(*s, max_bytes);
  return attestation::ClaimToString(v);
}

std::string_view TypeName(const attestation::ClaimValue& v) {
  if (std::holds_alternative<bool>(v)) return "a boolean";
  if (std::holds_alternative<std::int64_t>(v)) return "an integer";
  return "a string";
}

}  // namespace sigil::policy::internal
