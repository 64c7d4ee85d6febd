// Admin certificates (docs/protocol.md "Admin roles"): issuing, renewing and revoking the client
// certificates that name admin principals (broker/http/principal.h). Who may issue what:
//   - the operator: operator certificates; and a tenant's FIRST tenant-admin certificate, only
//     while the tenant has never had one (how a tenant is handed over, also at tenant creation);
//   - a tenant-admin: tenant-admin and auditor certificates of its own tenant;
//   - anyone: a renewal of its own certificate (same role and tenant, new key).
// Revoking: the operator revokes operator certificates, a tenant-admin its tenant's. Every
// issuance and revocation of a tenant's certificate, and every refusal, is an audit record in
// that tenant's log; the operator's go to the broker's log.
#pragma once

#include "broker/broker_context.h"
#include "core/json.h"

namespace sigil::broker {

// Body {"role", "tenant" (tenant roles), "csr": PEM PKCS #10, "days": 1-30 (default 7)};
// answers {"certificate", "serial", "role", "tenant", "not_after", "key_sha256"}.
Result<Json> AdminIssueCert(const BrokerContext& ctx, const RequestMeta& meta, const Json& body);
// Body {"csr", "days"}: a certificate for the caller's own role and tenant. The old one stays
// valid until it expires or is revoked.
Result<Json> AdminRenewCert(const BrokerContext& ctx, const RequestMeta& meta, const Json& body);
// Body {"serial"}: answers {"serial", "revoked_at"}; in force for the next request at every broker.
// Through /v1/admin/tenants/{tenant}/certs/revoke (`route_tenant`), only that tenant's certificates.
Result<Json> AdminRevokeCert(const BrokerContext& ctx, const RequestMeta& meta, const Json& body,
                             const std::string& route_tenant = "");
// The first tenant-admin certificate of a tenant just created (AdminCreateTenant with
// "admin_csr"): the operator's bootstrap issuance.
Result<Json> IssueFirstTenantAdmin(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant,
                                   const std::string& csr_pem, const Json& body);

}  // namespace sigil::broker
