// The router's own guarantees, without sockets: a handler that throws answers 500 and the caller
// goes on; the access log and error bodies carry input only escaped and bounded.
#include "broker/http/router.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>

#include <fstream>
#include <set>
#include <sstream>

#include "broker/broker_metrics.h"
#include "broker/http/principal.h"
#include "broker/http/route_table.h"
#include "core/json.h"
#include "core/utf8.h"

namespace sigil::broker {
namespace {

net::HttpRequest Request(std::string method, std::string target, std::string body = "") {
  net::HttpRequest r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.body = std::move(body);
  r.client_address = "127.0.0.1";
  return r;
}

TEST(Route, AHandlerThatThrowsIsA500AndTheRouterKeepsServing) {
  BrokerContext ctx;  // no store: the release handler throws (from the clock) before it needs one
  ctx.now = []() -> std::chrono::system_clock::time_point { throw std::runtime_error("clock \x1b[2K broke"); };
  auto req = Request("POST", "/v1/release", R"({"tee_public_key":{}})");
  req.headers["authorization"] = "Bearer x.y.z";
  testing::internal::CaptureStderr();
  net::HttpResponse res;
  ASSERT_NO_THROW(res = Route(ctx, req));
  const std::string log = testing::internal::GetCapturedStderr();
  EXPECT_EQ(res.status, 500);
  auto body = ParseJson(res.body, "response");
  ASSERT_TRUE(body.has_value());
  EXPECT_EQ((*body)["error"]["code"], "internal");
  EXPECT_EQ(res.body.find("clock"), std::string::npos) << "the exception text stays in the log";
  EXPECT_NE(log.find("clock \\x1b[2K broke"), std::string::npos) << log;
  EXPECT_EQ(log.find('\x1b'), std::string::npos) << log;
  // Same context, next request: still answered.
  EXPECT_EQ(Route(ctx, Request("GET", "/healthz")).status, 200);
}

// The release token comes in the Authorization header or in the body's "token" member (tokens of
// many-GPU attestations outgrow a header), exactly once. The context's clock throws, so a request
// that got past the token stage is answered 500 by the handler: that is how these tell them apart.
TEST(Route, TheReleaseTokenComesOnceInTheHeaderOrInTheBody) {
  BrokerContext ctx;
  ctx.now = []() -> std::chrono::system_clock::time_point { throw std::runtime_error("reached the handler"); };
  auto code = [](const net::HttpResponse& res) {
    auto body = ParseJson(res.body, "response");
    return body ? (*body)["error"]["code"].get<std::string>() : std::string("unparsable");
  };
  testing::internal::CaptureStderr();
  auto in_header = Request("POST", "/v1/release", R"({"tee_public_key":{}})");
  in_header.headers["authorization"] = "Bearer x.y.z";
  EXPECT_EQ(Route(ctx, in_header).status, 500);
  EXPECT_EQ(Route(ctx, Request("POST", "/v1/release", R"({"token":"x.y.z","tee_public_key":{}})")).status, 500);

  auto neither = Route(ctx, Request("POST", "/v1/release", R"({"tee_public_key":{}})"));
  EXPECT_EQ(neither.status, 401);
  EXPECT_EQ(code(neither), "unauthenticated");
  auto both = Request("POST", "/v1/release", R"({"token":"x.y.z","tee_public_key":{}})");
  both.headers["authorization"] = "Bearer x.y.z";
  auto twice = Route(ctx, both);
  EXPECT_EQ(twice.status, 400);
  EXPECT_EQ(code(twice), "invalid_argument");
  for (const char* bad : {R"({"token":7})", R"({"token":""})", R"({"token":null})", R"({"token":["x.y.z"]})"}) {
    auto res = Route(ctx, Request("POST", "/v1/release", bad));
    EXPECT_EQ(res.status, 400) << bad;
    EXPECT_EQ(code(res), "invalid_argument") << bad;
  }
  testing::internal::GetCapturedStderr();
}

// /metrics: text for any certificate from the admin CA (the TLS layer verified it; the role does
// not matter), 401 without one; every answered request is counted by route pattern and status.
TEST(Route, MetricsAreTextForAnAdminCaCertificateAndRequestsAreCounted) {
  BrokerMetrics metrics;
  BrokerContext ctx;  // no store: not ready
  ctx.metrics = &metrics;
  auto scrape = Request("GET", "/metrics");
  scrape.peer.has_client_certificate = true;
  scrape.peer.subject_cn = "prometheus";
  scrape.peer.uri_names = {"urn:sigil:principal:auditor:acme"};  // any principal scrapes; no store is read
  testing::internal::CaptureStderr();
  const auto anonymous = Route(ctx, Request("GET", "/metrics"));
  const auto first = Route(ctx, scrape);
  (void)Route(ctx, Request("BREW", "/nothing"));
  const auto second = Route(ctx, scrape);
  testing::internal::GetCapturedStderr();
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(anonymous.content_type, "application/json");
  EXPECT_EQ(anonymous.body.find("sigil_"), std::string::npos);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(first.body.find("\nsigil_store_ready 0\n"), std::string::npos) << first.body;
  for (const char* line : {R"(sigil_http_requests_total{method="GET",route="/metrics",code="401"} 1)",
                           R"(sigil_http_requests_total{method="GET",route="/metrics",code="200"} 1)",
                           R"(sigil_http_requests_total{method="other",route="unmatched",code="404"} 1)"}) {
    EXPECT_NE(second.body.find(std::string(line) + "\n"), std::string::npos) << line << "\n" << second.body;
  }
}

TEST(Route, AccessLogAndErrorsEscapeTheTarget) {
  BrokerContext ctx;
  const std::string target = "/v1/\x1b[2K\nsigild: 10.0.0.1 POST /v1/release -> 200\xff" + std::string(5000, 'x');
  testing::internal::CaptureStderr();
  auto res = Route(ctx, Request("GET", target));
  const std::string log = testing::internal::GetCapturedStderr();
  EXPECT_EQ(res.status, 404);
  EXPECT_TRUE(IsValidUtf8(res.body));
  EXPECT_LT(res.body.size(), 600u);
  EXPECT_EQ(res.body.find('\x1b'), std::string::npos);
  // One log line, escaped, bounded.
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1) << log;
  EXPECT_NE(log.find("\\x1b[2K\\x0asigild"), std::string::npos) << log;
  EXPECT_LT(log.size(), 400u);
}

TEST(RouteTable, MatchesLiteralsAndParametersAndIgnoresTheQuery) {
  auto m = MatchRoute("POST", "/v1/admin/tenants/acme/keys/model/rotate?x=1");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->entry->pattern, "/v1/admin/tenants/{tenant}/keys/{key}/rotate");
  EXPECT_EQ(m->params, (std::vector<std::string>{"acme", "model"}));
  m = MatchRoute("POST", "/v1/admin/tenants/acme/keys/import");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->entry->pattern, "/v1/admin/tenants/{tenant}/keys/import");
  EXPECT_FALSE(MatchRoute("GET", "/v1/admin/tenants/acme/keys/model/rotate").has_value()) << "wrong method";
  EXPECT_FALSE(MatchRoute("POST", "/v1/admin/tenants/acme/keys/model/rotate/x").has_value()) << "too long";
  EXPECT_FALSE(MatchRoute("POST", "/v1/challengeX").has_value());
  // Names from the path go through the name rule before any handler.
  m = MatchRoute("GET", "/v1/admin/tenants/%2e%2e/keys");
  ASSERT_TRUE(m.has_value());
  EXPECT_FALSE(CheckPathParams(*m).has_value());
}

