#include "broker/api/admin_certs_api.h"

#include "broker/http/admin_auth.h"
#include "broker/keys/certs.h"
#include "core/log.h"

namespace sigil::broker {
namespace {

constexpr std::int64_t kDefaultDays = 7;
constexpr std::int64_t kMaxDays = 30;

Result<std::int64_t> Days(const Json& body) {
  if (!body.contains("days")) return kDefaultDays;
  SIGIL_ASSIGN_OR_RETURN(std::int64_t days, GetInt(body, "days", "request"));
  if (days < 1 || days > kMaxDays) {
    return Fail(Code::kInvalidArgument, "request.days: admin certificates live 1 to " + std::to_string(kMaxDays) +
                                            " days (renew with `sigil admin renew-cert`)");
  }
  return days;
}

// Refuses and records the refusal (admin_auth.h) in `tenant`'s log, if any.
Error Refused(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant, const char* what,
              Error e) {
  RecordAdminRefusal(ctx, meta, tenant, what, e);
  return e;
}

// Whether the tenant has ever had a tenant-admin certificate (revoked or expired ones count: the
// operator's bootstrap is once per tenant).
Result<bool> HasHadTenantAdmin(const BrokerContext& ctx, const std::string& tenant) {
  SIGIL_ASSIGN_OR_RETURN(auto rows, ctx.store->ListAdminCerts(tenant));
  for (const AdminCertRow& r : rows) {
    if (r.role == RoleName(Role::kTenantAdmin)) return true;
  }
  return false;
}

// Signs, registers and records one certificate for `role`/`tenant` (already authorized).
Result<Json> Issue(const BrokerContext& ctx, const RequestMeta& meta, Role role, const std::string& tenant,
                   const std::string& csr, std::int64_t days, const char* action) {
  if (ctx.admin_ca_pem == nullptr || ctx.admin_ca_key == nullptr) {
    return Fail(Code::kUnavailable, "this broker has no admin CA key loaded; admin certificates cannot be issued");
  }
  const std::string cn = std::string(RoleName(role)) + (tenant.empty() ? "" : ":" + tenant);
  // The common name only labels the certificate (the principal is its URI name); RFC 5280 caps it
  // at 64 characters, which a long tenant name would pass.
  const std::string label = cn.substr(0, 64);
  SIGIL_ASSIGN_OR_RETURN(IssuedAdminCert cert, IssueAdminCertificate(*ctx.admin_ca_pem, *ctx.admin_ca_key, csr,
                                                                     PrincipalUri(role, tenant), label, days * 86400));
  const std::int64_t now = UnixSeconds(ctx.now());
  // Registered before it is handed out: an unregistered certificate is never accepted.
  SIGIL_RETURN_IF_ERROR(ctx.store->PutAdminCert(
      AdminCertRow{cert.serial, std::string(RoleName(role)), tenant, cert.not_after, now, 0, meta.admin_cn, {}}));
  const std::string what = "issued " + cn + " certificate serial " + cert.serial + " for key sha256:" + cert.key_sha256 +
                           ", valid until " + Rfc3339(std::chrono::system_clock::from_time_t(cert.not_after));
  if (!tenant.empty()) {
    AuditEvent ev{meta.request_id, "admin:" + meta.admin_cn, action, "", 0, "ok", what, "", meta.client, "", ""};
    SIGIL_RETURN_IF_ERROR(ctx.audit->Append(tenant, ev));
  } else {
    log::Info("admin certificate issued", {{"request_id", meta.request_id}, {"by", meta.admin_cn}, {"what", what}});
  }
  Json out{{"certificate", cert.pem}, {"serial", cert.serial}, {"role", std::string(RoleName(role))},
           {"not_after", Rfc3339(std::chrono::system_clock::from_time_t(cert.not_after))}, {"key_sha256", cert.key_sha256}};
  if (!tenant.empty()) out["tenant"] = tenant;
  return out;
}

}  // namespace

Result<Json> AdminIssueCert(const BrokerContext& ctx, const RequestMeta& meta, const Json& body) {
  const Principal& caller = *meta.principal;
  SIGIL_ASSIGN_OR_RETURN(std::string role_name, GetString(body, "role", "request"));
  SIGIL_ASSIGN_OR_RETURN(Role role, ParseRole(role_name));
  std::string tenant;
  if (IsTenantRole(role)) {
    SIGIL_ASSIGN_OR_RETURN(tenant, GetString(body, "tenant", "request"));
    SIGIL_RETURN_IF_ERROR(ValidateName(tenant, "request.tenant"));
  } else if (body.contains("tenant")) {
    return Fail(Code::kInvalidArgument, "request.tenant: an operator certificate names no tenant");
  }
  SIGIL_ASSIGN_OR_RETURN(std::string csr, GetString(body, "csr", "request"));
  SIGIL_ASSIGN_OR_RETURN(std::int64_t days, Days(body));
  constexpr const char* kWhat = "POST /v1/admin/certs";
  if (caller.role == Role::kOperator) {
    if (role != Role::kOperator) {
      if (role != Role::kTenantAdmin) {
        return Refused(ctx, meta, tenant, kWhat, Error(Code::kPermissionDenied,
                       "the operator may issue only a tenant's first tenant-admin certificate; its tenant-admin issues auditors"));
      }
      SIGIL_RETURN_IF_ERROR(ctx.store->GetTenantKek(tenant));  // kNotFound for an unknown tenant
      SIGIL_ASSIGN_OR_RETURN(bool had, HasHadTenantAdmin(ctx, tenant));
      if (had) {
        return Refused(ctx, meta, tenant, kWhat, Error(Code::kPermissionDenied,
                       "tenant '" + tenant + "' already has a tenant-admin: only its tenant-admins issue its certificates"));
      }
    }
  } else if (caller.role == Role::kTenantAdmin) {
    if (!IsTenantRole(role) || tenant != caller.tenant) {
      return Refused(ctx, meta, tenant.empty() ? caller.tenant : tenant, kWhat, Error(Code::kPermissionDenied,
                     "a tenant-admin issues only tenant-admin and auditor certificates of its own tenant"));
    }
  } else {
    return Refused(ctx, meta, caller.tenant, kWhat,
                   Error(Code::kPermissionDenied, "an auditor issues no certificates (it may renew its own)"));
  }
  return Issue(ctx, meta, role, tenant, csr, days, "admin.cert.issue");
}

Result<Json> AdminRenewCert(const BrokerContext& ctx, const RequestMeta& meta, const Json& body) {
  const Principal& caller = *meta.principal;
  SIGIL_ASSIGN_OR_RETURN(std::string csr, GetString(body, "csr", "request"));
  SIGIL_ASSIGN_OR_RETURN(std::int64_t days, Days(body));
  return Issue(ctx, meta, caller.role, caller.tenant, csr, days, "admin.cert.renew");
}

Result<Json> AdminRevokeCert(const BrokerContext& ctx, const RequestMeta& meta, const Json& body,
                             const std::string& route_tenant) {
  const Principal& caller = *meta.principal;
  SIGIL_ASSIGN_OR_RETURN(std::string serial, GetString(body, "serial", "request"));
  if (serial.empty() || serial.size() > 64 || serial.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return Fail(Code::kInvalidArgument, "request.serial: expected the certificate's serial in lower-case hex");
  }
  SIGIL_ASSIGN_OR_RETURN(AdminCertRow row, ctx.store->GetAdminCert(serial));
  if (!route_tenant.empty() && row.tenant != route_tenant) {
    return Fail(Code::kNotFound, "tenant '" + route_tenant + "' has no admin certificate with serial " + serial);
  }
  const bool allowed = row.tenant.empty() ? caller.role == Role::kOperator
                                          : caller.role == Role::kTenantAdmin && caller.tenant == row.tenant;
  if (!allowed) {
    return Refused(ctx, meta, row.tenant.empty() ? caller.tenant : row.tenant, "POST /v1/admin/certs/revoke",
                   Error(Code::kPermissionDenied, row.tenant.empty()
                                                      ? "only the operator revokes operator certificates"
                                                      : "only a tenant-admin of tenant '" + row.tenant + "' revokes its certificates"));
  }
  const auto now = ctx.now();
  SIGIL_RETURN_IF_ERROR(ctx.store->RevokeAdminCert(serial, UnixSeconds(now), nullptr));
  const std::string what = "revoked " + row.role + (row.tenant.empty() ? "" : ":" + row.tenant) +
                           " certificate serial " + serial;
  if (!row.tenant.empty()) {
    AuditEvent ev{meta.request_id, "admin:" + meta.admin_cn, "admin.cert.revoke", "", 0, "ok", what, "", meta.client, "", ""};
    SIGIL_RETURN_IF_ERROR(ctx.audit->Append(row.tenant, ev));
  } else {
    log::Info("admin certificate revoked", {{"request_id", meta.request_id}, {"by", meta.admin_cn}, {"what", what}});
  }
  return Json{{"serial", serial}, {"revoked_at", Rfc3339(now)}};
}

Result<Json> IssueFirstTenantAdmin(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant,
                                   const std::string& csr_pem, const Json& body) {
  SIGIL_ASSIGN_OR_RETURN(std::int64_t days, Days(body));
  return Issue(ctx, meta, Role::kTenantAdmin, tenant, csr_pem, days, "admin.cert.issue");
}

}  // namespace sigil::broker
