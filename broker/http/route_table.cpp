#include "broker/http/route_table.h"

#include "broker/api/admin_api.h"
#include "broker/api/admin_certs_api.h"
#include "broker/api/audit_proof_api.h"
#include "broker/api/key_pins_api.h"
#include "broker/api/status_api.h"
#include "broker/api/metrics_api.h"
#include "broker/api/policy_approval.h"
#include "broker/api/workload_api.h"
#include "broker/kbs/kbs_api.h"
#include "broker/keys/token.h"
#include "broker/tpm/tpm_enrol_api.h"
#include "core/metrics_text.h"
#include "core/names.h"

namespace sigil::broker {
namespace {

// Path segments, empty ones dropped ("//v1/" is "/v1"); the query is not part of the path.
std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < path.size()) {
    const std::size_t j = path.find('/', i);
    const std::size_t end = j == std::string_view::npos ? path.size() : j;
    if (end > i) out.push_back(path.substr(i, end - i));
    i = end + 1;
  }
  return out;
}

std::string BearerToken(const net::HttpRequest& req) {
  auto it = req.headers.find("authorization");
  if (it == req.headers.end() || it->second.rfind("Bearer ", 0) != 0) return "";
  return it->second.substr(7);
}

// The release's attestation token: `Authorization: Bearer T`, or the body's "token" member. A
// composite attestation's token carries every GPU's measurements (~11 KB of claims per H100),
// so eight GPUs exceed the 16 KiB header limit sigild shares with the proxies and load
// balancers in front of a fleet; a body is limited to 1 MiB. Both at once is refused rather
// than one silently winning.
Result<std::string> ReleaseToken(const net::HttpRequest& req, const Json& body) {
  std::string header = BearerToken(req);
  if (!body.contains("token")) {
    if (header.empty()) {
      return Fail(Code::kUnauthenticated,
                  "missing attestation token: send 'Authorization: Bearer <token>' or the body's 'token' member");
    }
    return header;
  }
  if (!header.empty()) {
    return Fail(Code::kInvalidArgument,
                "request.token: the attestation token is also in the Authorization header; send it once");
  }
  if (!body["token"].is_string() || body["token"].get_ref<const std::string&>().empty()) {
    return Fail(Code::kInvalidArgument, "request.token: expected the attestation token as a non-empty string");
  }
  return body["token"].get<std::string>();
}

std::string KbsSession(const net::HttpRequest& req) {
  auto it = req.headers.find("cookie");
  return it == req.headers.end() ? "" : KbsSessionFromCookieHeader(it->second);
}

std::string& CookieOut(const RouteCall& c) {
  static thread_local std::string unused;  // a caller that does not want the cookie
  return c.set_cookie != nullptr ? *c.set_cookie : unused;
}

using C = const RouteCall&;
const auto& P(C c, std::size_t i) { return c.params[i]; }

