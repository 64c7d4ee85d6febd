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

// The tenant's release receipts (broker/audit/release_receipt.h), re-derived from its allowed
// release records, each with the record and its inclusion proof in the tree of `tree_size`
// records, under one signed checkpoint of that size (docs/protocol.md "Release receipts").
// Body (all optional): {"key": name, "since_ms": T, "after_seq": N, "size": S, "limit": L}:
// releases of that key, at or after T, with seq > N, proved in the tree of size S (default the
// current size; later pages pass the first page's tree_size), at most L (1..1000, default 1000)
// per answer; "next_after_seq" is set when more may follow.
Result<Json> AdminAuditReceipts(const BrokerContext& ctx, const std::string& tenant, const Json& body);

// The tenant's published tree head (AuditLog::FreshTreeHead): {"tenant", "tree_size", "time_ms",
// "checkpoint": C2SP signed note}, covering the whole log and at most one checkpoint interval
// old (issued now if the published one is older or smaller; docs/protocol.md "Tree heads").
Result<Json> AdminAuditTreeHead(const BrokerContext& ctx, const std::string& tenant);

}  // namespace sigil::broker
