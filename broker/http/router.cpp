#include "broker/http/router.h"

#include <cstdio>
#include <vector>

#include "broker/api/admin_api.h"
#include "broker/api/audit_proof_api.h"
#include "broker/api/workload_api.h"
#include "broker/tpm/tpm_enrol_api.h"
#include "core/text.h"
#include "net/http_pipeline.h"

namespace sigil::broker {
namespace {

std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> parts;
  std::string cur;
  for (char c : path.substr(0, path.find('?'))) {
    if (c == '/') {
      if (!cur.empty()) parts.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) parts.push_back(cur);
  return parts;
}

// Longest error message a response carries; messages quote input only in short escaped excerpts,
// this is the backstop for any that grow (e.g. a chain of wrapped causes).
constexpr std::size_t kMaxErrorMessage = 2048;

net::HttpResponse ErrorResponse(const Error& e, const std::string& request_id) {
  std::string message = e.message();
  if (message.size() > kMaxErrorMessage) message = message.substr(0, kMaxErrorMessage) + "... (truncated)";
  Json body{{"error", {{"code", std::string(CodeName(e.code()))}, {"message", message}, {"request_id", request_id}}}};
  return net::HttpResponse{HttpStatusFor(e.code()), "application/json", DumpJson(body)};
}

// Store failures name files on the broker's disk; an anonymous caller learns only the stable tag
// ("store_corrupt", "store_unwritable") and that nothing happened, the operator the rest (log).
// Readiness probes pass log=false: sigild already logs each change of readiness once.
Error ForCaller(const Error& e, const RequestMeta& meta, bool log = true) {
  if (e.code() != Code::kUnavailable || !meta.admin_cn.empty() || e.message().rfind("store_", 0) != 0) return e;
  const std::string tag = e.message().substr(0, e.message().find(':'));
  if (log) std::fprintf(stderr, "sigild: request %s refused: %s\n", meta.request_id.c_str(),
               EscapeForDisplay(e.message(), 400).c_str());
  return Error(Code::kUnavailable, tag + ": the broker cannot record this request now, so nothing was done; "
                                         "the operator has the details (request id in the broker log)");
}

Result<Json> RouteAdmin(const BrokerContext& ctx, const RequestMeta& meta, const std::string& method,
                        const std::vector<std::string>& p, const Json& body) {
  // p = ["v1","admin","tenants", ...]
  const std::size_t n = p.size();
  if (n == 3 && method == "POST") return AdminCreateTenant(ctx, meta, body);
  if (n == 3 && method == "GET") return AdminListTenants(ctx);
  if (n >= 5) {
    const std::string& t = p[3];
    const std::string& what = p[4];
    if (what == "keys" && n == 5 && method == "POST") return AdminCreateKey(ctx, meta, t, body);
    if (what == "keys" && n == 5 && method == "GET") return AdminListKeys(ctx, t);
    if (what == "keys" && n == 7 && p[6] == "public" && method == "GET") return AdminPublicKey(ctx, t, p[5]);
    if (what == "keys" && n == 7 && p[6] == "rotate" && method == "POST") return AdminRotateKey(ctx, meta, t, p[5]);
    if (what == "keys" && n == 7 && p[6] == "disable" && method == "POST") return AdminSetKeyEnabled(ctx, meta, t, p[5], false);
    if (what == "keys" && n == 7 && p[6] == "enable" && method == "POST") return AdminSetKeyEnabled(ctx, meta, t, p[5], true);
    if (what == "keys" && n == 7 && p[6] == "destroy" && method == "POST") return AdminDestroyKey(ctx, meta, t, p[5], body);
    if (what == "keys" && n == 6 && p[5] == "import" && method == "POST") return AdminImportKey(ctx, meta, t, body);
    if (what == "policy" && n == 5 && method == "PUT") return AdminSetPolicy(ctx, meta, t, body);
    if (what == "policy" && n == 5 && method == "GET") return AdminGetPolicy(ctx, t);
    if (what == "refs" && n == 5 && method == "POST") return AdminAddReference(ctx, meta, t, body);
    if (what == "refs" && n == 5 && method == "GET") return AdminListReferences(ctx, t);
    if (what == "audit" && n == 5 && method == "GET") return AdminGetAudit(ctx, t);
    if (what == "audit" && n == 6 && p[5] == "query" && method == "POST") return AdminQueryAudit(ctx, t, body);
    if (what == "audit" && n == 6 && p[5] == "proof" && method == "POST") return AdminAuditProof(ctx, t, body);
    if (what == "tpm-aks" && n == 5 && method == "POST") return AdminRegisterTpmAk(ctx, meta, t, body);
    if (what == "tpm-aks" && n == 5 && method == "GET") return AdminListTpmAks(ctx, t);
    if (what == "tpm-aks" && n == 6 && method == "DELETE") return AdminRemoveTpmAk(ctx, meta, t, p[5]);
    if (what == "tpm-eks" && n == 5 && method == "POST") return AdminRegisterTpmEk(ctx, meta, t, body);
    if (what == "tpm-eks" && n == 5 && method == "GET") return AdminListTpmEks(ctx, t);
  }
  return Fail(Code::kNotFound, "no admin endpoint " + EscapeForDisplay(method, 16) + " /" + [&] {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s += (i ? "/" : "") + p[i];
    return EscapeForDisplay(s, 120);
  }());
}

Result<Json> Dispatch(const BrokerContext& ctx, const RequestMeta& meta, const net::HttpRequest& req,
                      const std::vector<std::string>& p) {
  Json body = Json::object();
  if (!req.body.empty()) {
    SIGIL_ASSIGN_OR_RETURN(body, ParseJson(req.body, "request body"));
    if (!body.is_object()) return Fail(Code::kInvalidArgument, "request body: expected a JSON object");
  }
  if (p.size() == 2 && p[0] == "v1" && req.method == "POST") {
    if (p[1] == "challenge") return HandleChallenge(ctx, meta, body);
    if (p[1] == "attest") return HandleAttest(ctx, meta, body);
    if (p[1] == "release") {
      std::string bearer;
      auto it = req.headers.find("authorization");
      if (it != req.headers.end() && it->second.rfind("Bearer ", 0) == 0) bearer = it->second.substr(7);
      return HandleRelease(ctx, meta, bearer, body);
    }
  }
  // EK-based TPM AK enrolment: no admin certificate, the proof is the EK (broker/tpm/tpm_enrol_api.h).
  if (p.size() == 4 && p[0] == "v1" && p[1] == "tpm" && p[2] == "enrol" && req.method == "POST") {
    if (p[3] == "start") return HandleTpmEnrolStart(ctx, meta, body);
    if (p[3] == "finish") return HandleTpmEnrolFinish(ctx, meta, body);
  }
  if (p.size() >= 3 && p[0] == "v1" && p[1] == "admin" && p[2] == "tenants") {
    // The admin API needs a client certificate chaining to the broker's admin CA, with an
    // operator role in its common name ("operator:<name>").
    if (meta.admin_cn.empty()) return Fail(Code::kUnauthenticated, "the admin API requires a client certificate");
    if (meta.admin_cn.rfind("operator:", 0) != 0) {
      return Fail(Code::kPermissionDenied, "certificate '" + EscapeForDisplay(meta.admin_cn, 64) + "' has no operator role");
    }
    // Path segments that name a tenant or key go through the one name rule before any handler
    // sees them, so nothing else (store, audit, logs) ever holds an unchecked name from a path.
    if (p.size() >= 4) SIGIL_RETURN_IF_ERROR(ValidateName(p[3], "tenant in path"));
    if (p.size() >= 6 && p[4] == "keys" && !(p.size() == 6 && p[5] == "import")) {
      SIGIL_RETURN_IF_ERROR(ValidateName(p[5], "key name in path"));
    }
    if (p.size() >= 6 && p[4] == "tpm-aks") SIGIL_RETURN_IF_ERROR(ValidateName(p[5], "TPM AK id in path"));
    return RouteAdmin(ctx, meta, req.method, p, body);
  }
  return Fail(Code::kNotFound, "no endpoint " + EscapeForDisplay(req.method, 16) + " " + EscapeForDisplay(req.target, 120));
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
    case Code::kInternal: return 500;
  }
  return 500;
}

net::HttpResponse Route(const BrokerContext& ctx, const net::HttpRequest& req) {
  auto id = net::NewRequestId();
  if (!id) {  // no request id, and no nonce or key either: refuse
    return ErrorResponse(Error(Code::kUnavailable, "random number generator failed"), "none");
  }
  RequestMeta meta{*id, req.client_address, req.peer.has_client_certificate ? req.peer.subject_cn : ""};
  auto p = Split(req.target);
  net::HttpResponse res;
  if (req.method == "GET" && p.size() == 1 && p[0] == "healthz") {
    res.body = R"({"status":"ok"})";
  } else if (req.method == "GET" && p.size() == 1 && p[0] == "readyz") {
    // Ready means a release could be recorded now: the store is sound, its last write (or write
    // probe) succeeded and it has room (Store::CheckReady). Answering a read is not enough: a
    // store on a full or read-only disk reads fine while every release fails closed.
    auto ready = ctx.store->CheckReady();
    res = ready ? net::HttpResponse{200, "application/json", R"({"status":"ready"})"}
                : ErrorResponse(ForCaller(ready.error(), meta, /*log=*/false), meta.request_id);
  } else {
    // Last-resort guard: a handler that throws (a bug) answers 500; the broker stays up and the
    // failure is logged. Nothing is released on this path: a release returns only after its
    // audit records are committed, and an exception means it did not return.
    try {
      auto r = Dispatch(ctx, meta, req, p);
      res = r ? net::HttpResponse{200, "application/json", DumpJson(*r)}
              : ErrorResponse(ForCaller(r.error(), meta), meta.request_id);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "sigild: internal error id=%s: %s\n", meta.request_id.c_str(),
                   EscapeForDisplay(e.what(), 200).c_str());
      res = ErrorResponse(Error(Code::kInternal, "internal error; see the broker log"), meta.request_id);
    } catch (...) {
      std::fprintf(stderr, "sigild: internal error id=%s: unknown exception\n", meta.request_id.c_str());
      res = ErrorResponse(Error(Code::kInternal, "internal error; see the broker log"), meta.request_id);
    }
  }
  // One access-log line per request; bodies (which may carry keys or tokens) are never logged,
  // and the method and target are escaped so a request cannot forge log lines.
  std::fprintf(stderr, "sigild: %s %s %s -> %d id=%s\n", req.client_address.c_str(),
               EscapeForDisplay(req.method, 16).c_str(), EscapeForDisplay(req.target, 120).c_str(), res.status,
               meta.request_id.c_str());
  return res;
}

}  // namespace sigil::broker