// Every admin route, walked from the table: without a client certificate 401, with a
// certificate that names no principal (only a common name, as before roles) 403, before any
// handler runs (this context has no store, so a handler that ran would throw and answer 500).
// Unmatched admin paths too. The role matrix itself: integration/admin_roles_test.cpp.
TEST(RouteTable, EveryAdminRouteNeedsACertificateNamingAPrincipal) {
  BrokerContext ctx;
  int admin_routes = 0;
  for (const RouteEntry& e : RouteTable()) {
    if (!IsAdminCaller(e.caller)) continue;  // (those would run their handlers on this empty context)
    ++admin_routes;
    std::string target(e.pattern);
    for (auto [from, to] : {std::pair{"{tenant}", "acme"}, {"{key}", "model"}, {"{ak}", "ak1"}, {"{version}", "1"}}) {
      if (auto at = target.find(from); at != std::string::npos) target.replace(at, std::string(from).size(), to);
    }
    net::HttpRequest req = Request(std::string(e.method), target, "{}");
    testing::internal::CaptureStderr();
    const int anonymous = Route(ctx, req).status;
    req.peer.has_client_certificate = true;
    req.peer.subject_cn = "operator:admin";  // a prefix in the common name is no principal
    const int no_role = Route(ctx, req).status;
    testing::internal::GetCapturedStderr();
    EXPECT_EQ(anonymous, 401) << e.method << " " << e.pattern;
    EXPECT_EQ(no_role, 403) << e.method << " " << e.pattern;
  }
  EXPECT_GE(admin_routes, 20);
  testing::internal::CaptureStderr();
  EXPECT_EQ(Route(ctx, Request("GET", "/v1/admin/nothing/here")).status, 401);
  testing::internal::GetCapturedStderr();
}

