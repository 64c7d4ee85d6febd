#include "core/bytes.h"

namespace sigil {

Bytes Concat(std::initializer_list<ByteSpan> parts) {
  std::size_t n = 0;
  for (auto p : parts) n += p.size();
  Bytes out;
  out.reserve(n);
  for (auto p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

void AppendU16(Bytes& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}
void AppendU32(Bytes& out, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}
void AppendU64(Bytes& out, std::uint64_t v) {
  for (int s = 56; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}
std::uint16_t ReadU16(ByteSpan b) { return static_cast<std::uint16_t>((b[0] << 8) | b[1]); }
std::uint32_t ReadU32(ByteSpan b) {
  return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
}
std::uint64_t ReadU64(ByteSpan b) {
  return (std::uint64_t{ReadU32(b)} << 32) | ReadU32(b.subspan(4));
}

}  // namespace sigil
