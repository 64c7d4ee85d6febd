// Where the tools look for the broker, and what they say when it is not there: a data directory
// initialised with port 0 gets its real port recorded when sigild serve starts, and a broker that
// is down is reported as such (not as "send failed: uninitialized" from a half-built connection).
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "core/file_io.h"
#include "tests/integration/broker_fixture.h"
#include "tests/support/matchers.h"

namespace sigil::integration {
namespace {

using testing::BinPath;

std::string Slurp(const std::string& path) {
  auto b = ReadFile(path);
  return b ? std::string(b->begin(), b->end()) : std::string();
}

// A loopback port that nothing listens on: bound, read, closed.
int DeadPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

TEST(BrokerUrl, PortZeroIsRecordedAtServeTimeAndTheCliSaysWhatToDoBefore) {
  testing::TempDir dir;
  const std::vector<std::string> pass = {"SIGIL_ROOT_PASSPHRASE=broker-url-test-passphrase"};
  auto init = testing::Run({BinPath("sigild"), "init", "--data-dir", dir.File("d"), "--listen", "127.0.0.1:0"}, pass);
  ASSERT_EQ(init.exit_code, 0) << init.err;
  const std::vector<std::string> admin = {"SIGIL_ADMIN_DIR=" + dir.File("d") + "/admin"};
  // Before the first serve: no port yet, and the CLI says so and what to do.
  auto early = testing::Run({BinPath("sigil"), "tenant", "list"}, admin);
  EXPECT_NE(early.exit_code, 0);
  EXPECT_NE(early.err.find("port 0"), std::string::npos) << early.err;
  EXPECT_NE(early.err.find("SIGIL_BROKER_URL"), std::string::npos) << early.err;
  EXPECT_EQ(early.err.find("uninitialized"), std::string::npos) << early.err;

  testing::BackgroundProcess serve({BinPath("sigild"), "serve", "--data-dir", dir.File("d"), "--port-file", dir.File("port")},
                                   dir.File("serve.log"), pass);
  std::string port = testing::WaitForFile(dir.File("port"), 30);
  ASSERT_FALSE(port.empty()) << Slurp(dir.File("serve.log"));
  port = port.substr(0, port.find('\n'));
  EXPECT_NE(Slurp(dir.File("d") + "/admin/broker.json").find("https://127.0.0.1:" + port + "\""), std::string::npos)
      << Slurp(dir.File("d") + "/admin/broker.json");
  // Only SIGIL_ADMIN_DIR, as docs/cli.md says: the recorded port is used.
  auto create = testing::Run({BinPath("sigil"), "tenant", "create", "portzero"}, admin);
  EXPECT_EQ(create.exit_code, 0) << create.err;
  EXPECT_EQ(serve.Stop(), 0);
}

TEST(BrokerUrl, ABrokerThatIsDownIsReportedAsUnreachable) {
  auto& env = BrokerEnv::Get();
  const int port = DeadPort();
  ASSERT_GT(port, 0);
  const std::string url = "https://127.0.0.1:" + std::to_string(port);
  testing::TempDir dir;
  auto pub = env.Sigil({"key", "public", "acme/model"});
  ASSERT_EQ(pub.exit_code, 0) << pub.err;
  ASSERT_OK(WriteFileAtomic(dir.File("k.pub"), AsBytes(pub.out), 0644));
  ASSERT_OK(WriteFileAtomic(dir.File("w.bin"), AsBytes(std::string(1000, 'w')), 0600));
  auto enc = env.Sigil({"model", "encrypt", "--recipient", dir.File("k.pub"), dir.File("w.bin"), dir.File("w.sgl")});
  ASSERT_EQ(enc.exit_code, 0) << enc.err;
  auto load = testing::Run({BinPath("sigil-load"), "cat", "--broker", url, "--ca", env.ca(), "--tenant", "acme",
                            "--dev-platform-key", env.data_dir() + "/dev/platform.key", "--measure", BinPath("sigil-infer"),
                            dir.File("w.sgl")});
  EXPECT_NE(load.exit_code, 0);
  EXPECT_NE(load.err.find("cannot connect to the broker at 127.0.0.1:" + std::to_string(port)), std::string::npos) << load.err;
  EXPECT_NE(load.err.find("refused"), std::string::npos) << load.err;
  EXPECT_EQ(load.err.find("uninitialized"), std::string::npos) << load.err;
  EXPECT_TRUE(load.out.empty());
  auto cli = testing::Run({BinPath("sigil"), "--admin-dir", env.admin_dir(), "--broker", url, "tenant", "list"});
  EXPECT_NE(cli.exit_code, 0);
  EXPECT_NE(cli.err.find("refused"), std::string::npos) << cli.err;
  EXPECT_EQ(cli.err.find("uninitialized"), std::string::npos) << cli.err;
}

}  // namespace
}  // namespace sigil::integration