// docs/openapi.json, parsed.
Result<Json> LoadOpenApi() {
  std::ifstream in(std::string(SIGIL_SOURCE_DIR) + "/docs/openapi.json");
  if (!in.good()) return Fail(Code::kNotFound, "docs/openapi.json is missing");
  std::stringstream text;
  text << in.rdbuf();
  return ParseJson(text.str(), "docs/openapi.json");
}

// docs/openapi.json describes exactly the routes the server registers: a route added to the
// table without its description (or a described route the server lacks) fails here.
TEST(RouteTable, OpenApiDescribesExactlyTheRegisteredRoutes) {
  auto doc = LoadOpenApi();
  ASSERT_TRUE(doc.has_value()) << doc.error().message();
  ASSERT_TRUE(doc->contains("openapi") && (*doc)["openapi"].is_string());
  EXPECT_EQ((*doc)["openapi"].get<std::string>().rfind("3.1.", 0), 0u);
  std::set<std::string> described, served;
  for (const auto& [path, item] : (*doc)["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      if (method == "parameters" || method == "summary" || method == "description") continue;
      std::string upper = method;
      for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      described.insert(upper + " " + path);
      EXPECT_TRUE(op.contains("responses") && op["responses"].contains("200")) << upper << " " << path;
      // Every {parameter} of the path is declared, on the operation or the path item.
      std::size_t at = 0;
      while ((at = path.find('{', at)) != std::string::npos) {
        const std::string name = path.substr(at + 1, path.find('}', at) - at - 1);
        bool declared = false;
        for (const Json* params : {&op, &item}) {
          if (!params->contains("parameters")) continue;
          for (Json p : (*params)["parameters"]) {
            // "#/components/parameters/NAME" references resolve within the document.
            const std::string ref = p.value("$ref", "");
            if (ref.rfind("#/components/parameters/", 0) == 0) p = (*doc)["components"]["parameters"][ref.substr(24)];
            declared |= p.value("name", "") == name && p.value("in", "") == "path" && p.value("required", false);
          }
        }
        EXPECT_TRUE(declared) << upper << " " << path << ": path parameter " << name << " not declared";
        ++at;
      }
    }
  }
  for (const RouteEntry& e : RouteTable()) served.insert(std::string(e.method) + " " + std::string(e.pattern));
  for (const auto& r : served) EXPECT_TRUE(described.count(r)) << r << " is served but not in docs/openapi.json";
  for (const auto& r : described) EXPECT_TRUE(served.count(r)) << r << " is in docs/openapi.json but not served";
}

