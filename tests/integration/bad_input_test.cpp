// Bad input never crashes the broker: each gets a JSON error with a stable code, and the broker
// stays healthy afterwards.
#include <sqlite3.h>

#include <chrono>
#include <thread>

#include "core/encoding.h"
#include "core/jwk.h"
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
  // Every error, including those the HTTP layer gives before routing (413), has a request id,
  // and the broker logged the refusal under it so an operator can find it.
  const std::string id = (*j)["error"].value("request_id", "");
  EXPECT_EQ(id.size(), 16u) << r.body;
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << r.body;
  for (int i = 0; i < 50 && BrokerEnv::Get().log().find(id) == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_NE(BrokerEnv::Get().log().find(id), std::string::npos) << "request id " << id << " is not in the broker log";
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

// docs/protocol.md "Encodings": base64url is unpadded everywhere on the wire. Each request below
// is a real one to the real broker that is accepted as sent, and refused with invalid_argument
// naming the field once '=' padding is added to one base64url value, and nothing else changes.
class PaddedBase64Url : public ::testing::Test {
 protected:
  struct Reply {
    int status = 0;
    std::string code, message;
  };
  static Reply Post(const std::string& path, const Json& body, const std::string& token = "") {
    auto client = net::HttpsClient::Create(BrokerEnv::Get().url(), {BrokerEnv::Get().ca(), std::nullopt, std::nullopt});
    EXPECT_TRUE(client.has_value());
    if (!client) return {};
    auto r = (*client)->Send("POST", path, body.dump(), token);
    EXPECT_TRUE(r.has_value());
    if (!r) return {};
    Reply out{r->status, "", ""};
    auto j = ParseJson(r->body, "reply");
    if (j && j->is_object() && j->contains("error")) {
      out.code = (*j)["error"].value("code", "");
      out.message = (*j)["error"].value("message", "");
    }
    return out;
  }
  // The attest body for a fresh nonce, all fields valid.
  static Json AttestBody(const Workload& w) {
    auto c = BrokerEnv::Get().Client();
    auto nonce = c->Challenge("acme", "dev");
    EXPECT_TRUE(nonce.has_value());
    if (!nonce) return Json::object();
    return Json{{"tenant", "acme"},
                {"tee", "dev"},
                {"nonce", Base64UrlEncode(*nonce)},
                {"evidence", Base64UrlEncode(w.Evidence(*nonce, kMeasurementA, false))},
                {"tee_public_key", X25519PublicKeyToJwk(w.key.public_key)}};
  }
  static void ExpectPaddingRefused(const Reply& r, const std::string& field) {
    EXPECT_EQ(r.status, 400) << r.message;
    EXPECT_EQ(r.code, "invalid_argument") << r.message;
    EXPECT_NE(r.message.find(field), std::string::npos) << r.message;
    EXPECT_NE(r.message.find("'=' padding"), std::string::npos) << r.message;
  }
};

TEST_F(PaddedBase64Url, AttestFieldsRefusePaddingAndTheUnpaddedRequestIsGranted) {
  Workload w = Workload::Make();
  // nonce: 32 bytes, 43 characters, one '=' of padding in the RFC 4648 section 4 spelling.
  Json body = AttestBody(w);
  body["nonce"] = body["nonce"].get<std::string>() + "=";
  ExpectPaddingRefused(Post("/v1/attest", body), "request.nonce");
  body = AttestBody(w);
  body["evidence"] = body["evidence"].get<std::string>() + "=";
  ExpectPaddingRefused(Post("/v1/attest", body), "request.evidence");
  body = AttestBody(w);
  body["tee_public_key"]["x"] = body["tee_public_key"]["x"].get<std::string>() + "=";
  ExpectPaddingRefused(Post("/v1/attest", body), "request.tee_public_key.x");
  // A refused decode consumed nothing: this body's nonce was never presented unpadded.
  body["tee_public_key"] = X25519PublicKeyToJwk(w.key.public_key);
  Reply ok = Post("/v1/attest", body);
  EXPECT_EQ(ok.status, 200) << ok.code << ": " << ok.message;
}

TEST_F(PaddedBase64Url, ReleaseFieldsRefusePaddingAndTheUnpaddedRequestIsGranted) {
  auto c = BrokerEnv::Get().Client();
  Workload w = Workload::Make();
  ASSERT_OK_AND_ASSIGN(Bytes nonce, c->Challenge("acme", "dev"));
  ASSERT_OK_AND_ASSIGN(std::string token,
                       c->Attest("acme", "dev", nonce, w.Evidence(nonce, kMeasurementA, false), w.key.public_key));
  TestArtifact a = MakeArtifact("acme", "model");
  auto body = [&](const std::string& enc_pad, const std::string& jwk_pad) {
    Json jwk = X25519PublicKeyToJwk(w.key.public_key);
    jwk["x"] = jwk["x"].get<std::string>() + jwk_pad;
    return Json{{"tee_public_key", jwk},
                {"artifacts", Json::array({Json{{"key", a.artifact.key},
                                                {"version", a.artifact.version},
                                                {"enc", Base64UrlEncode(a.artifact.enc) + enc_pad},
                                                {"sealed_dek", Base64UrlEncode(a.artifact.sealed_dek)}}})}};
  };
  ASSERT_EQ(a.artifact.enc.size() % 3, 2u) << "enc is 32 bytes: one '=' in the padded spelling";
  ExpectPaddingRefused(Post("/v1/release", body("=", ""), token), "request.artifacts[0].enc");
  ExpectPaddingRefused(Post("/v1/release", body("", "="), token), "request.tee_public_key.x");
  Reply ok = Post("/v1/release", body("", ""), token);
  EXPECT_EQ(ok.status, 200) << ok.code << ": " << ok.message;
}

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
