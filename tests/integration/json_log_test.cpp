// `sigild serve --log-format json` as operators run it: the real broker serves a granted
// attest + release, a refused attest, a 413 and a request with a hostile target; afterwards
// every line sigild wrote to stderr is one JSON object with time (RFC 3339 UTC), level and msg,
// the refusal's record carries the request id, tenant and code of the response, the 413 is
// logged under its id, and no line holds the evidence, the TEE key, the token or any key bytes
// sent or received, in any of the encodings that crossed the wire.
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "core/encoding.h"
#include "core/file_io.h"
#include "core/hpke.h"
#include "core/json.h"
#include "core/protocol.h"
#include "core/utf8.h"
#include "net/https_client.h"
#include "tests/integration/broker_fixture.h"
#include "tests/integration/own_broker.h"
#include "tests/support/matchers.h"

namespace sigil::integration {
namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

// The records whose request_id is `id`.
std::vector<Json> RecordsOf(const std::vector<Json>& records, const std::string& id) {
  std::vector<Json> out;
  for (const Json& r : records) {
    if (r.value("request_id", "") == id) out.push_back(r);
  }
  return out;
}

TEST(JsonLog, EveryLineIsAnObjectWithTheRequiredFieldsAndNoSecrets) {
  OwnBroker b;
  ASSERT_NO_FATAL_FAILURE(b.Start({"--log-format", "json"}));
  std::vector<std::string> secrets;  // every encoding of sensitive bytes that crossed the wire
  auto remember = [&](ByteSpan bytes) {
    secrets.push_back(Base64UrlEncode(bytes));
    secrets.push_back(Base64Encode(bytes));
    secrets.push_back(HexEncode(bytes));
  };

  // Granted: challenge, attest, release of one DEK.
  ASSERT_OK_AND_ASSIGN(auto c, net::BrokerClient::Connect(b.url(), b.ca()));
  Workload w = Workload::Make();
  ASSERT_OK_AND_ASSIGN(Bytes nonce, c->Challenge("acme", "dev"));
  const Bytes evidence = w.EvidenceFor(b.platform_seed(), nonce, kMeasurementA, false);
  ASSERT_OK_AND_ASSIGN(std::string token, c->Attest("acme", "dev", nonce, evidence, w.key.public_key));
  ASSERT_OK_AND_ASSIGN(auto dek, SecretBytes::Random(32));
  ASSERT_OK_AND_ASSIGN(auto sealed, hpke::Seal(hpke::kSigilSuite, b.model_key(), protocol::DekSealInfo("acme", "model", 1),
                                               {}, dek.Reveal(SecretAccess::Get())));
  ASSERT_OK_AND_ASSIGN(auto released, c->Release(token, w.key.public_key,
                                                 {net::ReleaseArtifact{"acme/model", 1, sealed.enc, sealed.ciphertext}}));
  ASSERT_EQ(released.size(), 1u);
  remember(evidence);
  remember(w.key.public_key);
  remember(dek.Reveal(SecretAccess::Get()));
  remember(sealed.enc);
  remember(sealed.ciphertext);
  remember(released[0].enc);
  remember(released[0].sealed_dek);
  remember(b.model_key());
  secrets.push_back(token);

  ASSERT_OK_AND_ASSIGN(auto http, net::HttpsClient::Create(b.url(), {b.ca(), std::nullopt, std::nullopt}));
  // Refused: evidence that is not the dev format, for a real tenant.
  const Bytes junk(300, 0x5a);
  remember(junk);
  ASSERT_OK_AND_ASSIGN(Bytes nonce2, c->Challenge("acme", "dev"));
  const std::string attest_body = DumpJson(Json{{"tenant", "acme"}, {"tee", "dev"}, {"nonce", Base64UrlEncode(nonce2)},
                                                {"evidence", Base64UrlEncode(junk)},
                                                {"tee_public_key", Base64UrlEncode(w.key.public_key)}});
  ASSERT_OK_AND_ASSIGN(net::HttpResponse refused, http->Send("POST", "/v1/attest", attest_body));
  ASSERT_GE(refused.status, 400) << refused.body;
  ASSERT_OK_AND_ASSIGN(Json refused_body, ParseJson(refused.body, "refusal"));
  const std::string refused_id = refused_body["error"]["request_id"].get<std::string>();
  const std::string refused_code = refused_body["error"]["code"].get<std::string>();

  // 413: a body over the 1 MiB bound, refused before routing.
  ASSERT_OK_AND_ASSIGN(auto http413, net::HttpsClient::Create(b.url(), {b.ca(), std::nullopt, std::nullopt}));
  ASSERT_OK_AND_ASSIGN(net::HttpResponse too_large,
                       http413->Send("POST", "/v1/challenge", std::string((1 << 20) + 100, 'A')));
  ASSERT_EQ(too_large.status, 413) << too_large.body;
  ASSERT_OK_AND_ASSIGN(Json too_large_body, ParseJson(too_large.body, "413"));
  const std::string too_large_id = too_large_body["error"]["request_id"].get<std::string>();

  // Hostile target: JSON syntax and escapes, a forged record, percent-encoded controls and an
  // invalid UTF-8 byte (the target itself must be visible ASCII, net/http_pipeline.h).
  const std::string hostile = R"(/v1/x"},{"level":"alarm","msg":"forged\"}\u0000%0a%0d%00%ff%c3%28)";
  ASSERT_OK_AND_ASSIGN(auto http_h, net::HttpsClient::Create(b.url(), {b.ca(), std::nullopt, std::nullopt}));
  ASSERT_OK_AND_ASSIGN(net::HttpResponse hostile_r, http_h->Send("GET", hostile, ""));
  EXPECT_EQ(hostile_r.status, 404) << hostile_r.body;

  ASSERT_EQ(b.Stop(), 0);
  const std::string log = b.log();
  ASSERT_TRUE(IsValidUtf8(log)) << "the log is not UTF-8";
  const std::regex rfc3339(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z)");
  std::vector<Json> records;
  for (const std::string& line : Lines(log)) {
    auto j = ParseJson(line, "log line");
    ASSERT_TRUE(j.has_value() && j->is_object()) << "not a JSON object: " << line;
    ASSERT_TRUE((*j)["time"].is_string() && std::regex_match((*j)["time"].get<std::string>(), rfc3339)) << line;
    ASSERT_TRUE((*j)["level"].is_string()) << line;
    const std::string level = (*j)["level"];
    EXPECT_TRUE(level == "info" || level == "warning" || level == "error" || level == "alarm") << line;
    ASSERT_TRUE((*j)["msg"].is_string()) << line;
    EXPECT_NE((*j)["level"], "alarm") << "no alarm was provoked, none may be forged: " << line;
    records.push_back(*j);
  }
  // Startup records, one access record per request (7 from the flows, the CLI's provisioning),
  // the 413, the stop.
  EXPECT_GE(records.size(), 12u) << log;
  EXPECT_EQ(records.back()["msg"], "stopped") << log;

  // The refusal: its access record names the same id, the tenant, the code and the route.
  const auto refusal = RecordsOf(records, refused_id);
  ASSERT_FALSE(refusal.empty()) << "refusal id " << refused_id << " not logged:\n" << log;
  const Json& access = refusal.back();
  EXPECT_EQ(access["msg"], "request");
  EXPECT_EQ(access["status"], refused.status);
  EXPECT_EQ(access["code"], refused_code);
  EXPECT_EQ(access["tenant"], "acme");
  EXPECT_EQ(access["route"], "/v1/attest");
  EXPECT_EQ(access["method"], "POST");

  // The 413, under the id its client got.
  const auto rejected = RecordsOf(records, too_large_id);
  ASSERT_EQ(rejected.size(), 1u) << "413 id " << too_large_id << " not logged once:\n" << log;
  EXPECT_EQ(rejected[0]["status"], 413);

  // The granted requests are there too, with status 200 and the tenant.
  int granted = 0;
  for (const Json& r : records) {
    if (r.value("route", "") == "/v1/release" && r.value("status", 0) == 200) ++granted;
  }
  EXPECT_EQ(granted, 1) << log;

  // The hostile target is one field of one record, the same bytes (escaped by JSON), not a
  // record of its own.
  int hostile_records = 0;
  for (const Json& r : records) {
    if (r.contains("target") && r["target"] == hostile) ++hostile_records;
  }
  EXPECT_EQ(hostile_records, 1) << log;

  for (const std::string& s : secrets) {
    ASSERT_GE(s.size(), 16u);
    EXPECT_EQ(log.find(s.substr(0, 16)), std::string::npos) << "the log holds sensitive bytes (" << s.substr(0, 16)
                                                             << "...)";
  }
}

// The default stays text, and the option can come from the config file and the environment
// like every other serve option (key log-format in [serve]; SIGILD_LOG_FORMAT beats the file, the
// command line beats both).
TEST(JsonLog, FormatFromConfigFileAndEnvironment) {
  auto line_is_json = [](const std::string& log) {
    const std::string first = log.substr(0, log.find('\n'));
    auto j = ParseJson(first, "first line");
    return j.has_value() && j->is_object();
  };
  {
    OwnBroker text;
    ASSERT_NO_FATAL_FAILURE(text.Start({}));
    ASSERT_EQ(text.Stop(), 0);
    EXPECT_FALSE(line_is_json(text.log())) << text.log();
    EXPECT_EQ(text.log().rfind("sigild: ", 0), 0u) << text.log();
  }
  testing::TempDir dir;
  const std::string toml = dir.File("sigild.toml");
  ASSERT_TRUE(WriteFileAtomic(toml, AsBytes(std::string("[serve]\nlog-format = \"json\"\n")), 0644).has_value());
  auto bad = testing::Run({testing::BinPath("sigild"), "serve", "--data-dir", dir.File("none"), "--log-format", "xml"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("log-format"), std::string::npos) << bad.err;
  auto env_bad = testing::Run({testing::BinPath("sigild"), "--config", toml, "serve", "--data-dir", dir.File("none")},
                              {"SIGILD_LOG_FORMAT=yaml"});
  EXPECT_NE(env_bad.exit_code, 0) << "the environment beats the file: yaml is refused";
  EXPECT_NE(env_bad.err.find("log-format"), std::string::npos) << env_bad.err;
  // The file alone: a missing data directory is refused, as a JSON record.
  auto from_file = testing::Run({testing::BinPath("sigild"), "--config", toml, "serve", "--data-dir", dir.File("none")});
  EXPECT_NE(from_file.exit_code, 0);
  EXPECT_TRUE(line_is_json(from_file.err)) << from_file.err;
  auto from_env = testing::Run({testing::BinPath("sigild"), "serve", "--data-dir", dir.File("none")},
                               {"SIGILD_LOG_FORMAT=json"});
  EXPECT_TRUE(line_is_json(from_env.err)) << from_env.err;
  auto cli_wins = testing::Run({testing::BinPath("sigild"), "serve", "--data-dir", dir.File("none"), "--log-format",
                                "text"}, {"SIGILD_LOG_FORMAT=json"});
  EXPECT_FALSE(line_is_json(cli_wins.err)) << cli_wins.err;
  EXPECT_EQ(cli_wins.err.rfind("sigild: error: ", 0), 0u) << cli_wins.err;
}

}  // namespace
}  // namespace sigil::integration
