// GET /metrics: the Prometheus scrape (broker/broker_metrics.h), HTTP-free like the other APIs.
// Only for a client certificate from the broker's admin CA, whatever its role (docs/protocol.md
// "Metrics": the labels name tenants). The body is the text exposition, returned as a JSON
// string that the router sends as is (RouteEntry::content_type).
#pragma once

#include "broker/broker_context.h"
#include "core/json.h"

namespace sigil::broker {

Result<Json> HandleMetrics(const BrokerContext& ctx, const RequestMeta& meta);

}  // namespace sigil::broker
