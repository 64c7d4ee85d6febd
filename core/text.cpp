#include "core/text.h"

namespace sigil {

std::string EscapeForDisplay(std::string_view text, std::size_t max_input_bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  const bool truncated = text.size() > max_input_bytes;
  if (truncated) text = text.substr(0, max_input_bytes);
  std::string out;
  out.reserve(text.size() + 3);
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\\') {
      out += "\\\\";
    } else if (c >= 0x20 && c < 0x7f) {
      out.push_back(ch);
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  if (truncated) out += "...";
  return out;
}

}  // namespace sigil
