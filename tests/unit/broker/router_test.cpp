// The router's own guarantees, without sockets: a handler that throws answers 500 and the caller
// goes on; the access log and error bodies carry input only escaped and bounded.
#include "broker/http/router.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>

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

}  // namespace
}  // namespace sigil::broker
