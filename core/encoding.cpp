#include "core/encoding.h"

#include <array>

namespace sigil {
namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr char kB64Std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kB64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Encode64(ByteSpan in, const char* alphabet, bool pad) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    std::uint32_t v = (std::uint32_t{in[i]} << 16) | (std::uint32_t{in[i + 1]} << 8) | in[i + 2];
    for (int s = 18; s >= 0; s -= 6) out.push_back(alphabet[(v >> s) & 63]);
  }
  std::size_t rest = in.size() - i;
  if (rest > 0) {
    std::uint32_t v = std::uint32_t{in[i]} << 16;
    if (rest == 2) v |= std::uint32_t{in[i + 1]} << 8;
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    if (rest == 2) out.push_back(alphabet[(v >> 6) & 63]);
    if (pad) out.append(rest == 1 ? "==" : "=");
  }
  return out;
}

enum class Padding { kForbidden, kRequired };

// One strict decoder for both alphabets: every value has exactly one accepted spelling.
Result<Bytes> Decode64(std::string_view text, const char* alphabet, Padding padding, const char* name) {
  auto bad = [name](const std::string& why) { return Fail(Code::kInvalidArgument, std::string(name) + ": " + why); };
  std::array<int, 256> table;
  table.fill(-1);
  for (int k = 0; k < 64; ++k) table[static_cast<unsigned char>(alphabet[k])] = k;
  std::size_t len = text.size();
  if (padding == Padding::kRequired) {
    if (len % 4 != 0) return bad("length " + std::to_string(len) + " is not a multiple of 4 (padding is required)");
    if (len > 0 && text[len - 1] == '=') --len;
    if (len > 0 && text[len - 1] == '=') --len;
  }
  Bytes out;
  out.reserve(len * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < len; ++i) {
    int v = table[static_cast<unsigned char>(text[i])];
    if (v < 0) {
      if (text[i] == '=' && padding == Padding::kForbidden) {
        return bad("'=' padding at offset " + std::to_string(i) +
                   " is not allowed (unpadded base64url, RFC 7515 section 2)");
      }
      return bad("invalid character at offset " + std::to_string(i));
    }
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>(acc >> bits));
    }
  }
  if (len % 4 == 1) return bad("impossible length " + std::to_string(len));
  // Non-canonical encodings (stray low bits) are refused so every value has one encoding.
  if ((acc & ((1u << bits) - 1)) != 0) return bad("non-zero trailing bits (not the canonical encoding)");
  return out;
}

}  // namespace

std::string HexEncode(ByteSpan bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (auto b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

Result<Bytes> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) return Fail(Code::kInvalidArgument, "hex: odd length " + std::to_string(hex.size()));
  Bytes out(hex.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    int hi = HexValue(hex[2 * i]);
    int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return Fail(Code::kInvalidArgument, "hex: invalid character at offset " + std::to_string(2 * i + (hi < 0 ? 0 : 1)));
    }
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return out;
}

std::string Base64UrlEncode(ByteSpan bytes) { return Encode64(bytes, kB64Url, false); }
Result<Bytes> Base64UrlDecode(std::string_view text) { return Decode64(text, kB64Url, Padding::kForbidden, "base64url"); }
std::string Base64Encode(ByteSpan bytes) { return Encode64(bytes, kB64Std, true); }
Result<Bytes> Base64Decode(std::string_view text) { return Decode64(text, kB64Std, Padding::kRequired, "base64"); }

}  // namespace sigil
