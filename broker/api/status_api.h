// GET /v1/admin/status (`sigil status`): the broker's health at a glance, for operators. Counts
// and states only, never key material, policies or evidence.
#pragma once

#include "broker/broker_context.h"
#include "core/json.h"
#include "core/result.h"

namespace sigil::broker {

// {"ready": bool, "store_problem": string (only when not ready), "tee_types": [..],
//  "collateral": [{"tee", "soonest_expiry": RFC 3339, "seconds_left"}], "open_connections": n,
//  "tenants": n, "keys": {"enabled": n, "disabled": n, "destroyed": n} (key versions, all tenants)}
Result<Json> AdminStatus(const BrokerContext& ctx);

}  // namespace sigil::broker
