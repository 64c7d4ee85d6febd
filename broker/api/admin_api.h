// The admin side of protocol v1, independent of HTTP. Callers have already authenticated the
// operator (mTLS); every mutation is written to the affected tenant's audit log.
#pragma once

#include "broker/api/policy_approval.h"  // AdminSetPolicy and the policy versions' routes
#include "broker/broker_context.h"
#include "core/json.h"

namespace sigil::broker {

Result<Json> AdminCreateTenant(const BrokerContext& ctx, const RequestMeta& meta, const Json& body);
Result<Json> AdminListTenants(const BrokerContext& ctx);
Result<Json> AdminCreateKey(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant, const Json& body);
Result<Json> AdminRotateKey(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant, const std::string& key);
// Key lifecycle. Disable/enable flip every version that is not destroyed (reversible). Destroy
// erases the wrapped private key of one version (body {"version": N}) or all, irreversibly; the
// body must carry {"confirm": "<key name>"}. Destroyed keys refuse release, rotate and enable.
Result<Json> AdminSetKeyEnabled(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant,
                                const std::string& key, bool enabled);
Result<Json> AdminDestroyKey(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant,
                             const std::string& key, const Json& body);
// Operator-supplied key material: {"name", "class"?, "private_key": base64url 32-byte X25519
// private key}. A new key gets version 1; an existing one gets its next version.
Result<Json> AdminImportKey(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant, const Json& body);
Result<Json> AdminListKeys(const BrokerContext& ctx, const std::string& tenant);
// The recipient file for offline encryption (loader/recipient_key.h format); newest version.
Result<Json> AdminPublicKey(const BrokerContext& ctx, const std::string& tenant, const std::string& key);
// Setting a policy, and approving, inspecting and rolling back versions: policy_approval.h.
Result<Json> AdminGetPolicy(const BrokerContext& ctx, const std::string& tenant);
Result<Json> AdminAddReference(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant, const Json& body);
Result<Json> AdminListReferences(const BrokerContext& ctx, const std::string& tenant);
// Records and the latest signed checkpoint, for offline verification by `sigil audit verify`.
Result<Json> AdminGetAudit(const BrokerContext& ctx, const std::string& tenant);
// Filtered, paginated audit records (body: since_ms, until_ms, decision, key, after_seq, limit
// 1..1000, default 100). "next_after_seq" is present when more records may follow.
Result<Json> AdminQueryAudit(const BrokerContext& ctx, const std::string& tenant, const Json& body);
// Per-tenant TPM attestation keys (`sigil tpm register-ak|list-aks|remove-ak`). The body of
// register is {"ak": PEM SPKI text or base64url DER SPKI, "name": optional label}; an AK is
// named by its fingerprint (hex SHA-256 of the DER SPKI).
Result<Json> AdminRegisterTpmAk(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant, const Json& body);
Result<Json> AdminListTpmAks(const BrokerContext& ctx, const std::string& tenant);
Result<Json> AdminRemoveTpmAk(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant, const std::string& id);

}  // namespace sigil::broker