// A key that exists but may not be used has its own codes: disabled is a 403 (an operator may
// enable it again), destroyed a 410 Gone (its material will never come back).
TEST(Route, DisabledAndDestroyedKeysHaveTheirOwnStatus) {
  EXPECT_EQ(HttpStatusFor(Code::kKeyDisabled), 403);
  EXPECT_EQ(HttpStatusFor(Code::kKeyDestroyed), 410);
  EXPECT_EQ(HttpStatusFor(Code::kPermissionDenied), 403);
}

// The error code enum of docs/openapi.json is exactly the set of codes the broker can answer.
TEST(RouteTable, OpenApiListsExactlyTheErrorCodes) {
  auto doc = LoadOpenApi();
  ASSERT_TRUE(doc.has_value()) << doc.error().message();
  const Json& codes = (*doc)["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"];
  std::set<std::string> described, served;
  for (const auto& c : codes) described.insert(c.get<std::string>());
  for (int c = 0; c <= static_cast<int>(Code::kInternal); ++c) served.insert(std::string(CodeName(static_cast<Code>(c))));
  EXPECT_EQ(described, served);
}

}  // namespace
}  // namespace sigil::broker

namespace sigil::broker {
namespace {

net::PeerIdentity Peer(std::vector<std::string> uris) {
  net::PeerIdentity p;
  p.has_client_certificate = true;
  p.subject_cn = "operator:admin";  // never read: the principal is the URI name
  p.uri_names = std::move(uris);
  p.serial = "1a2b";
  return p;
}

// The principal is a typed field read whole: exactly one urn:sigil:principal URI, a known role,
// a tenant under the name rule for tenant roles and none for the operator.
TEST(Principal, ParsedWholeFromOneUriName) {
  auto op_r = PrincipalOf(Peer({"urn:sigil:principal:operator"}));
  ASSERT_TRUE(op_r.has_value()) << op_r.error().message();
  const Principal& op = *op_r;
  EXPECT_EQ(op.role, Role::kOperator);
  EXPECT_EQ(op.tenant, "");
  EXPECT_EQ(op.serial, "1a2b");
  auto ta_r = PrincipalOf(Peer({"https://example.org/x", "urn:sigil:principal:tenant-admin:acme"}));
  ASSERT_TRUE(ta_r.has_value()) << ta_r.error().message();
  const Principal& ta = *ta_r;
  EXPECT_EQ(ta.role, Role::kTenantAdmin);
  EXPECT_EQ(ta.tenant, "acme");
  EXPECT_EQ(Describe(ta), "tenant-admin:acme/1a2b");
  auto au = PrincipalOf(Peer({"urn:sigil:principal:auditor:acme"}));
  ASSERT_TRUE(au.has_value());
  EXPECT_EQ(au->role, Role::kAuditor);
  EXPECT_EQ(PrincipalUri(Role::kAuditor, "acme"), "urn:sigil:principal:auditor:acme");
  EXPECT_EQ(PrincipalUri(Role::kOperator, "ignored"), "urn:sigil:principal:operator");

  net::PeerIdentity none;
  auto anonymous = PrincipalOf(none);
  ASSERT_FALSE(anonymous.has_value());
  EXPECT_EQ(anonymous.error().code(), Code::kUnauthenticated);
  for (const auto& uris : std::vector<std::vector<std::string>>{
           {},                                                                // only a common name
           {"urn:sigil:principal:operator", "urn:sigil:principal:auditor:a"},  // two principals
           {"urn:sigil:principal:operator:acme"},                            // an operator with a tenant
           {"urn:sigil:principal:tenant-admin"},                             // a tenant role without one
           {"urn:sigil:principal:tenant-admin:"},
           {"urn:sigil:principal:tenant-admin:../acme"},
           {"urn:sigil:principal:tenant-admin:Acme"},
           {"urn:sigil:principal:root"},
           {"urn:sigil:principal:operatorx"},
           {std::string("urn:sigil:principal:auditor:ac\0me", 33)}}) {
    SCOPED_TRACE(uris.empty() ? "(none)" : uris.back());
    auto p = PrincipalOf(Peer(uris));
    ASSERT_FALSE(p.has_value());
    EXPECT_EQ(p.error().code(), Code::kPermissionDenied) << p.error().message();
  }
}

}  // namespace
}  // namespace sigil::broker
