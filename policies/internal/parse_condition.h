// Parsing of condition trees (the `when` of a rule). Internal to policies/.
#pragma once

#include <string>
#include <string_view>

#include "core/json.h"
#include "core/result.h"
#include "policies/model.h"

namespace sigil::policy::internal {

// Parses the condition `j` found at JSON path `path`, `depth` levels deep (a rule's `when` is
// depth 1). Fails with kInvalidArgument "<JSON path>: <problem>".
Result<Condition> ParseCondition(const Json& j, const std::string& path, int depth);

// True if `name` is 1..kMaxNameLength bytes of [A-Za-z0-9._:/-] (claim and reference-set
// names), or of [A-Za-z0-9._-] when `allow_separators` is false (rule names).
bool IsValidName(std::string_view name, bool allow_separators);

// The JSON type of `j` in words, for messages ("a string", "an array", ...).
std::string JsonTypeName(const Json& j);

}  // namespace sigil::policy::internal
