// Bad input never crashes the broker: each gets a JSON error with a stable code, and the broker
// stays healthy afterwards.
#include <sqlite3.h>

#include "net/https_client.h"
#include "tests/integration/broker_fixture.h"
#include "tests/support/matchers.h"

namespace sigil::integration {
namespace {

struct BadCase {
  const char* name;
  const char* path;
  std::string body;
  int status;
  const char* code;
};

class BadInput : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadInput, RefusedWithAPreciseErrorAndBrokerSurvives) {
  const BadCase& c = GetParam();
  auto client = net::HttpsClient::Create(BrokerEnv::Get().url(), {BrokerEnv::Get().ca(), std::nullopt, std::nullopt});
  ASSERT_TRUE(client.has_value());
  ASSERT_OK_AND_ASSIGN(net::HttpResponse r, (*client)->Send("POST", c.path, c.body, "x.y.z"));
  EXPECT_EQ(r.status, c.status) << r.body;
  auto j = ParseJson(r.body, "error");
  ASSERT_TRUE(j.has_value()) << r.body;
  EXPECT_EQ((*j)["error"].value("code", ""), c.code) << r.body;
  EXPECT_FALSE((*j)["error"].value("message", "").empty());
  auto fresh = net::HttpsClient::Create(BrokerEnv::Get().url(), {BrokerEnv::Get().ca(), std::nullopt, std::nullopt});
  ASSERT_OK_AND_ASSIGN(net::HttpResponse h, (*fresh)->Send("GET", "/healthz", ""));
  EXPECT_EQ(h.status, 200);
}

const std::string kGoodNonce(43, 'A');
INSTANTIATE_TEST_SUITE_P(
    Broker, BadInput,
    ::testing::Values(
        BadCase{"malformed_json", "/v1/challenge", "{\"tenant\":", 400, "invalid_argument"},
        BadCase{"not_an_object", "/v1/challenge", "[1,2]", 400, "invalid_argument"},
        BadCase{"wrong_type", "/v1/challenge", R"({"tenant":5,"tee":"dev"})", 400, "invalid_argument"},
        BadCase{"unknown_tenant", "/v1/challenge", R"({"tenant":"nobody","tee":"dev"})", 404, "not_found"},
        BadCase{"unknown_tee", "/v1/challenge", R"({"tenant":"acme","tee":"quantum"})", 400, "invalid_argument"},
        BadCase{"bad_base64", "/v1/attest",
                R"({"tenant":"acme","tee":"dev","nonce":"!!!","evidence":"AAAA","tee_public_key":{"kty":"OKP","crv":"X25519","x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE"}})",
                400, "invalid_argument"},
        BadCase{"bad_jwk", "/v1/attest",
                R"({"tenant":"acme","tee":"dev","nonce":"AAAA","evidence":"AAAA","tee_public_key":{"kty":"RSA"}})",
                400, "invalid_argument"},
        BadCase{"unissued_nonce", "/v1/attest",
                std::string(R"({"tenant":"acme","tee":"dev","nonce":")") + std::string(43, 'A') +
                    R"(","evidence":"AAAA","tee_public_key":{"kty":"OKP","crv":"X25519","x":"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA"}})",
                404, "not_found"},
        BadCase{"bad_token", "/v1/release", R"({"artifacts":[]})", 401, "unauthenticated"},
        BadCase{"huge_body", "/v1/challenge", std::string(2 << 20, 'x'), 413, "invalid_argument"},
        BadCase{"unknown_endpoint", "/v1/nothing", "{}", 404, "not_found"},
        BadCase{"admin_without_cert", "/v1/admin/tenants", R"({"name":"evil"})", 401, "unauthenticated"}),
    [](const ::testing::TestParamInfo<BadCase>& i) { return std::string(i.param.name); });

TEST(BadInputAdmin, UnknownTenantAndKeyViaCli) {
  auto r = BrokerEnv::Get().Sigil({"key", "create", "nobody/model"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("unknown tenant 'nobody'"), std::string::npos) << r.err;
  r = BrokerEnv::Get().Sigil({"key", "public", "acme/nothing"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("unknown key"), std::string::npos) << r.err;
  r = BrokerEnv::Get().Sigil({"tenant", "create", "Bad Name"});
  EXPECT_EQ(r.exit_code, 2);
}

TEST(AuditCli, VerifyOkThenNamesTheFirstBadRecord) {
  // Tampers with the chain of a tenant of its own: the broker is shared by every test in this
  // binary, and acme's log must stay verifiable for the other tests (FullFlow audits acme).
  auto& env = BrokerEnv::Get();
  for (auto args : std::vector<std::vector<std::string>>{
           {"tenant", "create", "tamper"}, {"key", "create", "tamper/a"}, {"key", "create", "tamper/b"}}) {
    auto r = env.Sigil(args);
    ASSERT_EQ(r.exit_code, 0) << args[0] << " " << args[1] << ": " << r.err;
  }
  auto ok = env.Sigil({"audit", "verify", "tamper"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("audit verify: OK"), std::string::npos) << ok.out;
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open((env.data_dir() + "/store.db").c_str(), &h), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(h, "UPDATE audit SET record=replace(record,'\"decision\":\"ok\"','\"decision\":\"OK\"') "
                            "WHERE tenant='tamper' AND seq=2", nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_EQ(sqlite3_changes(h), 1) << "no audit record tamper/2 with decision ok to tamper with";
  sqlite3_close(h);
  auto bad = env.Sigil({"audit", "verify", "tamper"});
  EXPECT_EQ(bad.exit_code, 4);
  EXPECT_NE(bad.out.find("FAILED at seq 2"), std::string::npos) << bad.out;
}

}  // namespace
}  // namespace sigil::integration
