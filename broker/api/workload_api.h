// The workload side of protocol v1, independent of HTTP: challenge, attest, release.
// Every decision, granted or refused, is written to the tenant's audit log; a release is answered
// only after its audit records are durable (fail closed: kUnavailable and no key).
#pragma once

#include "broker/broker_context.h"
#include "core/json.h"

namespace sigil::broker {

Result<Json> HandleChallenge(const BrokerContext& ctx, const RequestMeta& meta, const Json& body);
Result<Json> HandleAttest(const BrokerContext& ctx, const RequestMeta& meta, const Json& body);
Result<Json> HandleRelease(const BrokerContext& ctx, const RequestMeta& meta, const std::string& token,
                           const Json& body);

}  // namespace sigil::broker
