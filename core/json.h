// The one place nlohmann::json parsing is fenced: no exception crosses this seam.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/result.h"

namespace sigil {

using Json = nlohmann::json;

// Parses `text`; `allow_comments` accepts // and /* */ comments (policy files). The error names
// `source` and the byte offset of the problem.
Result<Json> ParseJson(std::string_view text, std::string_view source, bool allow_comments = false);

// Canonical form: object keys sorted, no whitespace, UTF-8 kept as is. Deterministic for a given
// value, so it is what gets hashed and signed (audit records, tokens, dev evidence).
std::string CanonicalJson(const Json& value);

// Typed field access that never throws; errors name `where` (a JSON path such as $.rules[0]).
Result<std::string> GetString(const Json& obj, std::string_view key, std::string_view where);
Result<std::int64_t> GetInt(const Json& obj, std::string_view key, std::string_view where);
Result<bool> GetBool(const Json& obj, std::string_view key, std::string_view where);

}  // namespace sigil