constexpr RouteEntry kRoutes[] = {
    // Probes and published keys.
    {"GET", "/healthz", Caller::kAnyone, [](C) -> Result<Json> { return Json{{"status", "ok"}}; }},
    // Ready means a release could be recorded now: the store is sound, its last write (or write
    // probe) succeeded and it has room (Store::CheckReady). Answering a read is not enough: a
    // store on a full or read-only disk reads fine while every release fails closed.
    {"GET", "/readyz", Caller::kAnyone,
     [](C c) -> Result<Json> {
       SIGIL_RETURN_IF_ERROR(c.ctx.store->CheckReady());
       return Json{{"status", "ready"}};
     },
     /*log_refusals=*/false},
    {"GET", "/.well-known/jwks.json", Caller::kAnyone,
     [](C c) -> Result<Json> { return TokenKeySet(c.ctx.token_public_key); }},
    // Prometheus scrape: text, and only with a certificate from the admin CA (broker/api/metrics_api.h).
    {.method = "GET", .pattern = "/metrics", .caller = Caller::kAnyone,
     .handle = [](C c) { return HandleMetrics(c.ctx, c.meta); }, .content_type = metrics::kTextContentType},

    // The attestation protocol (docs/protocol.md).
    {"POST", "/v1/challenge", Caller::kWorkload, [](C c) { return HandleChallenge(c.ctx, c.meta, c.body); }, true, true},
    {"POST", "/v1/attest", Caller::kWorkload, [](C c) { return HandleAttest(c.ctx, c.meta, c.body); }, true, true},
    {"POST", "/v1/release", Caller::kWorkload,
     [](C c) -> Result<Json> {
       SIGIL_ASSIGN_OR_RETURN(std::string token, ReleaseToken(c.req, c.body));
       return HandleRelease(c.ctx, c.meta, token, c.body);
     }},
    // The KBS protocol for Confidential Containers guests (docs/protocol.md "KBS front end"):
    // RFC 7807 errors with KBS kinds. Only these three: Sigil's admin API manages policy and keys.
    {.method = "POST", .pattern = "/kbs/v0/auth", .caller = Caller::kWorkload,
     .handle = [](C c) { return KbsAuth(c.ctx, c.meta, c.body, CookieOut(c)); }, .rate_limited = true,
     .kbs_errors = true},
    {.method = "POST", .pattern = "/kbs/v0/attest", .caller = Caller::kWorkload,
     .handle = [](C c) { return KbsAttest(c.ctx, c.meta, c.body, KbsSession(c.req), CookieOut(c)); },
     .rate_limited = true, .kbs_errors = true},
    {.method = "GET", .pattern = "/kbs/v0/resource/{repository}/{type}/{tag}", .caller = Caller::kWorkload,
     .handle = [](C c) { return KbsResource(c.ctx, c.meta, P(c, 0), P(c, 1), P(c, 2), KbsSession(c.req), BearerToken(c.req)); },
     .kbs_errors = true},
    // EK-based TPM AK enrolment: no admin certificate, the proof is the EK (broker/tpm/tpm_enrol_api.h).
    {"POST", "/v1/tpm/enrol/start", Caller::kWorkload, [](C c) { return HandleTpmEnrolStart(c.ctx, c.meta, c.body); },
     true, true},
    {"POST", "/v1/tpm/enrol/finish", Caller::kWorkload, [](C c) { return HandleTpmEnrolFinish(c.ctx, c.meta, c.body); }},

    // The admin API (docs/protocol.md, "Admin API").
    {"POST", "/v1/admin/tenants", Caller::kOperator, [](C c) { return AdminCreateTenant(c.ctx, c.meta, c.body); }},
    {"GET", "/v1/admin/tenants", Caller::kOperator, [](C c) { return AdminListTenants(c.ctx); }},
    {.method = "GET", .pattern = "/v1/admin/status", .caller = Caller::kOperator,
     .handle = [](C c) { return AdminStatus(c.ctx); }, .answers_without_store = true},
    {"POST", "/v1/admin/tenants/{tenant}/keys", Caller::kTenantAdmin,
     [](C c) { return AdminCreateKey(c.ctx, c.meta, P(c, 0), c.body); }},
    {"GET", "/v1/admin/tenants/{tenant}/keys", Caller::kTenantAdmin, [](C c) { return AdminListKeys(c.ctx, P(c, 0)); }},
    {"POST", "/v1/admin/tenants/{tenant}/keys/import", Caller::kTenantAdmin,
     [](C c) { return AdminImportKey(c.ctx, c.meta, P(c, 0), c.body); }},
    {"GET", "/v1/admin/tenants/{tenant}/keys/{key}/public", Caller::kTenantAdmin,
     [](C c) { return AdminPublicKey(c.ctx, P(c, 0), P(c, 1)); }},
    {"POST", "/v1/admin/tenants/{tenant}/keys/{key}/rotate", Caller::kTenantAdmin,
     [](C c) { return AdminRotateKey(c.ctx, c.meta, P(c, 0), P(c, 1)); }},
    {"POST", "/v1/admin/tenants/{tenant}/keys/{key}/disable", Caller::kTenantAdmin,
     [](C c) { return AdminSetKeyEnabled(c.ctx, c.meta, P(c, 0), P(c, 1), false); }},
    {"POST", "/v1/admin/tenants/{tenant}/keys/{key}/enable", Caller::kTenantAdmin,
     [](C c) { return AdminSetKeyEnabled(c.ctx, c.meta, P(c, 0), P(c, 1), true); }},
    {"POST", "/v1/admin/tenants/{tenant}/keys/{key}/destroy", Caller::kTenantAdmin,
     [](C c) { return AdminDestroyKey(c.ctx, c.meta, P(c, 0), P(c, 1), c.body); }},
    {"PUT", "/v1/admin/tenants/{tenant}/keys/{key}/owners", Caller::kTenantAdmin,
     [](C c) { return AdminSetKeyOwners(c.ctx, c.meta, P(c, 0), P(c, 1), c.body); }},
    {"GET", "/v1/admin/tenants/{tenant}/keys/{key}/owners", Caller::kTenantAdmin,
     [](C c) { return AdminGetKeyOwners(c.ctx, P(c, 0), P(c, 1)); }},
    {"PUT", "/v1/admin/tenants/{tenant}/policy", Caller::kTenantAdmin,
     [](C c) { return AdminSetPolicy(c.ctx, c.meta, P(c, 0), c.body); }},
    {"GET", "/v1/admin/tenants/{tenant}/policy", Caller::kTenantAdmin, [](C c) { return AdminGetPolicy(c.ctx, P(c, 0)); }},
    {"POST", "/v1/admin/tenants/{tenant}/policy/rollback", Caller::kTenantAdmin,
     [](C c) { return AdminRollbackPolicy(c.ctx, c.meta, P(c, 0), c.body); }},
    {"GET", "/v1/admin/tenants/{tenant}/policies/{version}", Caller::kTenantAdmin,
     [](C c) { return AdminGetPolicyVersion(c.ctx, P(c, 0), P(c, 1)); }},
    {"POST", "/v1/admin/tenants/{tenant}/policies/{version}/approvals", Caller::kTenantAdmin,
     [](C c) { return AdminApprovePolicy(c.ctx, c.meta, P(c, 0), P(c, 1), c.body); }},
    {"POST", "/v1/admin/tenants/{tenant}/refs", Caller::kTenantAdmin,
     [](C c) { return AdminAddReference(c.ctx, c.meta, P(c, 0), c.body); }},
    {"GET", "/v1/admin/tenants/{tenant}/refs", Caller::kTenantAdmin, [](C c) { return AdminListReferences(c.ctx, P(c, 0)); }},
    {"GET", "/v1/admin/tenants/{tenant}/audit", Caller::kTenantReader, [](C c) { return AdminGetAudit(c.ctx, P(c, 0)); }},
    {"POST", "/v1/admin/tenants/{tenant}/audit/query", Caller::kTenantReader,
     [](C c) { return AdminQueryAudit(c.ctx, P(c, 0), c.body); }},
    {"POST", "/v1/admin/tenants/{tenant}/audit/proof", Caller::kTenantReader,
     [](C c) { return AdminAuditProof(c.ctx, P(c, 0), c.body); }},
    {"POST", "/v1/admin/tenants/{tenant}/audit/receipts", Caller::kTenantReader,
     [](C c) { return AdminAuditReceipts(c.ctx, P(c, 0), c.body); }},
    {"GET", "/v1/admin/tenants/{tenant}/audit/checkpoint", Caller::kTenantReader,
     [](C c) { return AdminAuditTreeHead(c.ctx, P(c, 0)); }},
    {"POST", "/v1/admin/tenants/{tenant}/tpm-aks", Caller::kTenantAdmin,
     [](C c) { return AdminRegisterTpmAk(c.ctx, c.meta, P(c, 0), c.body); }},
    {"GET", "/v1/admin/tenants/{tenant}/tpm-aks", Caller::kTenantAdmin, [](C c) { return AdminListTpmAks(c.ctx, P(c, 0)); }},
    {"DELETE", "/v1/admin/tenants/{tenant}/tpm-aks/{ak}", Caller::kTenantAdmin,
     [](C c) { return AdminRemoveTpmAk(c.ctx, c.meta, P(c, 0), P(c, 1)); }},
    {"POST", "/v1/admin/tenants/{tenant}/tpm-eks", Caller::kTenantAdmin,
     [](C c) { return AdminRegisterTpmEk(c.ctx, c.meta, P(c, 0), c.body); }},
    {"GET", "/v1/admin/tenants/{tenant}/tpm-eks", Caller::kTenantAdmin, [](C c) { return AdminListTpmEks(c.ctx, P(c, 0)); }},
    {"DELETE", "/v1/admin/tenants/{tenant}/tpm-eks/{ek}", Caller::kTenantAdmin,
     [](C c) { return AdminRemoveTpmEk(c.ctx, c.meta, P(c, 0), P(c, 1)); }},
    // Admin certificates: who may issue or revoke which depends on the body (broker/api/admin_certs_api.h).
    {"POST", "/v1/admin/certs", Caller::kAnyAdmin, [](C c) { return AdminIssueCert(c.ctx, c.meta, c.body); }},
    {"POST", "/v1/admin/certs/renew", Caller::kAnyAdmin, [](C c) { return AdminRenewCert(c.ctx, c.meta, c.body); }},
    {"POST", "/v1/admin/certs/revoke", Caller::kAnyAdmin, [](C c) { return AdminRevokeCert(c.ctx, c.meta, c.body); }},
    {"POST", "/v1/admin/tenants/{tenant}/certs/revoke", Caller::kTenantAdmin,
     [](C c) { return AdminRevokeCert(c.ctx, c.meta, c.body, P(c, 0)); }},
};

}  // namespace

