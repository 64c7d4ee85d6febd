// Maps HTTP requests onto the workload and admin APIs, and Sigil error codes onto HTTP statuses
// (the only place that mapping exists). Error bodies: {"error":{"code","message","request_id"}}.
#pragma once

#include "broker/broker_context.h"
#include "net/http_types.h"

namespace sigil::broker {

int HttpStatusFor(Code code);
net::HttpResponse Route(const BrokerContext& ctx, const net::HttpRequest& request);

}  // namespace sigil::broker
