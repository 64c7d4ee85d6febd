// Byte containers for non-secret data (evidence, ciphertext, public keys). Secrets use
// SecretBytes (core/secret_bytes.h) instead.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sigil {

using Bytes = std::vector<std::uint8_t>;
using ByteSpan = std::span<const std::uint8_t>;

inline Bytes ToBytes(std::string_view s) { return Bytes(s.begin(), s.end()); }
inline ByteSpan AsBytes(std::string_view s) {
  return ByteSpan(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}
inline std::string ToString(ByteSpan b) { return std::string(b.begin(), b.end()); }

// Concatenates byte strings: Concat({a, b, c}).
Bytes Concat(std::initializer_list<ByteSpan> parts);

// Big-endian integer encodings (I2OSP in RFC 9180 terms).
void AppendU16(Bytes& out, std::uint16_t v);
void AppendU32(Bytes& out, std::uint32_t v);
void AppendU64(Bytes& out, std::uint64_t v);
std::uint16_t ReadU16(ByteSpan b);  // b.size() >= 2, checked by the caller
std::uint32_t ReadU32(ByteSpan b);
std::uint64_t ReadU64(ByteSpan b);

}  // namespace sigil
