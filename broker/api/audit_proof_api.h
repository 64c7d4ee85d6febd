// Transparency-log proofs over a tenant's audit log (docs/protocol.md "Audit proofs"): a signed
// checkpoint of the Merkle tree (broker/audit/audit_tree.h) with an inclusion proof for one
// record, or with a consistency proof that the tree at one size is a prefix of the tree at a
// later size. HTTP-free, like the other admin handlers.
#pragma once

#include "broker/broker_context.h"
#include "core/json.h"

namespace sigil::broker {

// Body {"seq": N, "size"?: S} (inclusion of record N in the tree of size S, default the current
// size) or {"from": A, "to"?: B} (consistency of size A with size B, default the current size).
Result<Json> AdminAuditProof(const BrokerContext& ctx, const std::string& tenant, const Json& body);

}  // namespace sigil::broker
