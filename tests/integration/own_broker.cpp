#include "tests/integration/own_broker.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "attestation/dev/platform_key.h"
#include "core/encoding.h"
#include "core/file_io.h"
#include "core/json.h"
#include "net/https_client.h"
#include "tests/integration/broker_fixture.h"

namespace sigil::integration {

void OwnBroker::Start(const std::vector<std::string>& serve_options) {
  auto init = testing::Run({testing::BinPath("sigild"), "init", "--data-dir", dir_.File("d"), "--dev-root-key",
                            "--dev-tee", "--listen", "127.0.0.1:0"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  std::vector<std::string> argv{testing::BinPath("sigild"), "serve", "--data-dir", dir_.File("d"), "--port-file",
                                dir_.File("port"), "--unauth-rate-per-address", "0", "--unauth-rate-per-tenant", "0"};
  argv.insert(argv.end(), serve_options.begin(), serve_options.end());
  sigild_ = std::make_unique<testing::BackgroundProcess>(argv, dir_.File("sigild.log"));
  std::string port = testing::WaitForFile(dir_.File("port"), 20);
  ASSERT_FALSE(port.empty()) << "sigild did not start: " << log();
  port_ = static_cast<unsigned short>(std::stoi(port));
  url_ = "https://127.0.0.1:" + std::to_string(port_);
  ASSERT_TRUE(WriteFileAtomic(dir_.File("policy.json"), AsBytes(kAcmePolicy), 0644).has_value());
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"tenant", "create", "acme"}, {"key", "create", "acme/model"}, {"refs", "add", "acme", "engines", kMeasurementA},
           {"policy", "set", "acme", dir_.File("policy.json")}}) {
    auto r = Sigil(args);
    ASSERT_EQ(r.exit_code, 0) << args[0] << " " << args[1] << ": " << r.err;
  }
  auto pub = Sigil({"key", "public", "acme/model"});
  auto j = ParseJson(pub.out, "key public");
  ASSERT_TRUE(j.has_value()) << pub.err;
  auto key = Base64UrlDecode(j->value("public_key", ""));
  ASSERT_TRUE(key.has_value());
  model_key_ = *key;
  auto kp = attestation::dev::LoadDevPlatformKey(dir_.File("d") + "/dev/platform.key");
  ASSERT_TRUE(kp.has_value());
  seed_ = std::move(kp->seed);
}

OwnBroker::~OwnBroker() {
  if (sigild_) {
    EXPECT_EQ(Stop(), 0) << "sigild did not shut down cleanly on SIGTERM";
  }
}

int OwnBroker::Stop() {
  if (!sigild_) return -1;
  const int status = sigild_->Stop();
  sigild_.reset();
  return status;
}

std::string OwnBroker::log() const {
  std::ifstream in(dir_.File("sigild.log"), std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

testing::CommandResult OwnBroker::Sigil(std::vector<std::string> args) const {
  args.insert(args.begin(), {testing::BinPath("sigil"), "--admin-dir", admin_dir(), "--broker", url_});
  return testing::Run(args);
}

std::string OwnBroker::ScrapeMetrics() const {
  auto c = net::HttpsClient::Create(url_, {ca(), admin_dir() + "/admin.pem", admin_dir() + "/admin.key"});
  if (!c) return "";
  auto r = (*c)->Send("GET", "/metrics", "");
  return r && r->status == 200 ? r->body : "";
}

}  // namespace sigil::integration
