// `sigild serve` configured as operators do: a TOML file (--config, section [serve]) with
// environment overrides (SIGILD_<OPTION>) and the command line above both; unknown keys are
// refused; and the shipped systemd unit (packaging/sigild.service) passes systemd-analyze verify.
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "core/file_io.h"
#include "net/https_client.h"
#include "tests/integration/broker_fixture.h"
#include "tests/support/matchers.h"

namespace sigil::integration {
namespace {

class ServeConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    auto init = testing::Run({testing::BinPath("sigild"), "init", "--data-dir", dir_.File("d"), "--dev-root-key",
                              "--listen", "127.0.0.1:0"});
    ASSERT_EQ(init.exit_code, 0) << init.err;
    // The documented example's keys, with a rate low enough to see: burst 2 from one address.
    ASSERT_OK(WriteFileAtomic(dir_.File("sigild.toml"),
                              AsBytes("[serve]\ndata-dir = \"" + dir_.File("d") + "\"\nlisten = \"127.0.0.1:0\"\n"
                                      "port-file = \"" + dir_.File("port") + "\"\nhandler-threads = 4\n"
                                      "unauth-rate-per-address = 1\n"),
                              0644));
  }

  // Starts sigild with the config, the environment and the extra arguments; then counts how
  // many of 6 quick challenges (for a tenant that does not exist: the limit comes first) were 429.
  int Limited(const std::vector<std::string>& env, const std::vector<std::string>& extra = {}) {
    std::filesystem::remove(dir_.File("port"));
    std::vector<std::string> argv = {testing::BinPath("sigild"), "--config", dir_.File("sigild.toml"), "serve"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    testing::BackgroundProcess sigild(argv, dir_.File("sigild.log"), env);
    std::string port = testing::WaitForFile(dir_.File("port"), 20);
    EXPECT_FALSE(port.empty()) << "sigild did not start from its config file";
    if (port.empty()) return -1;
    auto http = net::HttpsClient::Create("https://127.0.0.1:" + port.substr(0, port.find('\n')),
                                         {dir_.File("d") + "/admin/ca.pem", std::nullopt, std::nullopt});
    EXPECT_TRUE(http.has_value());
    int limited = 0;
    for (int i = 0; i < 6; ++i) {
      auto r = (*http)->Send("POST", "/v1/challenge", R"({"tenant":"nobody","tee":"dev"})");
      limited += r && r->status == 429;
    }
    EXPECT_EQ(sigild.Stop(), 0);
    return limited;
  }

  testing::TempDir dir_;
};

TEST_F(ServeConfig, FileThenEnvironmentThenCommandLine) {
  EXPECT_GE(Limited({}), 3) << "the file's rate (1/s, burst 2) was not applied";
  EXPECT_EQ(Limited({"SIGILD_UNAUTH_RATE_PER_ADDRESS=0"}), 0) << "the environment did not override the file";
  EXPECT_GE(Limited({"SIGILD_UNAUTH_RATE_PER_ADDRESS=0"}, {"--unauth-rate-per-address", "1"}), 3)
      << "the command line did not override the environment";
}

// The workload client (net::BrokerClient, used by sigil-load and the C API) waits what a 429's
// Retry-After asks and sends again, so a short burst over the limit costs time, not a failure.
TEST_F(ServeConfig, TheWorkloadClientWaitsOutA429) {
  testing::BackgroundProcess sigild({testing::BinPath("sigild"), "--config", dir_.File("sigild.toml"), "serve"},
                                    dir_.File("sigild.log"));
  std::string port = testing::WaitForFile(dir_.File("port"), 20);
  ASSERT_FALSE(port.empty());
  auto client = net::BrokerClient::Connect("https://127.0.0.1:" + port.substr(0, port.find('\n')),
                                           dir_.File("d") + "/admin/ca.pem");
  ASSERT_TRUE(client.has_value());
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 4; ++i) {  // burst 2 at 1/s: the third and fourth wait
    auto r = (*client)->Challenge("nobody", "dev");
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), Code::kNotFound) << i << ": " << r.error().message();
  }
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
  EXPECT_EQ(sigild.Stop(), 0);
}

TEST_F(ServeConfig, UnknownKeysAndBadValuesAreRefusedNamingThem) {
  ASSERT_OK(WriteFileAtomic(dir_.File("bad.toml"), AsBytes("[serve]\ndata-dir = \"x\"\nhandler-thread = 4\n"), 0644));
  auto r = testing::Run({testing::BinPath("sigild"), "--config", dir_.File("bad.toml"), "serve"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE((r.out + r.err).find("handler-thread"), std::string::npos) << r.out << r.err;
  auto bad_env = testing::Run({testing::BinPath("sigild"), "--config", dir_.File("sigild.toml"), "serve"},
                              {"SIGILD_HANDLER_THREADS=lots"});
  EXPECT_NE(bad_env.exit_code, 0);
  EXPECT_NE((bad_env.out + bad_env.err).find("handler-threads"), std::string::npos) << bad_env.out << bad_env.err;
}

// The shipped unit and example config: systemd's own checker accepts the unit (with ExecStart
// pointed at this build), and the example config names only options sigild knows.
TEST(Packaging, SystemdUnitVerifiesAndTheExampleConfigParses) {
  testing::TempDir dir;
  std::ifstream in(std::string(SIGIL_SOURCE_DIR) + "/packaging/sigild.service");
  std::stringstream unit;
  unit << in.rdbuf();
  std::string text = unit.str();
  ASSERT_NE(text.find("ExecStart=/usr/local/bin/sigild "), std::string::npos);
  for (const char* hardening : {"NoNewPrivileges=yes", "ProtectSystem=strict", "MemoryDenyWriteExecute=yes",
                                "LimitMEMLOCK=", "LimitCORE=0"}) {
    EXPECT_NE(text.find(hardening), std::string::npos) << hardening;
  }
  text.replace(text.find("/usr/local/bin/sigild"), 21, testing::BinPath("sigild"));
  ASSERT_OK(WriteFileAtomic(dir.File("sigild.service"), AsBytes(text), 0644));
  auto verify = testing::Run({"/usr/bin/systemd-analyze", "verify", dir.File("sigild.service")});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_EQ(verify.err.find("sigild.service:"), std::string::npos) << verify.err;
  // The example config, with only the data directory pointed somewhere that does not exist: it
  // parses (every key is an option) and fails only on opening that directory.
  std::ifstream ex(std::string(SIGIL_SOURCE_DIR) + "/packaging/sigild.toml");
  std::stringstream example;
  example << ex.rdbuf();
  std::string conf = example.str();
  conf.replace(conf.find("/var/lib/sigil"), 14, dir.File("missing"));
  ASSERT_OK(WriteFileAtomic(dir.File("sigild.toml"), AsBytes(conf), 0644));
  auto r = testing::Run({testing::BinPath("sigild"), "--config", dir.File("sigild.toml"), "serve"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find(dir.File("missing")), std::string::npos) << r.out << r.err;
}

}  // namespace
}  // namespace sigil::integration
