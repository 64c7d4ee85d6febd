#include "core/jcs.h"

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

namespace sigil {
namespace {

// Largest integer an IEEE 754 double (ECMAScript's only number type) holds exactly.
constexpr std::int64_t kMaxSafeInteger = (std::int64_t{1} << 53) - 1;

// The UTF-16 code units of a UTF-8 string (already validated by the JSON parser), for ordering.
std::u16string Utf16(const std::string& s) {
  std::u16string out;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::uint32_t cp = c;
    std::size_t n = 1;
    if (c >= 0xf0) {
      cp = c & 0x07u;
      n = 4;
    } else if (c >= 0xe0) {
      cp = c & 0x0fu;
      n = 3;
    } else if (c >= 0xc0) {
      cp = c & 0x1fu;
      n = 2;
    }
    for (std::size_t k = 1; k < n && i + k < s.size(); ++k) {
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3fu);
    }
    i += n;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out.push_back(static_cast<char16_t>(0xd800 + (cp >> 10)));
      out.push_back(static_cast<char16_t>(0xdc00 + (cp & 0x3ff)));
    } else {
      out.push_back(static_cast<char16_t>(cp));
    }
  }
  return out;
}

// Section 3.2.2.2: the escapes of ECMAScript JSON.stringify; everything else as is.
void AppendString(const std::string& s, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

Result<void> Append(const Json& v, const std::string& path, std::string& out) {
  switch (v.type()) {
    case Json::value_t::null: out += "null"; return Ok();
    case Json::value_t::boolean: out += v.get<bool>() ? "true" : "false"; return Ok();
    case Json::value_t::string: AppendString(v.get_ref<const std::string&>(), out); return Ok();
    case Json::value_t::number_integer: {
      const std::int64_t n = v.get<std::int64_t>();
      if (n > kMaxSafeInteger || n < -kMaxSafeInteger) break;
      out += std::to_string(n);
      return Ok();
    }
    case Json::value_t::number_unsigned: {
      const std::uint64_t n = v.get<std::uint64_t>();
      if (n > static_cast<std::uint64_t>(kMaxSafeInteger)) break;
      out += std::to_string(n);
      return Ok();
    }
    case Json::value_t::array: {
      out += '[';
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (i > 0) out += ',';
        SIGIL_RETURN_IF_ERROR(Append(v[i], path + "[" + std::to_string(i) + "]", out));
      }
      out += ']';
      return Ok();
    }
    case Json::value_t::object: {
      std::vector<std::pair<std::u16string, const std::string*>> keys;
      keys.reserve(v.size());
      for (const auto& [k, _] : v.get_ref<const Json::object_t&>()) keys.emplace_back(Utf16(k), &k);
      std::sort(keys.begin(), keys.end());
      out += '{';
      bool first = true;
      for (const auto& [_, k] : keys) {
        if (!first) out += ',';
        first = false;
        AppendString(*k, out);
        out += ':';
        SIGIL_RETURN_IF_ERROR(Append(v.at(*k), path + "." + *k, out));
      }
      out += '}';
      return Ok();
    }
    default: break;
  }
  return Fail(Code::kInvalidArgument, path + ": only integers of magnitude below 2^53 can be canonicalised (RFC 8785)");
}

}  // namespace

Result<std::string> Jcs(const Json& value) {
  std::string out;
  SIGIL_RETURN_IF_ERROR(Append(value, "$", out));
  return out;
}

}  // namespace sigil
