// Authentication and authorization of the admin API, declared by the route table's Caller
// (broker/http/route_table.h) and applied by the router before any handler runs.
#pragma once

#include <string>

#include "broker/broker_context.h"
#include "broker/http/principal.h"
#include "broker/http/route_table.h"
#include "net/http_types.h"

namespace sigil::broker {

// The verified certificate's principal (PrincipalOf), if the certificate is one this broker (or
// fleet) issued, is registered with the same role and tenant, and is not revoked
// (Store::GetAdminCert): kUnauthenticated / kPermissionDenied otherwise, saying which.
Result<Principal> AuthenticateAdmin(const BrokerContext& ctx, const net::PeerIdentity& peer);

// Whether `p` may call a route of kind `caller` whose {tenant} is `route_tenant` (empty for
// routes without one): kPermissionDenied naming the role needed.
Result<void> AuthorizeAdmin(Caller caller, const Principal& p, const std::string& route_tenant);

// Records a refusal of an authenticated principal: an admin.refused record in the log of the
// tenant it targeted, if that tenant exists, else a warning in the broker's own log.
void RecordAdminRefusal(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant,
                        const std::string& what, const Error& refusal);

}  // namespace sigil::broker
