// Policy versions under approval (policies/README.md "Approvals", docs/protocol.md): a tenant
// whose policy in force lists approvers gets every new version as a proposal, in force only once
// `required` of those approvers signed it. Approvals are Ed25519 signatures over
// protocol::PolicyApprovalMessage (core/protocol.h), verified with the keys the policy in force
// pins (never with anything the store or the caller supplies alone), so neither the operator nor
// one tenant-admin can put a policy in force by themselves, and every counted approval can be
// re-checked offline from its audit record.
#pragma once

#include <cstdint>
#include <string>

#include "broker/broker_context.h"
#include "core/json.h"

namespace sigil::broker {

// PUT .../policy: the new version is in force at once when the policy in force lists no
// approvers (or there is none), else stored as a proposal. Answers its version and state.
Result<Json> AdminSetPolicy(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant, const Json& body);
// GET .../policies/{version}: the text, its digest, state and the approvals counted so far.
Result<Json> AdminGetPolicyVersion(const BrokerContext& ctx, const std::string& tenant, const std::string& version);
// POST .../policies/{version}/approvals {"public_key": base64 DER SPKI, "signature": base64}:
// records one approval; the proposal goes in force with the approval that completes it.
Result<Json> AdminApprovePolicy(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant,
                                const std::string& version, const Json& body);
// POST .../policy/rollback {"to": N}: stores the text of version N (which must have been in force
// and be older than the version in force) as the next version, under the same rule as a PUT.
Result<Json> AdminRollbackPolicy(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant,
                                 const Json& body);

}  // namespace sigil::broker
