// The records of `sigil --json audit list TENANT`, parsed: what integration tests assert on.
#pragma once

#include <string>
#include <vector>

#include "core/json.h"

namespace sigil::testing {

// Each element is one audit record (the canonical JSON the chain hashes), in log order. Output
// that is not an audit listing, and records that do not parse, yield nothing: the caller's
// assertions on the records then fail with what was expected.
std::vector<Json> ParseAuditList(const std::string& cli_json_output);

}  // namespace sigil::testing
