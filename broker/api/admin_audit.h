// The audit record of a successful admin action, written to the affected tenant's log (every
// admin mutation has one: docs/protocol.md). Shared by the admin handlers of broker/api/.
#pragma once

#include <cstdint>
#include <string>

#include "broker/broker_context.h"
#include "core/result.h"

namespace sigil::broker {

// Appends {actor "admin:<principal>", action, key, version, decision "ok", reason} for `meta`'s
// request. Fails (with the store's reason, e.g. "store_unwritable: ...") if it cannot be written,
// so the operator learns why the action is not on record.
Result<void> AuditAdminAction(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant,
                              const std::string& action, const std::string& key, std::int64_t version,
                              const std::string& reason);

}  // namespace sigil::broker
