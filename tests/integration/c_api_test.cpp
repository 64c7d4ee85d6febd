// The C API (loader/c_api/sigil_load.h) through its example program, examples/c_api/load_model.c,
// against the real broker: the example attests with its own measurement (a program linking
// Sigil is its own engine, not started in sigil-load's sandbox, so the sandbox configuration it
// reports is empty), receives the key and prints the size and SHA-256 of the sealed memfd it got,
// which must be those of the plaintext. A tampered container and an unapproved program fail with
// the documented codes and no output.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include "core/digest.h"
#include "core/encoding.h"
#include "core/file_io.h"
#include "enclave/measurement.h"
#include "loader/c_api/sigil_load.h"
#include "tests/integration/broker_fixture.h"
#include "tests/support/matchers.h"

namespace sigil::integration {
namespace {

using testing::BinPath;

class CApi : public ::testing::Test {
 protected:
  void SetUp() override {
    auto& env = BrokerEnv::Get();
    auto pub = env.Sigil({"key", "public", "acme/model"});
    ASSERT_OK(WriteFileAtomic(dir_.File("k.pub"), AsBytes(pub.out), 0644));
    auto mk = sigil::testing::Run({BinPath("sigil-infer"), "make-weights", dir_.File("w.safetensors"), "--seed", "4"});
    ASSERT_EQ(mk.exit_code, 0) << mk.err;
    auto enc = env.Sigil({"model", "encrypt", "--recipient", dir_.File("k.pub"), dir_.File("w.safetensors"), dir_.File("w.sgl")});
    ASSERT_EQ(enc.exit_code, 0) << enc.err;
  }
  testing::CommandResult Example(const std::string& model) {
    auto& env = BrokerEnv::Get();
    return sigil::testing::Run({BinPath("sigil-c-example"), env.url(), env.ca(), "acme",
                                env.data_dir() + "/dev/platform.key", model});
  }
  void Approve() {
    // What an operator would run: sigil-load measure --in-process must print exactly the
    // measurement the C API reports, or the example below is refused.
    auto m = sigil::testing::Run({BinPath("sigil-load"), "measure", "--engine", BinPath("sigil-c-example"), "--in-process"});
    ASSERT_EQ(m.exit_code, 0) << m.err;
    std::string measurement = m.out.substr(0, m.out.find('\n'));
    ASSERT_OK_AND_ASSIGN(std::string library, enclave::MeasureEngine(BinPath("sigil-c-example"), ""));
    EXPECT_EQ(measurement, library);
    ASSERT_EQ(BrokerEnv::Get().Sigil({"refs", "add", "acme", "engines", measurement}).exit_code, 0);
  }
  testing::TempDir dir_;
};

TEST_F(CApi, ExampleLoadsTheModelThroughTheCApi) {
  Approve();
  ASSERT_OK_AND_ASSIGN(Bytes plain, ReadFile(dir_.File("w.safetensors")));
  auto got = Example(dir_.File("w.sgl"));
  ASSERT_EQ(got.exit_code, 0) << got.err;
  EXPECT_EQ(got.out, "size: " + std::to_string(plain.size()) + "\nsha256: " + HexEncode(Sha256(plain)) + "\n");
}

TEST_F(CApi, TamperedContainerFailsWithTheDeniedCode) {
  Approve();
  ASSERT_OK_AND_ASSIGN(Bytes sgl, ReadFile(dir_.File("w.sgl")));
  sgl[sgl.size() - 30] ^= 0x01;
  ASSERT_OK(WriteFileAtomic(dir_.File("w.sgl"), sgl, 0600));
  auto got = Example(dir_.File("w.sgl"));
  EXPECT_EQ(got.exit_code, 4) << got.err;  // SIGIL_LOAD_DENIED
  EXPECT_TRUE(got.out.empty());
  EXPECT_NE(got.err.find("chunk"), std::string::npos) << got.err;
}

TEST_F(CApi, MissingModelFailsWithTheInvalidArgumentCode) {
  auto got = Example(dir_.File("absent.sgl"));
  EXPECT_EQ(got.exit_code, 2) << got.err;  // SIGIL_LOAD_INVALID_ARGUMENT
  EXPECT_TRUE(got.out.empty());
}

// Direct calls: argument errors come back as codes and bounded messages, outputs reset.
// Every byte of the file open at `fd`, from offset 0 (pread: the fd's offset is not moved).
Bytes ReadAllOf(int fd) {
  Bytes out;
  std::uint8_t buf[1 << 14];
  for (ssize_t n; (n = ::pread(fd, buf, sizeof buf, static_cast<off_t>(out.size()))) > 0;) out.insert(out.end(), buf, buf + n);
  return out;
}

// In process: the weights are there until sigil_unload_model, which zeroes them for every
// other view of the memfd (here a dup the test keeps) and closes the caller's fd.
TEST_F(CApi, UnloadWipesTheWeightsForEveryView) {
  Approve();
  auto& env = BrokerEnv::Get();
  const std::string ca = env.ca(), url = env.url(), key = env.data_dir() + "/dev/platform.key";
  const std::string model = dir_.File("w.sgl"), measured = BinPath("sigil-c-example");
  sigil_load_options opts{};
  opts.broker_url = url.c_str();
  opts.ca_file = ca.c_str();
  opts.tenant = "acme";
  opts.dev_platform_key = key.c_str();
  opts.model = model.c_str();
  opts.measure_binary = measured.c_str();  // approved above; this test binary is not
  int fd = -1;
  std::uint64_t size = 0;
  char err[512] = {};
  ASSERT_EQ(sigil_load_model(&opts, &fd, &size, err, sizeof err), SIGIL_LOAD_OK) << err;
  ASSERT_OK_AND_ASSIGN(Bytes plain, ReadFile(dir_.File("w.safetensors")));
  ASSERT_EQ(size, plain.size());
  int view = ::dup(fd);
  ASSERT_GE(view, 0);
  EXPECT_EQ(ReadAllOf(view), plain);
  EXPECT_EQ(sigil_unload_model(fd), SIGIL_LOAD_OK);
  EXPECT_EQ(::fcntl(fd, F_GETFD), -1) << "the caller's fd is closed by unload";
  Bytes after = ReadAllOf(view);
  EXPECT_EQ(after.size(), plain.size());
  EXPECT_TRUE(std::all_of(after.begin(), after.end(), [](std::uint8_t b) { return b == 0; })) << "weights survived unload";
  EXPECT_EQ(sigil_unload_model(view), SIGIL_LOAD_INVALID_ARGUMENT) << "already unloaded";
  EXPECT_EQ(::fcntl(view, F_GETFD), 0) << "a refused unload leaves the fd open";
  ::close(view);
  EXPECT_EQ(sigil_unload_model(-1), SIGIL_LOAD_INVALID_ARGUMENT);
}

TEST(CApiDirect, BadArgumentsGiveACodeAndATruncatedMessage) {
  int fd = 7;
  std::uint64_t size = 9;
  char err[16];
  EXPECT_EQ(sigil_load_model(nullptr, &fd, &size, err, sizeof err), SIGIL_LOAD_INVALID_ARGUMENT);
  EXPECT_EQ(fd, -1);
  EXPECT_EQ(size, 0u);
  EXPECT_EQ(std::string(err), std::string("sigil_load_model: opts").substr(0, sizeof err - 1));
  sigil_load_options opts{};
  opts.broker_url = "https://127.0.0.1:1";
  EXPECT_EQ(sigil_load_model(&opts, &fd, &size, nullptr, 0), SIGIL_LOAD_INVALID_ARGUMENT);  // no ca/tenant/model
}

}  // namespace
}  // namespace sigil::integration
