// The admin side of protocol v1, independent of HTTP. Callers have already authenticated the
// operator (mTLS); every mutation is written to the affected tenant's audit log.
#pragma once

#include "broker/broker_context.h"
#include "core/json.h"

namespace sigil::broker {

Result<Json> AdminCreateTenant(const BrokerContext& ctx, const RequestMeta& meta, const Json& body);
Result<Json> AdminListTenants(const BrokerContext& ctx);
Result<Json> AdminCreateKey(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant, const Json& body);
Result<Json> AdminRotateKey(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant, const std::string& key);
Result<Json> AdminListKeys(const BrokerContext& ctx, const std::string& tenant);
// The recipient file for offline encryption (loader/recipient_key.h format); newest version.
Result<Json> AdminPublicKey(const BrokerContext& ctx, const std::string& tenant, const std::string& key);
Result<Json> AdminSetPolicy(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant, const Json& body);
Result<Json> AdminGetPolicy(const BrokerContext& ctx, const std::string& tenant);
Result<Json> AdminAddReference(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant, const Json& body);
Result<Json> AdminListReferences(const BrokerContext& ctx, const std::string& tenant);
// Records and the latest signed checkpoint, for offline verification by `sigil audit verify`.
Result<Json> AdminGetAudit(const BrokerContext& ctx, const std::string& tenant);
// Per-tenant TPM attestation keys (`sigil tpm register-ak|list-aks|remove-ak`). The body of
// register is {"ak": PEM SPKI text or base64url DER SPKI, "name": optional label}; an AK is
// named by its fingerprint (hex SHA-256 of the DER SPKI).
Result<Json> AdminRegisterTpmAk(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant, const Json& body);
Result<Json> AdminListTpmAks(const BrokerContext& ctx, const std::string& tenant);
Result<Json> AdminRemoveTpmAk(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant, const std::string& id);

}  // namespace sigil::broker
