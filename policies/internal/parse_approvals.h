// Parsing of a policy's `approvals` field (policies/README.md "Approvals"): who must sign a new
// policy version before it goes in force. Internal to policies/.
#pragma once

#include <string>

#include "core/json.h"
#include "core/result.h"
#include "policies/model.h"

namespace sigil::policy::internal {

// `v` is the value of the document's "approvals" field at `path` ("$.approvals"):
// {"required": K, "approvers": [{"name": N, "public_key": BASE64_DER_SPKI}, ...]}, with 1..
// kMaxApprovers approvers of distinct names and keys (Ed25519 only) and 1 <= K <= their number.
// kInvalidArgument "<path>: <problem>" for anything else.
Result<ApprovalRule> ParseApprovals(const Json& v, const std::string& path);

}  // namespace sigil::policy::internal
