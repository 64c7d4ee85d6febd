#include "broker/http/router.h"

#include <optional>
#include <vector>

#include "broker/broker_metrics.h"
#include "broker/http/admin_auth.h"
#include "broker/http/rate_limiter.h"
#include "broker/http/route_table.h"
#include "broker/kbs/kbs_errors.h"
#include "core/log.h"
#include "core/names.h"
#include "core/text.h"
#include "net/http_pipeline.h"

namespace sigil::broker {
namespace {

// Longest error message a response carries; messages quote input only in short escaped excerpts,
// this is the backstop for any that grow (e.g. a chain of wrapped causes).
constexpr std::size_t kMaxErrorMessage = 2048;

net::HttpResponse ErrorResponse(const Error& e, const std::string& request_id) {
  std::string message = e.message();
  if (message.size() > kMaxErrorMessage) message = message.substr(0, kMaxErrorMessage) + "... (truncated)";
  Json body{{"error", {{"code", std::string(CodeName(e.code()))}, {"message", message}, {"request_id", request_id}}}};
  return net::HttpResponse{HttpStatusFor(e.code()), "application/json", DumpJson(body)};
}

// A handler's answer: JSON, or for a text route (RouteEntry::content_type) the string it returned.
net::HttpResponse Success(const RouteEntry* entry, const Json& body) {
  if (entry != nullptr && entry->content_type != "application/json" && body.is_string()) {
    return net::HttpResponse{200, std::string(entry->content_type), body.get<std::string>()};
  }
  return net::HttpResponse{200, "application/json", DumpJson(body)};
}

// Store failures name files on the broker's disk; an anonymous caller learns only the stable tag
// ("store_corrupt", "store_unwritable") and that nothing happened, the operator the rest (log).
// Readiness probes pass log=false: sigild already logs each change of readiness once.
Error ForCaller(const Error& e, const RequestMeta& meta, bool log = true) {
  if (e.code() != Code::kUnavailable || !meta.admin_cn.empty() || e.message().rfind("store_", 0) != 0) return e;
  const std::string tag = e.message().substr(0, e.message().find(':'));
  if (log) log::Warning("request refused: " + e.message(), {{"request_id", meta.request_id}});
  return Error(Code::kUnavailable, tag + ": the broker cannot record this request now, so nothing was done; "
                                         "the operator has the details (request id in the broker log)");
}

// The token buckets of a rate-limited route: the client's address, then the tenant the body
// names (if it is a name at all; the handler refuses it otherwise). 0, or seconds to wait.
int RateLimitWait(const BrokerContext& ctx, const RequestMeta& meta, const Json& body) {
  const auto now = RateLimiter::Clock::now();
  if (ctx.rate_by_address) {
    if (int wait = ctx.rate_by_address->Take(meta.client, now)) return wait;
  }
  if (ctx.rate_by_tenant && body.contains("tenant") && body["tenant"].is_string()) {
    const std::string& tenant = body["tenant"].get_ref<const std::string&>();
    if (ValidateName(tenant, "tenant")) return ctx.rate_by_tenant->Take(tenant, now);
  }
  return 0;
}

// The tenant a request is about, for the log: the {tenant} path parameter of an admin route or
// the "tenant" of a workload request's body, once it passed the name rule (so it is a name, not
// arbitrary input); empty otherwise.
std::string TenantOf(const RouteMatch& match, const Json& body) {
  const std::string_view pattern = match.entry->pattern;
  if (pattern.rfind("/v1/admin/tenants/{tenant}", 0) == 0 && !match.params.empty()) {
    return ValidateName(match.params[0], "tenant") ? match.params[0] : "";
  }
  if (body.contains("tenant") && body["tenant"].is_string()) {
    const std::string& t = body["tenant"].get_ref<const std::string&>();
    if (ValidateName(t, "tenant")) return t;
  }
  return "";
}

// The {tenant} of an admin route ("" for routes without one), once CheckPathParams passed it.
std::string RouteTenant(const RouteMatch& match) {
  return std::string_view(match.entry->pattern).rfind("/v1/admin/tenants/{tenant}", 0) == 0 && !match.params.empty()
             ? match.params[0]
             : "";
}

Result<Json> Dispatch(const BrokerContext& ctx, RequestMeta& meta, const net::HttpRequest& req,
                      const RouteEntry*& entry, int& retry_after, std::string& tenant, std::string& set_cookie) {
  const std::string_view path = std::string_view(req.target).substr(0, req.target.find('?'));
  auto match = MatchRoute(req.method, path);
  if (match) entry = match->entry;  // named in the metrics even if refused before its handler
  // The body is parsed (strict JSON, valid UTF-8, bounded depth) before anything else looks at the
  // request, so bad bytes get the same 400 whatever the route or credentials; only the
  // unauthenticated GETs (probes, key set) never read one.
  Json body = Json::object();
  if (!(match && match->entry->caller == Caller::kAnyone) && !req.body.empty()) {
    SIGIL_ASSIGN_OR_RETURN(body, ParseJson(req.body, "request body"));
    if (!body.is_object()) return Fail(Code::kInvalidArgument, "request body: expected a JSON object");
  }
  if (match) tenant = TenantOf(*match, body);
  // Every path under /v1/admin, matched or not, needs an authenticated principal, so the admin
  // API's shape is not probed without one (Route() authenticated it if it could; this says why not).
  const bool admin = path == "/v1/admin" || path.rfind("/v1/admin/", 0) == 0 || (match && IsAdminCaller(match->entry->caller));
  if (admin) {
    auto p = AuthenticateAdmin(ctx, req.peer);
    if (!p && p.error().code() == Code::kUnavailable && match && match->entry->answers_without_store) {
      p = PrincipalOf(req.peer);
    }
    if (!p) return std::move(p).error();
    meta.principal = std::move(*p);
  }
  if (!match) {
    return Fail(Code::kNotFound, "no endpoint " + EscapeForDisplay(req.method, 16) + " " + EscapeForDisplay(req.target, 120));
  }
  if (auto names = CheckPathParams(*match); !names) {
    if (!entry->kbs_errors) return std::move(names).error();
    return KbsError(KbsKind::kInvalidRequestPath, Error(Code::kNotFound, names.error().message()));
  }
  if (IsAdminCaller(entry->caller)) {
    const std::string route_tenant = RouteTenant(*match);
    // The operator, who lists tenants anyway, is told a tenant does not exist rather than that
    // its role may not act there; a tenant role learns nothing about other tenants.
    if (!route_tenant.empty() && meta.principal->role == Role::kOperator) {
      if (auto t = ctx.store->GetTenantKek(route_tenant); !t && t.error().code() == Code::kNotFound) {
        return std::move(t).error();
      }
    }
    if (auto allowed = AuthorizeAdmin(entry->caller, *meta.principal, route_tenant); !allowed) {
      RecordAdminRefusal(ctx, meta, route_tenant, std::string(entry->method) + " " + std::string(entry->pattern),
                         allowed.error());
      return std::move(allowed).error();
    }
  }
  if (entry->rate_limited) {
    if ((retry_after = RateLimitWait(ctx, meta, body)) > 0) {
      return Fail(Code::kRateLimited, "too many requests from this address or for this tenant; retry after " +
                                          std::to_string(retry_after) + " s (Retry-After)");
    }
  }
  return entry->handle(RouteCall{ctx, meta, req, body, match->params, &set_cookie});
}

}  // namespace

int HttpStatusFor(Code code) {
  switch (code) {
    case Code::kInvalidArgument: return 400;
    case Code::kMalformedEvidence: return 400;
    case Code::kVerificationFailed: return 403;
    case Code::kPolicyDenied: return 403;
    case Code::kNotFound: return 404;
    case Code::kAlreadyExists: return 409;
    case Code::kUnauthenticated: return 401;
    case Code::kPermissionDenied: return 403;
    case Code::kExpired: return 403;
    case Code::kReplay: return 403;
    case Code::kUnavailable: return 503;
    case Code::kRateLimited: return 429;
    case Code::kKeyDisabled: return 403;
    case Code::kKeyDestroyed: return 410;  // Gone: the key material no longer exists anywhere
    case Code::kInternal: return 500;
  }
  return 500;
}

net::HttpResponse Route(const BrokerContext& ctx, const net::HttpRequest& req) {
  auto id = net::NewRequestId();
  if (!id) {  // no request id, and no nonce or key either: refuse
    return ErrorResponse(Error(Code::kUnavailable, "random number generator failed"), "none");
  }
  RequestMeta meta{*id, req.client_address, "", std::nullopt};
  // A certificate from the admin CA that names a principal: enough for /metrics (counts only,
  // and it must answer while the store is down), and it shows store failures' details. The admin
  // API also checks the registry (Dispatch, AuthenticateAdmin).
  if (req.peer.has_client_certificate) {
    if (auto p = PrincipalOf(req.peer)) meta.admin_cn = Describe(*p);
  }
  net::HttpResponse res;
  // Last-resort guard: a handler that throws (a bug) answers 500; the broker stays up and the
  // failure is logged. Nothing is released on this path: a release returns only after its audit
  // records are committed, and an exception means it did not return.
  const RouteEntry* entry = nullptr;
  std::string tenant;
  std::optional<Code> refused;  // the code of an error answer
  try {
    int retry_after = 0;
    std::string set_cookie;
    auto r = Dispatch(ctx, meta, req, entry, retry_after, tenant, set_cookie);
    if (!r) refused = r.error().code();
    const bool kbs = entry != nullptr && entry->kbs_errors;
    res = r     ? Success(entry, *r)
          : kbs ? KbsErrorResponse(ForCaller(r.error(), meta), meta.request_id)
                : ErrorResponse(ForCaller(r.error(), meta, entry == nullptr || entry->log_refusals), meta.request_id);
    res.set_cookie = std::move(set_cookie);
    res.retry_after_seconds = retry_after;
  } catch (const std::exception& e) {
    log::Error(std::string("internal error: ") + e.what(), {{"request_id", meta.request_id}});
    refused = Code::kInternal;
    res = ErrorResponse(Error(Code::kInternal, "internal error; see the broker log"), meta.request_id);
  } catch (...) {
    log::Error("internal error: unknown exception", {{"request_id", meta.request_id}});
    refused = Code::kInternal;
    res = ErrorResponse(Error(Code::kInternal, "internal error; see the broker log"), meta.request_id);
  }
  // One access-log record per request; bodies (which may carry keys, evidence or tokens) are
  // never logged, and the method and target are bounded and escaped by the log (core/log.h), so
  // a request cannot forge records.
  const std::string_view route = entry ? entry->pattern : "unmatched";
  const std::string_view code = refused ? CodeName(*refused) : "";
  log::Info("request", {{"request_id", meta.request_id}, {"client", req.client_address}, {"method", req.method},
                        {"route", route}, {"target", req.target}, {"status", res.status}, {"tenant", tenant},
                        {"code", code}});
  if (ctx.metrics != nullptr) {
    ctx.metrics->CountRequest(entry ? entry->method : "other", entry ? entry->pattern : "unmatched", res.status);
  }
  return res;
}

}  // namespace sigil::broker
