#include "broker/api/admin_audit.h"

#include "broker/audit/audit_log.h"

namespace sigil::broker {

Result<void> AuditAdminAction(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant,
                              const std::string& action, const std::string& key, std::int64_t version,
                              const std::string& reason) {
  AuditEvent ev{meta.request_id, "admin:" + meta.admin_cn, action, key, version, "ok", reason, "", meta.client, "", ""};
  if (auto r = ctx.audit->Append(tenant, ev); !r) return std::move(r).error();
  return Ok();
}

}  // namespace sigil::broker
