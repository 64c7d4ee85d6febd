#include "broker/api/key_pins_api.h"

#include "broker/api/admin_audit.h"
#include "broker/keys/key_pins.h"
#include "core/protocol.h"

namespace sigil::broker {

Result<Json> AdminSetKeyOwners(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant,
                               const std::string& key, const Json& body) {
  SIGIL_ASSIGN_OR_RETURN(KeyPins pins, ParseKeyPins(body));
  SIGIL_RETURN_IF_ERROR(ctx.store->LatestKeyVersion(tenant, key));  // only a key that exists is pinned
  SIGIL_RETURN_IF_ERROR(PutKeyPins(*ctx.store, *ctx.keys, tenant, key, pins));
  std::string reason = pins.requires_signature() ? "releases require a signature by owner key(s)" : "no owner pinned";
  for (const Bytes& o : pins.owners) reason += " " + protocol::OwnerKeyId(o);
  if (!pins.artifact_ids.empty()) reason += "; allowlist of " + std::to_string(pins.artifact_ids.size()) + " artifact(s)";
  SIGIL_RETURN_IF_ERROR(AuditAdminAction(ctx, meta, tenant, "admin.key.owners", key, 0, reason));
  Json out = KeyPinsJson(pins);
  out["tenant"] = tenant;
  out["key"] = key;
  return out;
}

Result<Json> AdminGetKeyOwners(const BrokerContext& ctx, const std::string& tenant, const std::string& key) {
  SIGIL_RETURN_IF_ERROR(ctx.store->LatestKeyVersion(tenant, key));
  SIGIL_ASSIGN_OR_RETURN(KeyPins pins, GetKeyPins(*ctx.store, *ctx.keys, tenant, key));
  Json out = KeyPinsJson(pins);
  out["tenant"] = tenant;
  out["key"] = key;
  return out;
}

}  // namespace sigil::broker
