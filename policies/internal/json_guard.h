// A pre-pass over policy text, before any document is built: refuses duplicate object keys
// (nlohmann::json would silently keep the last one, so a reviewer and the engine could read
// different policies) and nesting deeper than `max_depth`. Internal to policies/.
#pragma once

#include <string_view>

#include "core/result.h"

namespace sigil::policy::internal {

// Ok if `text` has no duplicate keys and nests at most `max_depth` containers, or if it is not
// valid JSON at all (ParseJson then reports the syntax error with its byte offset). Otherwise
// kInvalidArgument "<JSON path>: <problem>". Comments are accepted. Never throws.
Result<void> CheckJsonStructure(std::string_view text, int max_depth);

}  // namespace sigil::policy::internal
