// Admin API for a key's provenance pins (broker/keys/key_pins.h), independent of HTTP:
// PUT/GET /v1/admin/tenants/{tenant}/keys/{key}/owners (tenant-admin; docs/protocol.md).
#pragma once

#include "broker/broker_context.h"
#include "core/json.h"

namespace sigil::broker {

// Replaces the pins of an existing key with the body {"owners": [...], "artifact_ids": [...]}
// (ParseKeyPins); {"owners": []} removes the requirement. Audited as admin.key.owners with the
// owner key ids. kNotFound (no such key), kInvalidArgument, kUnavailable.
Result<Json> AdminSetKeyOwners(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant,
                               const std::string& key, const Json& body);
// The pins of an existing key (KeyPinsJson plus tenant and key).
Result<Json> AdminGetKeyOwners(const BrokerContext& ctx, const std::string& tenant, const std::string& key);

}  // namespace sigil::broker
