// The sandbox configuration is part of the dev-TEE measurement end to end: an engine approved
// under the default sandbox gets no key when started with --no-network until the measurement
// `sigil-load measure --no-network` prints is approved too; then the engine runs under the
// stricter filter (the hostile probe's INET socket fails with EPERM).
#include <fstream>
#include <map>

#include "core/file_io.h"
#include "enclave/measurement.h"
#include "tests/integration/broker_fixture.h"
#include "tests/support/matchers.h"

namespace sigil::integration {
namespace {

using testing::BinPath;

std::string Measure(const std::vector<std::string>& flags) {
  std::vector<std::string> argv{BinPath("sigil-load"), "measure", "--engine", BinPath("sigil-sandbox-probe")};
  argv.insert(argv.end(), flags.begin(), flags.end());
  auto m = sigil::testing::Run(argv);
  EXPECT_EQ(m.exit_code, 0) << m.err;
  return m.out.substr(0, m.out.find('\n'));
}

TEST(SandboxMeasurement, NoNetworkEngineNeedsItsOwnApprovedMeasurement) {
  auto& env = BrokerEnv::Get();
  sigil::testing::TempDir dir;
  ASSERT_OK(WriteFileAtomic(dir.File("model.bin"), AsBytes(std::string("any file type works")), 0600));
  auto pub = env.Sigil({"key", "public", "acme/model"});
  ASSERT_EQ(pub.exit_code, 0) << pub.err;
  ASSERT_OK(WriteFileAtomic(dir.File("model.pub"), AsBytes(pub.out), 0644));
  ASSERT_EQ(env.Sigil({"model", "encrypt", "--recipient", dir.File("model.pub"), dir.File("model.bin"), dir.File("model.sgl")})
                .exit_code, 0);

  std::string plain = Measure({}), no_net = Measure({"--no-network"});
  ASSERT_EQ(plain.size(), 96u);
  ASSERT_EQ(no_net.size(), 96u);
  EXPECT_NE(plain, no_net);
  EXPECT_NE(Measure({"--host-network"}), plain);
  ASSERT_OK_AND_ASSIGN(std::string unsandboxed, enclave::MeasureEngine(BinPath("sigil-sandbox-probe"), ""));
  EXPECT_EQ(Measure({"--in-process"}), unsandboxed);
  EXPECT_NE(unsandboxed, plain);
  auto both = sigil::testing::Run({BinPath("sigil-load"), "measure", "--engine", BinPath("sigil-sandbox-probe"),
                                   "--in-process", "--no-network"});
  EXPECT_NE(both.exit_code, 0);
  EXPECT_NE(both.err.find("--in-process takes no sandbox flags"), std::string::npos) << both.err;
  ASSERT_EQ(env.Sigil({"refs", "add", "acme", "engines", plain}).exit_code, 0);

  std::vector<std::string> run{BinPath("sigil-load"), "run", "--broker", env.url(), "--ca", env.ca(), "--tenant", "acme",
                               "--dev-platform-key", env.data_dir() + "/dev/platform.key", "--model", dir.File("model.sgl"),
                               "--no-network", "--", BinPath("sigil-sandbox-probe"), "--out", dir.File("report"),
                               "--model", "{model}"};
  auto refused = sigil::testing::Run(run);
  EXPECT_EQ(refused.exit_code, 4) << refused.err;
  EXPECT_NE(refused.err.find("policy_denied"), std::string::npos) << refused.err;

  ASSERT_EQ(env.Sigil({"refs", "add", "acme", "engines", no_net}).exit_code, 0);
  auto ok = sigil::testing::Run(run);
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  std::map<std::string, std::string> report;
  std::ifstream in(dir.File("report"));
  for (std::string line; std::getline(in, line);) report[line.substr(0, line.find('='))] = line.substr(line.find('=') + 1);
  EXPECT_EQ(report["socket_inet"], "EPERM");
  EXPECT_EQ(report["socket_unix"], "OK");
  EXPECT_EQ(report["ptrace_traceme"], "EPERM");
  EXPECT_EQ(report["model_bytes"], "19");
}

}  // namespace
}  // namespace sigil::integration