std::span<const RouteEntry> RouteTable() { return kRoutes; }

std::optional<RouteMatch> MatchRoute(std::string_view method, std::string_view path) {
  const auto got = Segments(path.substr(0, path.find('?')));
  for (const RouteEntry& e : kRoutes) {
    if (e.method != method) continue;
    const auto want = Segments(e.pattern);
    if (want.size() != got.size()) continue;
    RouteMatch m{&e, {}};
    bool same = true;
    for (std::size_t i = 0; i < want.size() && same; ++i) {
      if (want[i].front() == '{') {
        m.params.emplace_back(got[i]);
      } else {
        same = want[i] == got[i];
      }
    }
    // A literal segment wins over a parameter: the table lists literal routes before any
    // parameterised route they could collide with, so the first match is the right one.
    if (same) return m;
  }
  return std::nullopt;
}

Result<void> CheckPathParams(const RouteMatch& match) {
  std::size_t i = 0;
  for (std::string_view seg : Segments(match.entry->pattern)) {
    if (seg.front() != '{') continue;
    const std::string what = seg == "{tenant}" ? "tenant in path"
                             : seg == "{key}"  ? "key name in path"
                             : seg == "{ak}"   ? "TPM AK id in path"
                             : seg == "{ek}"   ? "TPM EK id in path"
                                               : std::string(seg) + " in path";
    SIGIL_RETURN_IF_ERROR(ValidateName(match.params.at(i++), what));
  }
  return Ok();
}

}  // namespace sigil::broker
