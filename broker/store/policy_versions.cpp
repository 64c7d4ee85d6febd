#include "broker/store/policy_versions.h"

namespace sigil::broker {

Result<void> CheckActivation(const std::string& tenant, const PolicyRow& row, std::int64_t newest_active) {
  const std::string name = "policy version " + std::to_string(row.version) + " of tenant '" + tenant + "'";
  if (row.active) return Fail(Code::kAlreadyExists, name + " is already in force");
  // A proposal overtaken by a later version in force never goes back in force: approving an old
  // proposal must not silently undo the policy the tenant moved on to.
  if (newest_active >= row.version) {
    return Fail(Code::kAlreadyExists, name + " was superseded by version " + std::to_string(newest_active) +
                                               " before its approvals were complete");
  }
  return Ok();
}

Unexpected<Error> ApprovalExists(const std::string& tenant, const PolicyApprovalRow& row) {
  return Fail(Code::kAlreadyExists, "approver " + row.approver.substr(0, 16) + " already approved policy version " +
                                        std::to_string(row.version) + " of tenant '" + tenant + "'");
}

}  // namespace sigil::broker
