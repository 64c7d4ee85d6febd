// The rules both store backends apply to proposed policy versions (Store::ActivatePolicy,
// Store::AddPolicyApproval), so that they refuse the same things with the same words.
#pragma once

#include <cstdint>
#include <string>

#include "broker/store/store.h"
#include "core/result.h"

namespace sigil::broker {

// Ok if `row` (read in the activating transaction) may go in force while `newest_active` (0 for
// none) is the newest version in force; kAlreadyExists (HTTP 409: a conflict with the state
// the tenant's policy has moved to) otherwise.
Result<void> CheckActivation(const std::string& tenant, const PolicyRow& row, std::int64_t newest_active);

// The kAlreadyExists error of a second approval of one version by one approver.
Unexpected<Error> ApprovalExists(const std::string& tenant, const PolicyApprovalRow& row);

}  // namespace sigil::broker
