// GET /metrics against the real broker: refused without a certificate from the admin CA; with
// one, the Prometheus text format that promtool (Debian's prometheus package, a required test
// tool) accepts, and counters that move by exactly what a granted attest + release, a release
// refused by policy and an attest refused for a tenant without a policy did.
#include <map>
#include <sstream>
#include <string>

#include "core/file_io.h"
#include "net/https_client.h"
#include "tests/integration/broker_fixture.h"
#include "tests/support/matchers.h"

namespace sigil::integration {
namespace {

// Sample lines of a scrape: "name{labels}" exactly as written -> value.
std::map<std::string, double> Samples(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.rfind(' ');
    out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

double Delta(const std::map<std::string, double>& before, const std::map<std::string, double>& after,
             const std::string& key) {
  auto b = before.find(key);
  auto a = after.find(key);
  return (a == after.end() ? 0 : a->second) - (b == before.end() ? 0 : b->second);
}

std::unique_ptr<net::HttpsClient> Scraper(bool with_certificate) {
  auto& env = BrokerEnv::Get();
  net::ClientTlsConfig tls{env.ca(), std::nullopt, std::nullopt};
  if (with_certificate) {
    tls.cert_file = env.admin_dir() + "/admin.pem";
    tls.key_file = env.admin_dir() + "/admin.key";
  }
  auto c = net::HttpsClient::Create(env.url(), tls);
  EXPECT_TRUE(c.has_value());
  return c ? std::move(*c) : nullptr;
}

std::string Scrape() {
  auto c = Scraper(true);
  auto r = c->Send("GET", "/metrics", "");
  EXPECT_TRUE(r.has_value());
  if (!r) return "";
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->content_type, "text/plain; version=0.0.4; charset=utf-8");
  return r->body;
}

TEST(Metrics, RefusedWithoutAnAdminCaCertificate) {
  auto c = Scraper(false);
  ASSERT_OK_AND_ASSIGN(net::HttpResponse r, c->Send("GET", "/metrics", ""));
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(r.body.find("sigil_"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("client certificate"), std::string::npos) << r.body;
}

TEST(Metrics, ScrapeCountsExactlyWhatHappenedAndPromtoolAcceptsIt) {
  const std::string first = Scrape();
  const auto before = Samples(first);

  auto c = BrokerEnv::Get().Client();
  // Granted: attest + release of one artifact.
  Workload w = Workload::Make();
  ASSERT_OK_AND_ASSIGN(Bytes nonce, c->Challenge("acme", "dev"));
  ASSERT_OK_AND_ASSIGN(std::string token,
                       c->Attest("acme", "dev", nonce, w.Evidence(nonce, kMeasurementA, false), w.key.public_key));
  TestArtifact a = MakeArtifact("acme", "model");
  ASSERT_OK(c->Release(token, w.key.public_key, {a.artifact}));
  // Refused at release: the policy does not approve measurement B.
  Workload w2 = Workload::Make();
  ASSERT_OK_AND_ASSIGN(Bytes nonce2, c->Challenge("acme", "dev"));
  ASSERT_OK_AND_ASSIGN(std::string token2,
                       c->Attest("acme", "dev", nonce2, w2.Evidence(nonce2, kMeasurementB, false), w2.key.public_key));
  EXPECT_CODE(c->Release(token2, w2.key.public_key, {MakeArtifact("acme", "model").artifact}), Code::kPolicyDenied);
  // Refused at attest: bob has no policy.
  ASSERT_OK_AND_ASSIGN(Bytes nonce3, c->Challenge("bob", "dev"));
  EXPECT_CODE(c->Attest("bob", "dev", nonce3, w.Evidence(nonce3, kMeasurementA, false), w.key.public_key),
              Code::kPolicyDenied);

  const std::string text = Scrape();
  const auto after = Samples(text);
  // Types, as declared.
  for (const char* type : {"# TYPE sigil_http_requests_total counter", "# TYPE sigil_attestations_total counter",
                           "# TYPE sigil_releases_total counter", "# TYPE sigil_refusals_total counter",
                           "# TYPE sigil_verification_seconds histogram",
                           "# TYPE sigil_policy_evaluation_seconds histogram",
                           "# TYPE sigil_audit_commit_seconds histogram", "# TYPE sigil_open_connections gauge",
                           "# TYPE sigil_store_ready gauge", "# TYPE sigil_collateral_expiry_seconds gauge",
                           "# TYPE sigil_metrics_series_dropped_total counter"}) {
    EXPECT_NE(text.find(std::string(type) + "\n"), std::string::npos) << type << "\n" << text;
  }
  // Exactly what the requests above did.
  const std::map<std::string, double> want = {
      {R"(sigil_attestations_total{tenant="acme",tee="dev"})", 2},
      {R"(sigil_releases_total{tenant="acme",tee="dev"})", 1},
      {R"(sigil_refusals_total{tenant="acme",tee="dev",action="release",reason="policy_denied"})", 1},
      {R"(sigil_refusals_total{tenant="bob",tee="dev",action="attest",reason="policy_denied"})", 1},
      {R"(sigil_http_requests_total{method="POST",route="/v1/challenge",code="200"})", 3},
      {R"(sigil_http_requests_total{method="POST",route="/v1/attest",code="200"})", 2},
      {R"(sigil_http_requests_total{method="POST",route="/v1/attest",code="403"})", 1},
      {R"(sigil_http_requests_total{method="POST",route="/v1/release",code="200"})", 1},
      {R"(sigil_http_requests_total{method="POST",route="/v1/release",code="403"})", 1},
      {R"(sigil_http_requests_total{method="GET",route="/metrics",code="200"})", 1},  // the first scrape
      {R"(sigil_verification_seconds_count{tee="dev"})", 3},
      {R"(sigil_verification_seconds_bucket{tee="dev",le="+Inf"})", 3},
      {R"(sigil_policy_evaluation_seconds_count)", 2},
      {R"(sigil_audit_commit_seconds_count{action="attest"})", 3},
      {R"(sigil_audit_commit_seconds_count{action="release"})", 1},
  };
  for (const auto& [key, n] : want) EXPECT_EQ(Delta(before, after, key), n) << key << "\n" << text;
  EXPECT_EQ(Delta(before, after, R"(sigil_refusals_total{tenant="acme",tee="dev",action="attest",reason="policy_denied"})"), 0);
  EXPECT_EQ(after.count(R"(sigil_store_ready)") ? after.at("sigil_store_ready") : -1, 1);
  EXPECT_GE(after.count("sigil_open_connections") ? after.at("sigil_open_connections") : -1, 1);
  EXPECT_GT(after.count("sigil_verification_seconds_sum{tee=\"dev\"}"), 0u);

  // Prometheus's own parser and linter accept the scrape as served.
  testing::TempDir dir;
  ASSERT_OK(WriteFileAtomic(dir.File("metrics.txt"), AsBytes(text), 0644));
  auto run = testing::Run({"/bin/sh", "-c", "exec promtool check metrics < \"$0\"", dir.File("metrics.txt")});
  EXPECT_EQ(run.exit_code, 0) << "promtool check metrics failed (is Debian's prometheus package installed? "
                                 "scripts/setup.sh): "
                              << run.out << run.err;
  EXPECT_EQ(run.out + run.err, "") << "promtool reports lint problems";
}

}  // namespace
}  // namespace sigil::integration
