// The one place nlohmann::json parsing is fenced: no exception crosses this seam.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/result.h"

namespace sigil {

using Json = nlohmann::json;

// Deepest nesting ParseJson accepts; no Sigil message or file comes near it.
inline constexpr int kMaxJsonDepth = 64;

// Parses `text`; `allow_comments` accepts // and /* */ comments (policy files). Refuses text that
// is not valid UTF-8, duplicate keys in any object, and nesting deeper than kMaxJsonDepth. The
// error names `source` and the byte offset of the problem and never quotes raw input bytes.
Result<Json> ParseJson(std::string_view text, std::string_view source, bool allow_comments = false);

// Canonical form: object keys sorted, no whitespace, UTF-8 kept as is. Deterministic for a given
// value, so it is what gets hashed and signed (audit records, tokens, dev evidence).
std::string CanonicalJson(const Json& value);

// Serialises without ever throwing: any invalid UTF-8 in strings becomes U+FFFD. For responses
// and output whose content may include bytes read back from storage.
std::string DumpJson(const Json& value);

// A JSON integer that fits int64; unsigned values above INT64_MAX and non-integers are refused.
Result<std::int64_t> JsonToInt64(const Json& value, std::string_view where);

// Typed field access that never throws; errors name `where` (a JSON path such as $.rules[0]).
Result<std::string> GetString(const Json& obj, std::string_view key, std::string_view where);
Result<std::int64_t> GetInt(const Json& obj, std::string_view key, std::string_view where);
Result<bool> GetBool(const Json& obj, std::string_view key, std::string_view where);

}  // namespace sigil
