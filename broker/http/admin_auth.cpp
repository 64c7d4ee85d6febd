#include "broker/http/admin_auth.h"

#include "core/log.h"
#include "core/names.h"

namespace sigil::broker {

Result<Principal> AuthenticateAdmin(const BrokerContext& ctx, const net::PeerIdentity& peer) {
  SIGIL_ASSIGN_OR_RETURN(Principal p, PrincipalOf(peer));
  auto row = ctx.store->GetAdminCert(p.serial);
  if (!row) {
    if (row.error().code() != Code::kNotFound) return std::move(row).error();
    return Fail(Code::kUnauthenticated, "the client certificate (serial " + p.serial +
                                            ") was not issued by this broker's admin API");
  }
  if (row->revoked_at != 0) {
    return Fail(Code::kUnauthenticated, "the client certificate (serial " + p.serial + ") was revoked");
  }
  // The registry says what was issued; a certificate that names anything else was not.
  if (row->role != RoleName(p.role) || row->tenant != p.tenant) {
    return Fail(Code::kUnauthenticated, "the client certificate (serial " + p.serial +
                                            ") names another principal than the one it was issued for");
  }
  return p;
}

Result<void> AuthorizeAdmin(Caller caller, const Principal& p, const std::string& route_tenant) {
  const auto needs = [&](const char* who) {
    return Fail(Code::kPermissionDenied, std::string(RoleName(p.role)) + " may not do this: it needs " + who);
  };
  switch (caller) {
    case Caller::kOperator:
      if (p.role != Role::kOperator) return needs("the operator role");
      return Ok();
    case Caller::kTenantAdmin:
    case Caller::kTenantReader: {
      const bool role_ok = p.role == Role::kTenantAdmin || (caller == Caller::kTenantReader && p.role == Role::kAuditor);
      const char* who = caller == Caller::kTenantAdmin ? "the tenant-admin role of this tenant"
                                                       : "the tenant-admin or auditor role of this tenant";
      if (!role_ok) return needs(who);
      if (p.tenant != route_tenant) {
        return Fail(Code::kPermissionDenied, std::string(RoleName(p.role)) + " of tenant '" + p.tenant +
                                                 "' may not act on another tenant");
      }
      return Ok();
    }
    case Caller::kAnyAdmin: return Ok();
    case Caller::kAnyone:
    case Caller::kWorkload: break;
  }
  return Fail(Code::kInternal, "not an admin route");
}

void RecordAdminRefusal(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant,
                        const std::string& what, const Error& refusal) {
  const std::string reason = AuditReason(refusal);
  if (!tenant.empty() && ValidateName(tenant, "tenant") && ctx.store->GetTenantKek(tenant)) {
    AuditEvent ev{meta.request_id, "admin:" + meta.admin_cn, "admin.refused", "", 0, "deny", reason, "", meta.client,
                  "", what};
    if (ctx.audit->Append(tenant, ev)) return;
  }
  log::Warning("admin request refused", {{"request_id", meta.request_id}, {"principal", meta.admin_cn},
                                         {"request", what}, {"reason", reason}});
}

}  // namespace sigil::broker
