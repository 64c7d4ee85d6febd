// Every HTTP endpoint of sigild, declared once: method, path pattern, who may call it and the
// handler. The router matches requests against this table and nothing else; docs/openapi.json is
// checked against it by a test, so the description and the server cannot drift apart.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "broker/broker_context.h"
#include "core/json.h"
#include "net/http_types.h"

namespace sigil::broker {

enum class Caller {
  kAnyone,    // probes and published public keys: no authentication at all
  kWorkload,  // the attestation protocol: the proof is in the request (nonce + evidence, the
              // bearer token, or the TPM EK credential), checked by the handler
  // The admin API: a registered, unrevoked client certificate from the broker's admin CA naming a
  // principal (broker/http/principal.h), and the role the route allows. For tenant roles the
  // route's {tenant} must be the principal's own. docs/protocol.md "Admin roles" has the matrix.
  kOperator,      // the operator: tenants, the broker, its status
  kTenantAdmin,   // the tenant-admin of {tenant}: its keys, policy, references, TPM keys
  kTenantReader,  // the tenant-admin or auditor of {tenant}: its audit log, proofs, receipts
  kAnyAdmin,      // any principal; the handler decides (admin certificates)
};

// True for the admin API's callers.
constexpr bool IsAdminCaller(Caller c) { return c != Caller::kAnyone && c != Caller::kWorkload; }

// What a handler gets: the request, its parsed JSON body ({} when empty) and the values of the
// pattern's {parameters}, in order, each already checked with ValidateName.
struct RouteCall {
  const BrokerContext& ctx;
  const RequestMeta& meta;
  const net::HttpRequest& req;
  const Json& body;
  const std::vector<std::string>& params;
  // Out: a Set-Cookie value for the response (the KBS session cookie); null where unused.
  std::string* set_cookie = nullptr;
};

struct RouteEntry {
  std::string_view method;
  std::string_view pattern;  // "/v1/admin/tenants/{tenant}/keys/{key}/rotate"
  Caller caller;
  Result<Json> (*handle)(const RouteCall&);
  bool log_refusals = true;  // false for readiness probes: sigild logs each change of readiness once
  // Anyone may call it and it costs the broker work or state (a nonce, a verification, an
  // enrolment): rate-limited per client address and per tenant (BrokerContext::rate_by_*).
  bool rate_limited = false;
  // Of a successful answer. For anything but JSON the handler returns the body as a JSON
  // string, sent as is (the Prometheus text of /metrics).
  std::string_view content_type = "application/json";
  // Errors as the KBS protocol has them, RFC 7807 problem details with KBS error kinds
  // (broker/kbs/kbs_errors.h), instead of Sigil's {"error":{...}} shape.
  bool kbs_errors = false;
  // An admin route that must answer while the store cannot be read (the operator's status, which
  // says why): there a certificate naming the operator is enough when the registry is unreachable.
  bool answers_without_store = false;
};

std::span<const RouteEntry> RouteTable();

struct RouteMatch {
  const RouteEntry* entry = nullptr;
  std::vector<std::string> params;  // not yet validated
};
// The entry whose method and pattern match `path` (the target without query), if any.
std::optional<RouteMatch> MatchRoute(std::string_view method, std::string_view path);

// Each {parameter} of the match through the one name rule (core/names.h) before any handler sees
// it, so nothing else (store, audit, logs) ever holds an unchecked name from a path.
Result<void> CheckPathParams(const RouteMatch& match);

}  // namespace sigil::broker
