// Parsing of a rule's memory: its `limits` and `single_use_token` fields (policies/README.md
// "Release limits"). Internal to policies/.
#pragma once

#include <string>
#include <vector>

#include "core/json.h"
#include "core/result.h"
#include "policies/model.h"

namespace sigil::policy::internal {

// `v` is the value of a rule's "limits" field at `path`: an array of 1..kMaxLimitsPerRule objects
// {"max": N, "per_seconds": S, "per_claim": CLAIM (optional)}. kInvalidArgument "<path>: <problem>"
// for anything else, including two limits that say the same thing.
Result<std::vector<ReleaseLimit>> ParseLimits(const Json& v, const std::string& path);

}  // namespace sigil::policy::internal
